"""The `lianluo` command line."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from lianluo.cli import reports as reports_cli
from lianluo.cli import tickets as tickets_cli
from lianluo.cli import wfm as wfm_cli
from lianluo.config import ConfigurationError, get_settings

app = typer.Typer(help="Lianluo (联络) contact-center platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(wfm_cli.app, name="wfm", help="Workforce management: forecast, staff, schedule.")
app.add_typer(reports_cli.app, name="reports", help="Reports: e-mail the saved reports due.")
app.add_typer(tickets_cli.app, name="tickets", help="Tickets: the SLA sweep.")
try:
    from lianluo.cli import sim as sim_cli

    app.add_typer(sim_cli.app, name="sim", help="Digital twin: simulate the center.")
except ImportError:  # pragma: no cover - the simulator is optional while it is being built
    pass
from lianluo.cli import voice as voice_cli  # noqa: E402

app.add_typer(voice_cli.app, name="voice", help="Voice channel: SIP worker and agent phones.")

console = Console()
err = Console(stderr=True)


def _settings():  # type: ignore[no-untyped-def]
    try:
        return get_settings()
    except ConfigurationError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Migrate the database up (to the newest schema by default)."""
    from lianluo.db import migrate

    settings = _settings()
    migrate.upgrade(settings.database_url, revision)
    console.print(f"database at revision [bold]{migrate.current(settings.database_url)}[/bold]")


@db_app.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument("-1", help="target revision, e.g. -1 or base"),
) -> None:
    """Migrate the database down (one step by default)."""
    from lianluo.db import migrate

    settings = _settings()
    migrate.downgrade(settings.database_url, revision)
    console.print(f"database at revision [bold]{migrate.current(settings.database_url)}[/bold]")


@users_app.command("create")
def users_create(
    username: str = typer.Argument(..., help="login name (globally unique)"),
    tenant: str = typer.Option(..., "--tenant", help="tenant slug"),
    role: list[str] = typer.Option(["agent"], "--role", help="repeat for several roles"),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="password"
    ),
    display_name: str | None = typer.Option(None, help="shown in the UI"),
    partner: str | None = typer.Option(None, help="partner code, for partner users"),
    superuser: bool = typer.Option(False, help="platform operator (administers tenants)"),
) -> None:
    """Create a user in a tenant."""
    from sqlalchemy import select

    from lianluo.db.engine import make_engine, make_sessionmaker, unit_of_work
    from lianluo.errors import AppError
    from lianluo.models import Partner, Tenant
    from lianluo.users.service import create_user

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            tenant_row = session.execute(select(Tenant).where(Tenant.slug == tenant)).scalar()
            if tenant_row is None:
                err.print(f"[red]no tenant with slug {tenant!r}[/red]")
                raise typer.Exit(1)
            partner_id = None
            if partner:
                partner_row = session.execute(
                    select(Partner).where(
                        Partner.tenant_id == tenant_row.id, Partner.code == partner
                    )
                ).scalar()
                if partner_row is None:
                    err.print(f"[red]no partner {partner!r} in tenant {tenant!r}[/red]")
                    raise typer.Exit(1)
                partner_id = partner_row.id
            try:
                user = create_user(
                    session,
                    tenant_row.id,
                    username,
                    password,
                    role,
                    display_name=display_name,
                    partner_id=partner_id,
                    is_superuser=superuser,
                )
            except AppError as exc:
                err.print(f"[red]{exc.message}[/red]")
                raise typer.Exit(1) from None
            console.print(f"created user [bold]{user.username}[/bold] ({', '.join(role)})")
    finally:
        engine.dispose()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, min=1, max=64, help="worker processes"),
    upgrade: bool = typer.Option(True, help="apply pending migrations first"),
) -> None:
    """Run the HTTP server."""
    settings = _settings()
    if upgrade:
        from lianluo.db import migrate

        migrate.upgrade(settings.database_url)
    _run_server(host, port, workers)


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, min=1, max=64, help="worker processes"),
    seed_only: bool = typer.Option(False, "--seed-only", help="seed and exit, do not serve"),
) -> None:
    """Create (if needed) and seed a demo tenant, then serve it. Safe to run again."""
    from lianluo.db import migrate
    from lianluo.db.engine import make_engine, make_sessionmaker, unit_of_work
    from lianluo.demo.seed import seed_demo

    settings = _settings()
    console.print(f"database: {_redact(settings.database_url)}")
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with console.status("seeding the demo tenant (first run takes a little while)…"):
            with unit_of_work(make_sessionmaker(engine)) as session:
                info = seed_demo(session)
    finally:
        engine.dispose()
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    console.print(f"\n[bold green]Lianluo demo[/bold green] at {url}  (API docs: {url}/docs)")
    from rich.table import Table

    table = Table("username", "password", "role", title="demo logins")
    groups: dict[tuple[str, str], list[str]] = {}
    for login in info.logins:
        groups.setdefault((login.role, login.password), []).append(login.username)
    for (role, password), names in groups.items():
        shown = names[0] if len(names) == 1 else f"{names[0]} … {names[-1]} ({len(names)})"
        table.add_row(shown, password, role)
    console.print(table)
    if seed_only:
        return
    _run_server(host, port, workers)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url


def _run_server(host: str, port: int, workers: int) -> None:
    import uvicorn

    os.environ.setdefault("LIANLUO_SERVE", "1")
    uvicorn.run(
        "lianluo.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=get_settings().log_level,
        proxy_headers=False,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        # uvicorn kills a worker that does not answer its health ping within 5 s; a worker
        # still importing the app on a loaded 2-core machine can take longer, and the
        # supervisor then kills and restarts workers in a loop, serving nothing.
        timeout_worker_healthcheck=60,
        # chat frames are a few hundred bytes: compressing each cost more CPU than it saved
        # bytes, with thousands of sockets open (bench/chat.py)
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":  # pragma: no cover
    app()
