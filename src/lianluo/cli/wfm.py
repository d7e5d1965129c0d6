"""`lianluo wfm …` commands (owned by the WFM work; placeholder until it lands)."""

import typer

app = typer.Typer(no_args_is_help=True)
