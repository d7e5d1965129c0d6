"""`lianluo tickets …`: the SLA sweep from cron or by hand."""

from __future__ import annotations

import json
from datetime import datetime

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("sweep")
def sweep(
    tenant: str | None = typer.Option(
        None, "--tenant", help="tenant slug; all tenants if left out"
    ),
    at: str | None = typer.Option(
        None, "--at", help="pretend it is this ISO time (with offset), e.g. for a replay"
    ),
) -> None:
    """Warn before SLA breaches and escalate breached tickets (what the server does each minute).
    Prints the counts as JSON."""
    from sqlalchemy import select

    from lianluo.cli.main import _settings
    from lianluo.db.engine import make_engine, make_sessionmaker
    from lianluo.models import Tenant
    from lianluo.tickets.tasks import sweep_once

    now = None
    if at:
        now = datetime.fromisoformat(at)
        if now.tzinfo is None:
            raise typer.BadParameter("--at needs a UTC offset, e.g. 2026-11-23T09:00:00+08:00")
    settings = _settings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        sessions = make_sessionmaker(engine)
        tenant_id = None
        if tenant:
            with sessions() as session:
                tenant_id = session.execute(
                    select(Tenant.id).where(Tenant.slug == tenant)
                ).scalar_one_or_none()
            if tenant_id is None:
                typer.echo(f"no tenant with slug {tenant!r}", err=True)
                raise typer.Exit(2)
        result = sweep_once(sessions, now=now, tenant_id=tenant_id)
        typer.echo(json.dumps(result.model_dump()))
    finally:
        engine.dispose()
