"""Bulk seeding for the API benchmark: a tenant, an admin, customers with identities,
conversations, contacts and messages, written with COPY on PostgreSQL (executemany on SQLite).

Rows are generated in streams, so a million messages never sit in memory at once.
Not a benchmark of its own: bench/api.py imports it (and its --quick run exercises it in CI).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain, islice
from typing import Any

from sqlalchemy import Engine, insert, text

from lianluo.auth.passwords import hash_password
from lianluo.customers.normalize import search_text_for
from lianluo.models import Contact, Conversation, Customer, Identity, Message, Tenant, User

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林玲婷雪慧"
BODIES = (
    "你好，我这个月话费怎么多扣了？",
    "您好，很高兴为您服务，请问您是机主本人吗？",
    "宽带从早上开始就上不了网了",
    "已为您登记报障，预计今天18点前恢复",
    "Hello, I was charged twice for my plan this month.",
    "I have refunded the duplicate charge; it will arrive in 3 working days.",
    "好的，谢谢",
    "请问还有其他可以帮您的吗？",
)
BENCH_ADMIN = ("bench.admin", "bench-admin-password")
CHUNK_ROWS = 5000


@dataclass
class SeedResult:
    tenant_id: str
    customer_ids: list[str]
    username: str
    password: str
    rows: dict[str, int]


def _id(rng: random.Random, at: datetime) -> str:
    return f"{int(at.timestamp() * 1000):012x}{rng.getrandbits(80):020x}"


def _copy_value(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def write_rows(engine: Engine, table: Any, rows: Iterable[dict[str, Any]]) -> int:
    """COPY on PostgreSQL, chunked executemany elsewhere; returns the number of rows."""
    written = 0
    iterator = iter(rows)
    if engine.dialect.name == "postgresql":
        first = next(iterator, None)
        if first is None:
            return 0
        columns = list(first)
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
                for item in chain([first], iterator):
                    copy.write_row([_copy_value(item[c]) for c in columns])
                    written += 1
            raw.commit()
        finally:
            raw.close()
        return written
    with engine.begin() as connection:
        while chunk := list(islice(iterator, CHUNK_ROWS)):
            connection.execute(insert(table), chunk)
            written += len(chunk)
    return written


def seed_bulk(
    engine: Engine,
    *,
    customers: int,
    messages: int,
    conversations_per_customer: float = 2.0,
    seed: int = 11,
    now: datetime | None = None,
) -> SeedResult:
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    start = now - timedelta(days=365)
    tenant_id = _id(rng, start)
    stamp = {"created_at": start, "updated_at": start}
    write_rows(
        engine,
        Tenant.__table__,
        [
            {
                "id": tenant_id,
                "slug": f"bench-{tenant_id[-8:]}",
                "name": "API benchmark",
                "timezone": "Asia/Shanghai",
                "is_active": True,
                "settings": {},
                **stamp,
            }
        ],
    )
    username, password = BENCH_ADMIN
    write_rows(
        engine,
        User.__table__,
        [
            {
                "id": _id(rng, start),
                "tenant_id": tenant_id,
                "partner_id": None,
                "username": f"{username}.{tenant_id[-8:]}",
                "display_name": "Bench admin",
                "password_hash": hash_password(password),
                "roles": ["admin", "agent"],
                "locale": "zh-CN",
                "is_active": True,
                "is_superuser": False,
                "token_version": 0,
                "last_login_at": None,
                **stamp,
            }
        ],
    )

    customer_ids: list[str] = []
    identity_rows: list[dict[str, Any]] = []

    def customer_rows() -> Iterator[dict[str, Any]]:
        for number in range(customers):
            at = start + timedelta(seconds=number)
            customer_id = _id(rng, at)
            customer_ids.append(customer_id)
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            # 13x/15x/18x numbers only: the benchmark's POSTs use 19x, so they never collide.
            phone = f"+861{rng.choice('358')}{number:09d}"
            values = [phone]
            if number % 2 == 0:
                values.append(f"user{number}@example.cn")
            for kind, value in zip(("phone", "email"), values, strict=False):
                identity_rows.append(
                    {
                        "id": _id(rng, at),
                        "tenant_id": tenant_id,
                        "customer_id": customer_id,
                        "kind": kind,
                        "value": value,
                        "verified": kind == "phone",
                        **stamp,
                    }
                )
            yield {
                "id": customer_id,
                "tenant_id": tenant_id,
                "name": name,
                "search_text": search_text_for(name, values),
                "language": "zh",
                "region": "广东",
                "value_tier": rng.choice(("standard",) * 7 + ("silver", "gold", "vip")),
                "attributes": {"city": "深圳"},
                "tags": [],
                "consents": {},
                "churn_risk": round(rng.random() * 0.5, 3),
                "merged_into_id": None,
                "partner_id": None,
                **stamp,
            }

    rows = {"customers": write_rows(engine, Customer.__table__, customer_rows())}
    rows["identities"] = write_rows(engine, Identity.__table__, identity_rows)
    identity_rows.clear()

    n_conversations = max(1, round(customers * conversations_per_customer))
    conversations: list[tuple[str, str, datetime]] = []

    def conversation_rows() -> Iterator[dict[str, Any]]:
        span_s = 300 * 86400
        for _ in range(n_conversations):
            customer_id = rng.choice(customer_ids)
            at = start + timedelta(seconds=rng.uniform(0, span_s))
            conversation_id = _id(rng, at)
            conversations.append((conversation_id, customer_id, at))
            yield {
                "id": conversation_id,
                "tenant_id": tenant_id,
                "customer_id": customer_id,
                "subject": "话费账单查询",
                "status": "closed",
                "started_at": at,
                "ended_at": at + timedelta(minutes=10),
            }

    rows["conversations"] = write_rows(engine, Conversation.__table__, conversation_rows())
    contact_of: dict[str, str] = {}

    def contact_rows() -> Iterator[dict[str, Any]]:
        for conversation_id, customer_id, at in conversations:
            contact_id = _id(rng, at)
            contact_of[conversation_id] = contact_id
            yield {
                "id": contact_id,
                "tenant_id": tenant_id,
                "conversation_id": conversation_id,
                "customer_id": customer_id,
                "queue_id": None,
                "agent_id": None,
                "channel": "chat",
                "direction": "inbound",
                "state": "ended",
                "priority": 0,
                "required_skills": {},
                "attributes": {},
                "queued_at": at,
                "answered_at": at + timedelta(seconds=15),
                "ended_at": at + timedelta(minutes=10),
                "disposition": "resolved",
                "notes": "",
            }

    rows["contacts"] = write_rows(engine, Contact.__table__, contact_rows())

    def message_rows() -> Iterator[dict[str, Any]]:
        for number in range(messages):
            conversation_id, customer_id, at = conversations[number % len(conversations)]
            created = at + timedelta(seconds=20 + 10 * (number // len(conversations)))
            sender = "customer" if number % 2 == 0 else "agent"
            yield {
                "id": _id(rng, created),
                "tenant_id": tenant_id,
                "conversation_id": conversation_id,
                "contact_id": contact_of[conversation_id],
                "sender_kind": sender,
                "sender_id": customer_id if sender == "customer" else None,
                "body": rng.choice(BODIES),
                "content_type": "text/plain",
                "client_msg_id": None,
                "created_at": created,
            }

    rows["messages"] = write_rows(engine, Message.__table__, message_rows())
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # as after any bulk load: statistics, and hint bits and the visibility map set
            # once, rather than by the first thousands of reads during the measurement
            connection.execute(text("VACUUM (ANALYZE)"))
    return SeedResult(tenant_id, customer_ids, f"{username}.{tenant_id[-8:]}", password, rows)
