"""`lianluo reports ...`: saved reports e-mailed on a schedule."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command("send-due")
def send_due() -> None:
    """E-mail every saved report that is due (run it from cron, e.g. every 5 minutes)."""
    from lianluo.config import get_settings
    from lianluo.db.base import utcnow
    from lianluo.db.engine import make_engine, make_sessionmaker
    from lianluo.reports.scheduler import send_due as run

    settings = get_settings()
    if not settings.smtp_host:
        console.print("[red]LIANLUO_SMTP_HOST is not set: no e-mail can be sent[/red]")
        raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    try:
        sent = run(make_sessionmaker(engine), settings, utcnow())
    finally:
        engine.dispose()
    console.print(f"sent {sent} saved report(s)")
