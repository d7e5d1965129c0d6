"""The `lianluo` command line."""

import typer

from lianluo.cli import wfm as wfm_cli

app = typer.Typer(help="Lianluo (联络) contact-center platform.", no_args_is_help=True)
app.add_typer(wfm_cli.app, name="wfm", help="Workforce management: forecast, staff, schedule.")


if __name__ == "__main__":  # pragma: no cover
    app()
