"""create_app(): assembles settings, database, event bus, routers and the error mapping."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

import lianluo
from lianluo.auth.ratelimit import LoginRateLimiter
from lianluo.auth.tokens import TokenCodec
from lianluo.config import Settings, get_settings
from lianluo.customers.view360_pg import VIEW_CONNECTIONS, open_view_connections
from lianluo.db.engine import make_engine, make_sessionmaker
from lianluo.deps import AppContext
from lianluo.errors import AppError, TooManyRequests
from lianluo.events.service import BUS_KEY, install_publisher
from lianluo.runtime.bus import EventBus

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def build_context(settings: Settings) -> AppContext:
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    bus = EventBus(redis_url=settings.redis_url, nats_url=settings.nats_url)
    sessions = make_sessionmaker(engine)
    sessions.configure(info={BUS_KEY: bus})
    install_publisher(sessions)
    redis_client = None
    if settings.redis_url:
        import redis

        redis_client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        tokens=TokenCodec(settings.effective_secret_key(), settings.token_ttl_s),
        login_limiter=LoginRateLimiter(
            settings.login_max_failures, settings.login_window_s, redis=redis_client
        ),
        bus=bus,
        extras={},
    )


def create_app(settings: Settings | None = None, context: AppContext | None = None) -> FastAPI:
    settings = settings or (context.settings if context else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Background loops of served processes, stopped in reverse order at shutdown. Each is
        # started only where it applies (LIANLUO_SERVE=1 is set by `lianluo serve`; tests opt
        # in through ctx.extras).
        ctx = app.state.ctx
        served = os.environ.get("LIANLUO_SERVE") == "1"
        loops: list[Any] = []
        # --- routing: the router loop (runtime/router.py) ---
        if served or ctx.extras.get("router_loop"):
            from lianluo.runtime.router import RouterLoop, runtime_of

            loops.append(RouterLoop(runtime_of(ctx), ctx.engine))
        # --- reports: saved reports e-mailed on a schedule ---
        if served and ctx.settings.smtp_host:
            from lianluo.reports.scheduler import SchedulerLoop

            loops.append(SchedulerLoop(ctx.sessions, ctx.settings))
        # --- tickets: the SLA sweep every minute ---
        if served or ctx.extras.get("ticket_sweeper"):
            from lianluo.tickets.tasks import TicketSweeper

            loops.append(TicketSweeper(ctx.sessions))
        # --- end of loops ---
        # --- customers: the 360 view's own connections, used from the event loop ---
        views = open_view_connections(ctx.extras, ctx.sessions.kw.get("bind"))
        for loop in loops:
            loop.start()
        # --- a served process: the collector walks only what came since its last full pass
        # (full passes over thousands of chat sockets stalled every socket for 0.3-1.5 s) ---
        gc_tuner = None
        if served:
            from lianluo.runtime.gc_tuning import GcTuner

            gc_tuner = GcTuner()
            gc_tuner.install()
        try:
            yield
        finally:
            if gc_tuner is not None:
                gc_tuner.uninstall()
            # --- chat: messages still queued are stored before the loops stop ---
            from lianluo.channels.chat.writer import close_writer

            await close_writer(ctx.extras)
            for loop in reversed(loops):
                loop.stop()
            if views is not None:
                ctx.extras.pop(VIEW_CONNECTIONS, None)
                await views.close()
        if context is None:  # we built it, we close it
            app.state.ctx.bus.close()
            app.state.ctx.engine.dispose()

    app = FastAPI(
        title="Lianluo (联络) contact-center API",
        version=lianluo.__version__,
        description="Omnichannel contact-center platform: customers, routing, tickets, WFM.",
        lifespan=lifespan,
    )
    app.state.ctx = context or build_context(settings)
    _install_error_handlers(app)
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    """Every feature's API and pages; static files (plotly vendored from the package)."""
    from lianluo.admin.pages import router as admin_pages_router
    from lianluo.agents.endpoints import router as agents_router
    from lianluo.auth.endpoints import router as auth_router
    from lianluo.channels.chat.endpoints import router as chat_router
    from lianluo.channels.chat.pages import router as chat_pages_router
    from lianluo.contacts.endpoints import router as contacts_router
    from lianluo.customers.endpoints import router as customers_router
    from lianluo.events.endpoints import router as events_router
    from lianluo.kb.endpoints import router as kb_router
    from lianluo.kb.pages import router as kb_pages_router
    from lianluo.queues.endpoints import router as queues_router
    from lianluo.realtime.endpoints import router as realtime_router
    from lianluo.realtime.endpoints import socket_router as realtime_socket_router
    from lianluo.realtime.pages import router as wall_pages_router
    from lianluo.reports.endpoints import router as reports_router
    from lianluo.reports.pages import router as reports_pages_router
    from lianluo.routing.endpoints import router as routing_router
    from lianluo.tenants.endpoints import router as tenants_router
    from lianluo.tickets.endpoints import router as tickets_router
    from lianluo.tickets.pages import router as tickets_pages_router
    from lianluo.users.endpoints import router as users_router
    from lianluo.voice.endpoints import router as voice_router
    from lianluo.voice.pages import router as voice_pages_router
    from lianluo.web.pages import router as pages_router
    from lianluo.web.pages import static_files
    from lianluo.wfm.endpoints import router as wfm_router
    from lianluo.wfm.pages import router as wfm_pages_router
    from lianluo.wfm.pages import vendor_files

    app.mount("/static/vendor", vendor_files, name="vendor")
    app.mount("/static", static_files, name="static")

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": lianluo.__version__}

    # FastAPI matches a request against the included routers in order, route by route (twice:
    # to select and to handle); the customer API, the desk's most frequent calls (the 360 view
    # on every offer), comes first. Its paths are its own (/api/v1/customers/...).
    for router in (
        customers_router,
        auth_router,
        tenants_router,
        users_router,
        queues_router,
        agents_router,
        contacts_router,
        routing_router,
        events_router,
        wfm_router,  # wfm
        wfm_pages_router,  # wfm
        reports_router,  # reports
        reports_pages_router,  # reports
        tickets_router,  # tickets
        tickets_pages_router,  # tickets
        voice_router,  # voice
        voice_pages_router,  # voice
        realtime_router,  # wall
        realtime_socket_router,  # wall
        wall_pages_router,  # wall
        admin_pages_router,  # wall
        chat_router,  # chat
        chat_pages_router,  # chat
        kb_router,  # kb
        kb_pages_router,  # kb
        pages_router,
    ):
        app.include_router(router)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_request: Request, exc: AppError) -> JSONResponse:
        headers = {}
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after_s)
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "field": ".".join(str(part) for part in err.get("loc", ())),
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
        return JSONResponse(
            error_body("validation_error", f"invalid request: {summary}", details), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)

    @app.exception_handler(DataError)
    async def data_error(_request: Request, exc: DataError) -> JSONResponse:
        # e.g. a NUL character, which PostgreSQL cannot store in text or JSONB
        log.info("database refused a value: %s", exc.orig.__class__.__name__)
        return JSONResponse(
            error_body(
                "validation_error",
                "a value contains characters or a format the database cannot store "
                "(for example a NUL character)",
            ),
            422,
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_body("internal_error", "internal error; it has been logged"), 500)
