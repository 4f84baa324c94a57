"""The ``ecert`` command: parse, call the library, render, exit 0 / 1 / 2."""

from __future__ import annotations

import typer

from cli import bundle_cmd, chain_cmd, demo, issuer_cmd, network_cmd, verifier_cmd, wallet_cmd

app = typer.Typer(
    name="ecert",
    help="ecert: electronic certificates sealed, anchored on a consortium chain, verifiable "
    "across provinces.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(chain_cmd.app, name="chain")
app.command(name="demo")(demo.run)
app.command(name="issue")(issuer_cmd.issue)
app.command(name="status")(issuer_cmd.status)
app.command(name="revoke")(issuer_cmd.revoke)
app.add_typer(issuer_cmd.token_app, name="token")
app.add_typer(issuer_cmd.audit_app, name="audit")
app.add_typer(issuer_cmd.trust_app, name="trust")
app.add_typer(issuer_cmd.pki_app, name="pki")
issuer_cmd.serve_app.command("verifier")(verifier_cmd.serve_verifier)
issuer_cmd.serve_app.command("wallet")(wallet_cmd.serve_wallet)
app.add_typer(issuer_cmd.serve_app, name="serve")
app.command(name="verify")(verifier_cmd.verify)
app.add_typer(bundle_cmd.app, name="bundle")
app.add_typer(network_cmd.app, name="network")
app.add_typer(wallet_cmd.app, name="wallet")

if __name__ == "__main__":
    app()
