"""The `ecom` command: everything a user runs locally. Each concern adds a sub-command module."""

from __future__ import annotations

import typer

from local_platform.commands import (
    batch,
    collector,
    dashboards,
    db,
    demo,
    generate,
    kafka,
    ml,
    simulate,
    smoke,
    stream,
)
from local_platform.logs import configure_logging

app = typer.Typer(
    help="Run the e-commerce analytics platform on one machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(kafka.app, name="kafka")
app.add_typer(stream.app, name="stream")
app.command("generate")(generate.generate)
app.command("demo")(demo.demo)
app.command("simulate")(simulate.simulate)
app.add_typer(collector.app, name="collector")
app.add_typer(collector.app, name="api")  # the same server; "collector" is its first name
app.add_typer(batch.app, name="batch")
app.add_typer(ml.app, name="ml")
app.add_typer(dashboards.app, name="dashboards")
app.command("smoke")(smoke.smoke)


@app.callback()
def _log_to_stderr() -> None:
    # Every entry point (ecom, scripts/, tests) runs this before its command.
    configure_logging()


def main() -> None:
    app()
