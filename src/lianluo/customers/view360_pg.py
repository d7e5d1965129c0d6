"""The customer 360 view as one PostgreSQL statement that returns the finished JSON document.

Why: the portable path (`CustomerRepository.get_with_stats` + `identities` + `timeline`, then
pydantic) costs five statements, each built, cache-keyed and compiled by SQLAlchemy, plus the
models, about 10 ms of worker CPU a view; the server answered 190 views/s on 2 cores against a
goal of 500. Here PostgreSQL assembles the document (json_build_object / json_agg) in one round
trip, and the worker passes the text through. The SQL text is built once per scope variant
(tenant or partner user) and sent with `exec_driver_sql`, so SQLAlchemy compiles nothing.

The document is the one `Customer360` describes, field for field, with the same scoping as the
repository (tests/customers/test_view360_pg.py compares both paths on PostgreSQL, partner users
included). Datetimes are written as pydantic writes aware UTC datetimes: seconds, then
`.ffffff` only when there are microseconds, then `Z`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lianluo.auth.principal import CUSTOMER_READERS, Principal
from lianluo.auth.tokens import TokenClaims
from lianluo.db.base import utcnow
from lianluo.errors import Forbidden, NotFound, Unauthorized


def _ts(expr: str) -> str:
    utc = f"({expr}) AT TIME ZONE 'UTC'"
    return (
        f"CASE WHEN ({expr}) IS NULL THEN NULL "
        f"WHEN date_trunc('second', {expr}) = ({expr}) "
        f"""THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') """
        f"""ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
    )


_PARTNER_QUEUES = "(SELECT q.id FROM queues q WHERE q.partner_id = %(partner_id)s)"


# Who looked: the audit row goes in with the view, in the same statement (a data-modifying CTE
# runs once, whether or not the SELECT reads it), and only when the customer is visible.
_AUDIT = """
audit AS (
  INSERT INTO events (tenant_id, type, occurred_at, actor_id, customer_id, partner_id, payload)
  SELECT %(tenant_id)s, 'audit.customer.viewed_360', %(now)s, %(actor_id)s, c.id,
         %(partner_id)s, '{}'::jsonb
  FROM c
  RETURNING 1
),"""

# Reading is not changing: PostgreSQL may acknowledge this transaction's commit before its WAL
# reaches the disk (as EventService.audit does for read-only audits).
_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO OFF"


@cache
def _sql(partner: bool) -> str:
    customer_scope = "cu.tenant_id = %(tenant_id)s"
    contact_scope = ""
    conversation_scope = ""
    message_scope = ""
    ticket_scope = ""
    if partner:
        ticket_scope = " AND t.partner_id = %(partner_id)s"
        customer_scope += (
            " AND (cu.partner_id = %(partner_id)s OR EXISTS (SELECT 1 FROM contacts k0"
            f" WHERE k0.customer_id = cu.id AND k0.queue_id IN {_PARTNER_QUEUES}))"
        )
        contact_scope = f" AND k.queue_id IN {_PARTNER_QUEUES}"
        conversation_scope = (
            " AND EXISTS (SELECT 1 FROM contacts k1 WHERE k1.conversation_id = v.id"
            f" AND k1.queue_id IN {_PARTNER_QUEUES})"
        )
        message_scope = (
            " AND m.contact_id IN (SELECT k2.id FROM contacts k2"
            f" WHERE k2.conversation_id = conv.id AND k2.queue_id IN {_PARTNER_QUEUES})"
        )
    return f"""
WITH c AS (
  SELECT cu.* FROM customers cu WHERE cu.id = %(customer_id)s AND {customer_scope}
),{_AUDIT}
conv AS (
  SELECT v.id, v.subject, v.status, v.started_at, v.ended_at
  FROM conversations v, c
  WHERE v.tenant_id = %(tenant_id)s AND v.customer_id = c.id{conversation_scope}
  ORDER BY v.started_at DESC, v.id DESC
  LIMIT %(conversations)s
)
SELECT json_build_object(
  'customer', json_build_object(
    'id', c.id, 'name', c.name, 'language', c.language, 'region', c.region,
    'value_tier', c.value_tier, 'attributes', c.attributes, 'tags', c.tags,
    'consents', c.consents, 'churn_risk', c.churn_risk, 'merged_into_id', c.merged_into_id,
    'created_at', {_ts("c.created_at")}, 'updated_at', {_ts("c.updated_at")}),
  'identities', COALESCE((
    SELECT json_agg(json_build_object(
      'id', i.id, 'kind', i.kind, 'value', i.value, 'verified', i.verified)
      ORDER BY i.kind, i.value)
    FROM identities i WHERE i.customer_id = c.id), '[]'::json),
  'contacts_total', (
    SELECT count(*) FROM contacts k
    WHERE k.tenant_id = %(tenant_id)s AND k.customer_id = c.id{contact_scope}),
  'last_contact_at', {
        _ts(
            "(SELECT max(k.queued_at) FROM contacts k WHERE k.tenant_id = %(tenant_id)s"
            f" AND k.customer_id = c.id{contact_scope})"
        )
    },
  'open_conversations', (
    SELECT count(*) FROM conversations o
    WHERE o.tenant_id = %(tenant_id)s AND o.customer_id = c.id AND o.status = 'open'),
  'timeline', COALESCE((
    SELECT json_agg(json_build_object(
      'id', conv.id, 'subject', conv.subject, 'status', conv.status,
      'started_at', {_ts("conv.started_at")}, 'ended_at', {_ts("conv.ended_at")},
      'contacts', COALESCE((
        SELECT json_agg(json_build_object(
          'id', k.id, 'channel', k.channel, 'direction', k.direction, 'state', k.state,
          'queue_id', k.queue_id, 'agent_id', k.agent_id,
          'queued_at', {_ts("k.queued_at")}, 'answered_at', {_ts("k.answered_at")},
          'ended_at', {_ts("k.ended_at")}, 'disposition', k.disposition)
          ORDER BY k.queued_at, k.id)
        FROM contacts k WHERE k.conversation_id = conv.id{contact_scope}), '[]'::json),
      'messages', COALESCE((
        SELECT json_agg(json_build_object(
          'id', lm.id, 'contact_id', lm.contact_id, 'sender_kind', lm.sender_kind,
          'body', lm.body, 'created_at', {_ts("lm.created_at")})
          ORDER BY lm.created_at, lm.id)
        FROM (
          SELECT m.id, m.contact_id, m.sender_kind, m.body, m.created_at
          FROM messages m WHERE m.conversation_id = conv.id{message_scope}
          ORDER BY m.created_at DESC, m.id DESC
          LIMIT %(messages)s
        ) lm), '[]'::json))
      ORDER BY conv.started_at DESC, conv.id DESC)
    FROM conv), '[]'::json),
  'tickets', COALESCE((
    SELECT json_agg(json_build_object(
      'id', lt.id, 'subject', lt.subject, 'category', lt.category, 'status', lt.status,
      'priority', lt.priority, 'repeat_complaint', lt.repeat_complaint,
      'over_the_head', lt.over_the_head, 'created_at', {_ts("lt.created_at")},
      'resolved_at', {_ts("lt.resolved_at")})
      ORDER BY lt.created_at DESC, lt.id DESC)
    FROM (
      SELECT t.id, t.subject, tc.name AS category, t.status, t.priority, t.repeat_complaint,
             t.over_the_head, t.created_at, t.resolved_at
      FROM tickets t JOIN ticket_categories tc ON tc.id = t.category_id
      WHERE t.tenant_id = %(tenant_id)s AND t.customer_id = c.id{ticket_scope}
      ORDER BY t.created_at DESC, t.id DESC
      LIMIT 50
    ) lt), '[]'::json)
)::text
FROM c
"""


@cache
def _request_sql(partner: bool) -> tuple[str, tuple[str, ...]]:
    """The whole request as one statement, with $1, $2 … placeholders and the names of the
    parameters in their order.

    The caller's users row is read in the statement (CTE `u`: active, token version as
    signed, a role that may read customers), the scope comes from that row, and the view and
    its audit row happen only when it allows them. It returns one row: (the caller's tenant,
    is a partner user, may read, the document or NULL); no valid users row gives NULLs.
    `partner` picks the statement of tenant users or of partner users; the row says which one
    the caller needed.

    A raw cursor sends it as it is: psycopg re-parses a named-parameter query this long (it
    caches only queries up to 4 KB) on every call, a fifth of the driver's time per view."""
    sql = _sql(partner)
    sql = sql.replace("%(tenant_id)s", "(SELECT u.tenant_id FROM u)")
    sql = sql.replace("%(partner_id)s", "(SELECT u.partner_id FROM u)")
    sql = sql.replace(
        "WITH c AS (",
        "WITH u AS (\n"
        "  SELECT tenant_id, partner_id, roles::jsonb ?| %(readers)s AS may_read FROM users\n"
        "  WHERE id = %(actor_id)s AND is_active AND token_version = %(token_version)s\n"
        "),\nc AS (",
        1,
    )
    scope = "NOT NULL" if partner else "NULL"
    sql = sql.replace(
        "WHERE cu.id = %(customer_id)s AND ",
        "WHERE cu.id = %(customer_id)s"
        f" AND EXISTS (SELECT 1 FROM u WHERE u.may_read AND u.partner_id IS {scope}) AND ",
        1,
    )
    head, document = sql.split("\nSELECT json_build_object(", 1)
    sql = (
        f"{head}\nSELECT u.tenant_id, u.partner_id IS NOT NULL, u.may_read,"
        f" (SELECT json_build_object({document}) FROM (SELECT 1) AS one LEFT JOIN u ON true"
    )
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql), tuple(names)


_READERS = sorted(str(role) for role in CUSTOMER_READERS)


def _params(
    principal: Principal, customer_id: str, conversations_limit: int, messages: int
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "tenant_id": principal.tenant_id,
        "partner_id": principal.partner_id,
        "actor_id": principal.user_id,
        "now": utcnow(),
        "conversations": conversations_limit,
        "messages": messages,
    }


def view_360_json(
    session: Session,
    principal: Principal,
    customer_id: str,
    conversations_limit: int,
    messages_per_conversation: int,
) -> str | None:
    """The 360 document as JSON text, or None when the customer is not visible; the audit
    event `audit.customer.viewed_360` is written with it (in the session's transaction)."""
    connection = session.connection()
    connection.exec_driver_sql(_ASYNC_COMMIT)
    params = _params(principal, customer_id, conversations_limit, messages_per_conversation)
    row = connection.exec_driver_sql(_sql(principal.partner_id is not None), params).first()
    return None if row is None else str(row[0])


def view_360_request(
    engine: Engine,
    claims: TokenClaims,
    customer_id: str,
    conversations_limit: int,
    messages_per_conversation: int,
) -> str:
    """A whole `GET /customers/{id}/360` on PostgreSQL: check the caller, read, audit, commit.

    Why not the session path: a view there costs four round trips (pool ping, caller's row,
    view, commit) and three thread-pool hops (caller, endpoint, commit), each with SQLAlchemy's
    per-statement work; the goal is 500 views/s on 2 cores that PostgreSQL shares. Here one
    hop sends (BEGIN, SET LOCAL, caller + view + audit in one prepared statement, COMMIT)
    pipelined in one round trip on a driver connection from the same pool. Same SQL, scoping
    and audit as `view_360_json`; tests/customers/test_view360_fast.py compares them."""
    partner = _partner_users.get(claims.user_id, False)
    raw = engine.raw_connection()
    try:
        connection: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
        try:
            found = _run(
                connection,
                claims,
                customer_id,
                conversations_limit,
                messages_per_conversation,
                partner,
            )
            if found[0] is not None and found[1] != partner:  # a partner user, or no longer
                partner = _partner_users[claims.user_id] = bool(found[1])
                found = _run(
                    connection,
                    claims,
                    customer_id,
                    conversations_limit,
                    messages_per_conversation,
                    partner,
                )
        except psycopg.OperationalError:
            raw.invalidate()  # the server went away: this connection never returns to the pool
            raise
        except BaseException:
            connection.rollback()
            raise
    finally:
        raw.close()
    return _answer(found, customer_id)


def _answer(found: tuple[Any, ...], customer_id: str) -> str:
    tenant_id, _, may_read, document = found
    if tenant_id is None:
        raise Unauthorized("the token is no longer valid; log in again")
    if not may_read:
        raise Forbidden(
            f"reading customers needs one of the roles: {', '.join(sorted(CUSTOMER_READERS))}"
        )
    if document is None:
        raise NotFound.of("customer", customer_id)
    return str(document)


# Which users are partner users (the statement differs); learnt from the answers, per process.
_partner_users: dict[str, bool] = {}


def _request_params(
    claims: TokenClaims, customer_id: str, conversations_limit: int, messages: int
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "actor_id": claims.user_id,
        "token_version": claims.token_version,
        "readers": _READERS,
        "now": utcnow(),
        "conversations": conversations_limit,
        "messages": messages,
    }


def _run(
    connection: psycopg.Connection[Any],
    claims: TokenClaims,
    customer_id: str,
    conversations_limit: int,
    messages: int,
    partner: bool,
) -> tuple[Any, ...]:
    query, names = _request_sql(partner)
    params = _request_params(claims, customer_id, conversations_limit, messages)
    cursor = psycopg.RawCursor(connection)
    with connection.pipeline():
        connection.execute(_ASYNC_COMMIT)
        cursor.execute(query, [params[name] for name in names], prepare=True)
        connection.commit()
    row = cursor.fetchone()
    assert row is not None  # the statement always answers one row
    return tuple(row)


# -- the served path: no thread hop, no transaction wrapper ------------------------------------


VIEW_CONNECTIONS = "customers.view360_connections"  # the key in AppContext.extras
VIEW_CONNECTIONS_SIZE = 8  # per server process; PostgreSQL has the same 2 cores


def open_view_connections(extras: dict[str, Any], bind: Any) -> ViewConnections | None:
    """At app start: the 360 view's connections when sessions are bound to a PostgreSQL engine
    (not when they are bound to one connection, as tests' rolled-back transactions are: the
    view would commit outside their transaction)."""
    if not (isinstance(bind, Engine) and bind.dialect.name == "postgresql"):
        return None
    views = extras[VIEW_CONNECTIONS] = ViewConnections.for_engine(bind, VIEW_CONNECTIONS_SIZE)
    return views


class ViewConnections:
    """PostgreSQL connections of one served app for `GET /customers/{id}/360`, used from the
    event loop (psycopg's async connections): no thread-pool hop per view.

    The statement of `_request_sql` is one statement, atomic on its own, so these connections
    run in autocommit: no BEGIN / COMMIT round trips. `synchronous_commit` is off for the whole
    session instead of per transaction (these connections only ever run this read and its audit
    row; see `_ASYNC_COMMIT`). Not SQLAlchemy's pool: that one is synchronous. Not psycopg_pool:
    its pool runs background tasks per event loop, and one app serves from one loop; this is a
    list and a semaphore. `lianluo.app`'s lifespan opens it and closes it."""

    def __init__(self, conninfo: str, size: int) -> None:
        self._conninfo = conninfo
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots = asyncio.Semaphore(size)

    @classmethod
    def for_engine(cls, engine: Engine, size: int) -> ViewConnections:
        url = engine.url.set(drivername="postgresql")
        return cls(url.render_as_string(hide_password=False), size)

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self._conninfo,
            autocommit=True,
            prepare_threshold=0,
            options="-c synchronous_commit=off",
        )

    async def fetch_row(self, query: str, params: Sequence[Any]) -> tuple[Any, ...]:
        """The statement's one row. An idle connection found dead (the server restarted, an
        administrator killed it) is dropped and the statement runs once more on a new one."""
        async with self._slots:
            while True:
                reused = bool(self._idle)
                connection = self._idle.pop() if reused else await self._connect()
                try:
                    cursor = psycopg.AsyncRawCursor(connection)
                    await cursor.execute(query, params, prepare=True)
                    row = await cursor.fetchone()
                except psycopg.OperationalError:
                    await connection.close()
                    if reused:
                        continue
                    raise
                except BaseException:  # cancelled mid-statement, say: its state is unknown
                    await connection.close()
                    raise
                self._idle.append(connection)
                assert row is not None  # the statement always answers one row
                return tuple(row)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


async def view_360_async(
    connections: ViewConnections,
    claims: TokenClaims,
    customer_id: str,
    conversations_limit: int,
    messages_per_conversation: int,
) -> str:
    """`view_360_request` from the event loop: the same statement, scoping and audit, one round
    trip (tests/customers/test_view360_fast.py runs both)."""

    async def run(partner: bool) -> tuple[Any, ...]:
        query, names = _request_sql(partner)
        params = _request_params(
            claims, customer_id, conversations_limit, messages_per_conversation
        )
        return await connections.fetch_row(query, [params[name] for name in names])

    partner = _partner_users.get(claims.user_id, False)
    found = await run(partner)
    if found[0] is not None and found[1] != partner:  # a partner user, or no longer
        partner = _partner_users[claims.user_id] = bool(found[1])
        found = await run(partner)
    return _answer(found, customer_id)
