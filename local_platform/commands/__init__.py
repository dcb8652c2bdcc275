"""One module per `ecom` sub-command group; each exposes a typer app or a command function."""
