"""The demo tenant seed, on a fresh migrated SQLite file (and once on PostgreSQL)."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from lianluo.auth.passwords import verify_password
from lianluo.customers.normalize import normalize_identity, search_text_for
from lianluo.db import migrate
from lianluo.db.engine import make_engine, make_sessionmaker, unit_of_work
from lianluo.demo.seed import DEMO_PASSWORDS, DEMO_SLUG, DemoInfo, seed_demo
from lianluo.models import (
    Agent,
    AgentSkill,
    Contact,
    Conversation,
    Customer,
    Event,
    Identity,
    Leg,
    Message,
    Partner,
    Queue,
    Skill,
    Tenant,
    User,
)

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SMALL = {"customers": 300, "history_days": 6, "contacts_per_day": 60}
HAN = re.compile(r"[\u4e00-\u9fff]")
TABLES = (
    Tenant,
    Partner,
    Skill,
    Queue,
    User,
    Agent,
    AgentSkill,
    Customer,
    Identity,
    Conversation,
    Contact,
    Leg,
    Message,
    Event,
)


@dataclass
class Seeded:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    info: DemoInfo


def seed_fresh(path: Path, **kwargs: Any) -> Seeded:
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with unit_of_work(sessions) as session:
        info = seed_demo(session, now=NOW, **kwargs)
    return Seeded(url, engine, sessions, info)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    seeded = seed_fresh(tmp_path_factory.mktemp("demo") / "demo.db", seed=7, **SMALL)
    yield seeded
    seeded.engine.dispose()


@pytest.fixture
def session(demo: Seeded) -> Iterator[Session]:
    with demo.sessions() as session:
        yield session


def rows(session: Session, model: Any) -> list[Any]:
    return list(session.execute(select(model)).scalars())


def table_fingerprint(session: Session) -> dict[str, tuple[int, Any]]:
    """Row count and a content digest per table (id lists and timestamps)."""
    fingerprint = {}
    for model in TABLES:
        count = session.execute(select(func.count()).select_from(model)).scalar_one()
        columns = model.__table__.c
        column = columns["updated_at"] if "updated_at" in columns else columns["id"]
        fingerprint[model.__tablename__] = (
            count,
            session.execute(select(func.max(column))).scalar(),
        )
    return fingerprint


class TestStructure:
    def test_returns_what_it_wrote(self, demo: Seeded, session: Session) -> None:
        info = demo.info
        assert info.created
        assert info.slug == DEMO_SLUG
        tenant = session.execute(select(Tenant).where(Tenant.slug == DEMO_SLUG)).scalar_one()
        assert tenant.id == info.tenant_id
        assert tenant.timezone == "Asia/Shanghai"
        for name, model in (("customers", Customer), ("contacts", Contact), ("events", Event)):
            assert info.counts[name] == len(rows(session, model))

    def test_partners_queues_agents_customers(self, demo: Seeded, session: Session) -> None:
        assert len(rows(session, Partner)) >= 2
        queues = rows(session, Queue)
        assert len(queues) == 6
        assert len(rows(session, Agent)) == 40
        assert len(rows(session, Skill)) >= 10
        assert len(rows(session, Customer)) == SMALL["customers"]

    def test_partner_queues_are_worked_by_partner_agents(self, session: Session) -> None:
        queues = rows(session, Queue)
        partner_queues = [q for q in queues if q.partner_id]
        assert {q.partner_id for q in partner_queues} == {p.id for p in rows(session, Partner)}
        for queue in partner_queues:
            agents = session.execute(
                select(Contact.agent_id).where(Contact.queue_id == queue.id).distinct()
            ).scalars()
            partner_of = {a.id: a.partner_id for a in rows(session, Agent)}
            assert {partner_of[a] for a in agents if a} == {queue.partner_id}

    def test_queues_have_targets_skills_and_valid_relaxation(self, session: Session) -> None:
        queues = rows(session, Queue)
        ids = {q.id for q in queues}
        skill_names = {s.name for s in rows(session, Skill)}
        for queue in queues:
            assert 0 < queue.sl_target_ratio <= 1
            assert queue.sl_target_s > 0
            assert queue.required_skills
            assert set(queue.required_skills) <= skill_names
            assert all(1 <= level <= 10 for level in queue.required_skills.values())
            afters = [step["after_s"] for step in queue.relaxation]
            assert afters == sorted(afters)
            for step in queue.relaxation:
                assert step["action"] in {"lower_levels", "drop_attributes", "overflow"}
                if step["action"] == "overflow":
                    assert step["queue_id"] in ids
                    assert step["queue_id"] != queue.id
        vip = next(q for q in queues if "VIP" in q.name)
        assert vip.priority == max(q.priority for q in queues)
        assert vip.sl_target_s <= min(q.sl_target_s for q in queues)

    def test_attribute_expressions_parse_and_match_seeded_agents(self, session: Session) -> None:
        expressions = pytest.importorskip("lianluo.domain.routing.expressions")
        agents = rows(session, Agent)
        attributes = [{**a.attributes, "career_level": a.career_level} for a in agents]
        for queue in rows(session, Queue):
            compiled = expressions.compile_expression(queue.attribute_expr)
            language = "en" if "English" in queue.name else "zh"
            assert any(compiled.matches(a, {"language": language}) for a in attributes)

    def test_agents_have_skills_attributes_capacity(self, session: Session) -> None:
        agents = rows(session, Agent)
        levels = rows(session, AgentSkill)
        assert all(1 <= s.level <= 10 for s in levels)
        assert {s.agent_id for s in levels} == {a.id for a in agents}
        for agent in agents:
            assert agent.capacity == {"voice": 1, "chat": 3, "email": 5}
            assert set(agent.attributes["languages"]) <= {"zh", "en", "yue"}
            assert agent.attributes["age_band"]
            assert agent.attributes["region"]
            assert agent.team
            assert agent.state == "offline"
        assert sum(1 for a in agents if a.partner_id) >= 10
        assert len({a.team for a in agents}) >= 5

    def test_every_role_can_log_in_with_the_documented_password(
        self, demo: Seeded, session: Session
    ) -> None:
        users = {u.username: u for u in rows(session, User)}
        roles = {login.role for login in demo.info.logins}
        assert roles == set(DEMO_PASSWORDS)
        assert len(demo.info.logins) == len(users) == 46
        for role in roles:
            login = next(lg for lg in demo.info.logins if lg.role == role)
            assert users[login.username].roles == [role]
            assert verify_password(users[login.username].password_hash, login.password)
        partner_admins = [u for u in users.values() if u.roles == ["partner_admin"]]
        assert len(partner_admins) == 2
        assert all(u.partner_id for u in partner_admins)


class TestCustomers:
    def test_chinese_and_english_names(self, session: Session) -> None:
        names = [c.name for c in rows(session, Customer)]
        chinese = [n for n in names if HAN.search(n)]
        assert len(chinese) > 0.8 * len(names)
        assert all(2 <= len(n) <= 4 for n in chinese)
        assert any(re.fullmatch(r"[A-Z][\w'-]+ [A-Z][\w'-]+", n) for n in names)
        surnames = Counter(n[0] for n in chinese)
        assert surnames.most_common(1)[0][0] in "王李张刘陈"

    def test_identities_unique_normalised_and_searchable(self, session: Session) -> None:
        identities = rows(session, Identity)
        assert len({(i.kind, i.value) for i in identities}) == len(identities)
        assert all(normalize_identity(i.kind, i.value) == i.value for i in identities)
        phones = [i.value for i in identities if i.kind == "phone"]
        assert all(re.fullmatch(r"\+(861[3-9]\d{9}|852[569]\d{7})", p) for p in phones)
        by_customer = defaultdict(list)
        for identity in identities:
            by_customer[identity.customer_id].append(identity)
        for customer in rows(session, Customer):
            own = by_customer[customer.id]
            assert any(i.kind == "phone" for i in own)
            expected = search_text_for(customer.name, [i.value for i in own])
            assert customer.search_text == expected

    def test_profiles_are_skewed_and_complete(self, session: Session) -> None:
        customers = rows(session, Customer)
        tiers = Counter(c.value_tier for c in customers)
        assert set(tiers) <= {"standard", "silver", "gold", "vip"}
        assert tiers["standard"] > tiers["silver"] > tiers["vip"]
        assert all(0 <= c.churn_risk < 1 for c in customers)
        assert all(c.region and c.language in {"zh", "en", "yue"} for c in customers)
        assert all(c.created_at < NOW for c in customers)


class TestHistory:
    def test_contact_times_are_ordered_and_in_the_past(self, session: Session) -> None:
        contacts = rows(session, Contact)
        assert contacts
        for c in contacts:
            assert c.ended_at is not None
            assert c.queued_at <= c.ended_at <= NOW
            if c.answered_at is not None:
                assert c.queued_at <= c.answered_at <= c.ended_at
            assert c.state in {"ended", "abandoned"}
            assert (c.state == "abandoned") == (c.disposition == "abandoned")
            if c.state == "abandoned":
                assert c.answered_at is None
                assert c.agent_id is None
        first = min(c.queued_at for c in contacts)
        assert NOW - first >= timedelta(days=SMALL["history_days"] - 1)

    def test_legs_agree_with_contacts(self, session: Session) -> None:
        legs_of = defaultdict(list)
        for leg in rows(session, Leg):
            legs_of[leg.contact_id].append(leg)
            assert leg.offered_at <= leg.ended_at
            if leg.answered_at:
                assert leg.offered_at <= leg.answered_at <= leg.ended_at
        for c in rows(session, Contact):
            legs = sorted(legs_of[c.id], key=lambda leg: leg.offered_at)
            if c.state == "abandoned":
                assert legs == []
                continue
            assert legs
            assert legs[0].agent_id == c.agent_id
            assert legs[0].offered_at >= c.queued_at
            assert max(leg.ended_at for leg in legs) == c.ended_at
            if c.answered_at and c.direction == "inbound":
                assert legs[0].answered_at == c.answered_at

    def test_no_agent_takes_two_calls_at_once(self, session: Session) -> None:
        voice = session.execute(
            select(Leg.agent_id, Leg.offered_at, Leg.ended_at)
            .join(Contact, Contact.id == Leg.contact_id)
            .where(Contact.channel == "voice")
            .order_by(Leg.agent_id, Leg.offered_at)
        ).all()
        for before, after in zip(voice, voice[1:], strict=False):
            if before.agent_id == after.agent_id:
                assert after.offered_at >= before.ended_at

    def test_events_agree_with_contacts(self, session: Session) -> None:
        events = defaultdict(list)
        for event in rows(session, Event):
            if event.contact_id:
                events[event.contact_id].append(event)
        contacts = rows(session, Contact)
        assert set(events) == {c.id for c in contacts}
        for c in contacts:
            by_type = defaultdict(list)
            for event in events[c.id]:
                by_type[event.type].append(event)
                assert event.customer_id == c.customer_id
                assert event.queue_id == c.queue_id
            assert [e.occurred_at for e in by_type["contact.queued"]] == [c.queued_at]
            answered = [e.occurred_at for e in by_type["contact.answered"]]
            assert answered == ([c.answered_at] if c.answered_at else [])
            terminal = by_type["contact.ended"] + by_type["contact.abandoned"]
            assert len(terminal) == 1
            assert terminal[0].occurred_at == c.ended_at
            assert terminal[0].type == (
                "contact.abandoned" if c.state == "abandoned" else "contact.ended"
            )
            wait = terminal[0].payload["wait_s"]
            if c.answered_at and c.direction == "inbound":
                expected = (c.answered_at - c.queued_at).total_seconds()
                assert wait == pytest.approx(expected, abs=0.01)
            if c.state == "ended":
                legs = session.execute(select(Leg).where(Leg.contact_id == c.id)).scalars()
                talk = sum(leg.talk_s for leg in legs)
                assert terminal[0].payload["talk_s"] == pytest.approx(talk, abs=0.01)
                assert terminal[0].payload["disposition"] == c.disposition
                assert len(by_type["contact.offered"]) == terminal[0].payload["legs"]

    def test_event_log_is_in_time_order(self, session: Session) -> None:
        times = session.execute(select(Event.occurred_at).order_by(Event.id)).scalars().all()
        assert times == sorted(times)
        types = set(session.execute(select(Event.type).distinct()).scalars())
        assert {
            "contact.queued",
            "contact.offered",
            "contact.answered",
            "contact.ended",
            "contact.abandoned",
            "agent.state_changed",
        } <= types

    def test_agent_states_alternate_and_end_offline(self, session: Session) -> None:
        changes = session.execute(
            select(Event.agent_id, Event.payload)
            .where(Event.type == "agent.state_changed")
            .order_by(Event.agent_id, Event.occurred_at, Event.id)
        ).all()
        state: dict[str, str] = {}
        for agent_id, payload in changes:
            assert state.get(agent_id, "offline") == payload["from"]
            state[agent_id] = payload["to"]
        assert set(state.values()) == {"offline"}

    def test_conversations_and_messages_are_consistent(self, session: Session) -> None:
        contacts = rows(session, Contact)
        conversations = {c.id: c for c in rows(session, Conversation)}
        assert {c.conversation_id for c in contacts} == set(conversations)
        for contact in contacts:
            conv = conversations[contact.conversation_id]
            assert conv.customer_id == contact.customer_id
            assert conv.started_at <= contact.queued_at
            assert conv.status in {"open", "closed"}
            if conv.ended_at:
                assert contact.ended_at <= conv.ended_at
        window = {c.id: c for c in contacts}
        messages = rows(session, Message)
        assert any(HAN.search(m.body) for m in messages)
        assert any(m.sender_kind == "agent" for m in messages)
        for message in messages:
            contact = window[message.contact_id]
            assert message.conversation_id == contact.conversation_id
            assert contact.queued_at <= message.created_at <= contact.ended_at
        chats = {m.contact_id for m in messages} & {c.id for c in contacts if c.channel == "chat"}
        assert chats == {c.id for c in contacts if c.channel == "chat"}

    def test_daily_pattern_has_a_daytime_peak(self, session: Session) -> None:
        hours = Counter(
            (c.queued_at.hour + 8) % 24 for c in rows(session, Contact) if c.channel == "voice"
        )
        assert sum(hours[h] for h in range(0, 7)) == 0
        assert hours[10] > hours[8]
        assert hours[15] > hours[21]


class TestIdempotence:
    def test_second_call_changes_nothing(self, demo: Seeded) -> None:
        with demo.sessions() as session:
            before = table_fingerprint(session)
        with unit_of_work(demo.sessions) as session:
            again = seed_demo(session, now=NOW + timedelta(days=3), customers=999, seed=1)
        with demo.sessions() as session:
            assert table_fingerprint(session) == before
        assert not again.created
        assert again.tenant_id == demo.info.tenant_id
        assert again.counts == demo.info.counts
        assert again.logins == demo.info.logins

    def test_same_seed_same_rows(self, demo: Seeded, tmp_path: Path) -> None:
        other = seed_fresh(tmp_path / "again.db", seed=7, **SMALL)
        try:
            query = (
                "select id, customer_id, agent_id, queued_at, ended_at, disposition "
                "from contacts order by id"
            )
            with demo.engine.connect() as a, other.engine.connect() as b:
                assert a.execute(text(query)).all() == b.execute(text(query)).all()
                names = "select name, search_text from customers order by id"
                assert a.execute(text(names)).all() == b.execute(text(names)).all()
        finally:
            other.engine.dispose()

    def test_rejects_bad_arguments(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'bad.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        try:
            with make_sessionmaker(engine)() as session:
                with pytest.raises(ValueError, match="customers"):
                    seed_demo(session, now=NOW, customers=0)
                with pytest.raises(ValueError, match="aware"):
                    seed_demo(session, now=datetime(2026, 1, 1), customers=50)
        finally:
            engine.dispose()


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=2**31))
def test_any_seed_gives_a_consistent_center(seed: int, tmp_path: Path) -> None:
    path = tmp_path / f"prop-{seed}.db"
    seeded = seed_fresh(path, seed=seed, customers=40, history_days=2, contacts_per_day=25)
    try:
        with seeded.sessions() as session:
            contacts = rows(session, Contact)
            assert contacts
            for c in contacts:
                assert c.queued_at <= (c.answered_at or c.queued_at) <= c.ended_at <= NOW
            identities = rows(session, Identity)
            assert len({(i.kind, i.value) for i in identities}) == len(identities)
            terminal = session.execute(
                select(func.count()).where(Event.type.in_(["contact.ended", "contact.abandoned"]))
            ).scalar_one()
            assert terminal == len(contacts)
    finally:
        seeded.engine.dispose()


@pytest.mark.slow
def test_full_default_seed_on_sqlite(tmp_path: Path) -> None:
    started = time.perf_counter()
    seeded = seed_fresh(tmp_path / "full.db")
    elapsed_s = time.perf_counter() - started
    try:
        counts = seeded.info.counts
        assert counts["customers"] == 5000
        assert counts["agents"] == 40
        assert counts["queues"] == 6
        assert counts["partners"] >= 2
        assert 20_000 <= counts["contacts"] <= 45_000
        assert counts["messages"] >= 50_000
        assert counts["events"] >= 4 * counts["contacts"] * 0.8
        assert elapsed_s < 60, f"seeding took {elapsed_s:.1f} s"
    finally:
        seeded.engine.dispose()


@pytest.mark.postgres
def test_seed_on_postgres() -> None:
    from tests.conftest import _pg_reachable, create_pg_database, drop_pg_database

    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    url = create_pg_database("lianluo_demo_test")
    engine = None
    try:
        migrate.upgrade(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        with unit_of_work(sessions) as session:
            info = seed_demo(session, now=NOW, **SMALL)
        with unit_of_work(sessions) as session:
            again = seed_demo(session, now=NOW)
        assert info.created
        assert not again.created
        assert again.counts == info.counts
        with sessions() as session:
            assert info.counts["customers"] == SMALL["customers"]
            assert info.counts["contacts"] > 0
            answered = session.execute(
                select(func.count()).where(Event.type == "contact.answered")
            ).scalar_one()
            with_answer = session.execute(
                select(func.count()).where(Contact.answered_at.is_not(None))
            ).scalar_one()
            assert answered == with_answer
            tiers = (
                session.execute(select(Customer.attributes["city"].as_string()).limit(5))
                .scalars()
                .all()
            )
            assert all(tiers)
    finally:
        if engine is not None:
            engine.dispose()
        drop_pg_database(url)


class TestKnowledgeBase:
    def test_demo_articles_are_published_and_searchable(self, demo: Seeded) -> None:
        from lianluo.auth.principal import Principal
        from lianluo.kb.service import article_service
        from lianluo.models import KbArticle

        with demo.sessions() as session:
            articles = rows(session, KbArticle)
            assert len(articles) >= 10
            assert {a.language for a in articles} == {"zh", "en"}
            assert all(a.published_version == 1 for a in articles)
            reader = Principal("demo-reader", demo.info.tenant_id, None, frozenset(["agent"]))
            for query, title in (("宽带上不了网", "宽带故障"), ("roaming charges", "roaming")):
                hits, _, _ = article_service.search(session, reader, query, None, 0, 3)
                assert title in hits[0].title
