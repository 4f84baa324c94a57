"""The ``ecert`` command: parse, call the library, render, exit 0 / 1 / 2."""

from __future__ import annotations

import typer

from cli import chain_cmd, demo

app = typer.Typer(
    name="ecert",
    help="ecert: electronic certificates sealed, anchored on a consortium chain, verifiable "
    "across provinces.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(chain_cmd.app, name="chain")
app.command(name="demo")(demo.run)

if __name__ == "__main__":
    app()
