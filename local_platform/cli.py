"""The `ecom` command: everything a user runs locally. Each concern adds a sub-command module."""

from __future__ import annotations

import typer

from local_platform.commands import db, demo, generate

app = typer.Typer(
    help="Run the e-commerce analytics platform on one machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.command("generate")(generate.generate)
app.command("demo")(demo.demo)


def main() -> None:
    app()
