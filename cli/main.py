"""The ``ecert`` command: parse, call the library, render, exit 0 / 1 / 2. Whatever happens, a
person sees a line, never a stack trace (``--verbose`` shows the libraries' logs)."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from cli import (
    bundle_cmd,
    chain_cmd,
    compromise_cmd,
    demo,
    issuer_cmd,
    network_cmd,
    seal_cmd,
    verifier_cmd,
    wallet_cmd,
)
from ledger.errors import LedgerError
from ledger.logs import configure_cli

app = typer.Typer(
    name="ecert",
    help="ecert: electronic certificates sealed, anchored on a consortium chain, verifiable "
    "across provinces.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the libraries' logs, tracebacks too.")
    ] = False,
) -> None:
    configure_cli(verbose=verbose)


app.add_typer(chain_cmd.app, name="chain")
app.command(name="demo")(demo.run)
app.command(name="issue")(issuer_cmd.issue)
app.command(name="status")(issuer_cmd.status)
app.command(name="download")(issuer_cmd.download)
app.command(name="revoke")(issuer_cmd.revoke)
app.add_typer(issuer_cmd.token_app, name="token")
app.add_typer(issuer_cmd.audit_app, name="audit")
app.add_typer(issuer_cmd.trust_app, name="trust")
issuer_cmd.pki_app.command("revoke-seal")(compromise_cmd.revoke_seal)
issuer_cmd.pki_app.command("distrust-ca")(compromise_cmd.distrust_ca)
issuer_cmd.pki_app.command("issue-verifier-seal")(seal_cmd.issue_verifier_seal)
app.add_typer(issuer_cmd.pki_app, name="pki")
app.add_typer(seal_cmd.app, name="seal")
issuer_cmd.serve_app.command("verifier")(verifier_cmd.serve_verifier)
issuer_cmd.serve_app.command("wallet")(wallet_cmd.serve_wallet)
app.add_typer(issuer_cmd.serve_app, name="serve")
app.command(name="verify")(verifier_cmd.verify)
app.add_typer(bundle_cmd.app, name="bundle")
app.add_typer(network_cmd.app, name="network")
app.add_typer(wallet_cmd.app, name="wallet")


def main() -> None:
    """The console entry point: ``app`` with a last guard that turns anything unexpected into
    one line and exit code 2 (the traceback is logged at DEBUG, shown with ``--verbose``)."""
    configure_cli(verbose="--verbose" in sys.argv[1:] or "-v" in sys.argv[1:])
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except LedgerError as exc:  # a command that did not map it: the message is for people
        logging.getLogger("ecert.cli").debug("ledger error", exc_info=exc)
        sys.stderr.write(f"ecert: {exc}\n")
        sys.exit(2)
    except Exception as exc:
        logging.getLogger("ecert.cli").debug("unexpected failure", exc_info=exc)
        sys.stderr.write(
            f"ecert: unexpected error ({type(exc).__name__}); run again with --verbose for "
            "details\n"
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
