"""Seed the demo tenant: a telecom operator's contact center with three months of history.

`seed_demo` writes, inside the caller's transaction (it never commits):

- tenant "demo" (华联通信客服中心, Asia/Shanghai), partners 华信外包 and Stellar BPO;
- ten skills, six queues with service-level targets, attribute expressions and relaxation
  steps; the broadband queue is worked by 华信外包, outbound sales by Stellar BPO;
- forty agents in seven teams (班组) with skill levels, languages, age band, region, capacity
  per channel and career level; a supervisor, an admin, a QA, a WFM user and one partner admin
  per partner, all with the fixed passwords of `DEMO_PASSWORDS`;
- customers with Chinese (and some English) names, E.164 mobile numbers, e-mail addresses,
  value tiers, regions, tags, consents and churn risk, with phone and e-mail identities;
- `history_days` of contacts (voice, chat, e-mail, outbound) following a daily and weekly
  pattern, each with its conversation, agent legs, chat and e-mail messages, and the matching
  event-log rows (contact.queued/offered/answered/transferred/ended/abandoned and
  agent.state_changed), so that reports computed from events agree with the contacts table.

Everything but the password hashes is a function of `seed` and `now`: ids are drawn from the
seeded generator (time-ordered like `new_id`), so two runs with the same arguments write the same
rows. Agents are simulated with per-channel capacity slots, so no agent holds two calls at once.
"""

from __future__ import annotations

import json
import math
import random
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, partial
from importlib import resources
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from lianluo.auth.passwords import hash_password
from lianluo.customers.normalize import normalize_identity, search_text_for
from lianluo.db.base import utcnow
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

DEMO_SLUG = "demo"
DEMO_TIMEZONE = "Asia/Shanghai"
TZ = ZoneInfo(DEMO_TIMEZONE)

# Fixed, documented demo passwords (printed by `lianluo demo`): one per role.
DEMO_PASSWORDS: Mapping[str, str] = {
    "admin": "demo-admin-1",
    "supervisor": "demo-supervisor-1",
    "qa": "demo-qa-1",
    "wfm": "demo-wfm-1",
    "partner_admin": "demo-partner-1",
    "agent": "demo-agent-1",
}

INSERT_CHUNK_ROWS = 2000


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    password: str
    role: str
    display_name: str
    partner: str | None = None  # partner code, for partner users


@dataclass(frozen=True)
class DemoInfo:
    tenant_id: str
    slug: str
    created: bool  # False when the tenant already existed and nothing was written
    logins: tuple[DemoLogin, ...]
    counts: Mapping[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Static structure of the demo center
# --------------------------------------------------------------------------------------------

PARTNERS = (
    ("huaxin", "华信外包服务有限公司 (Huaxin Outsourcing)"),
    ("stellar", "Stellar BPO 大连"),
)

SKILLS = (
    ("billing", "话费账单：账单解释、退费、发票"),
    ("mobile_data", "流量套餐与增值业务"),
    ("broadband", "宽带故障与装移机"),
    ("vip_care", "VIP 专席服务"),
    ("english", "English service"),
    ("cantonese", "粤语服务"),
    ("complaints", "投诉处理（含越级投诉）"),
    ("retention", "客户挽留"),
    ("sales", "营销外呼与回访"),
    ("number_porting", "携号转网"),
)


@dataclass(frozen=True)
class QueueSpec:
    key: str
    name: str
    description: str
    channels: tuple[str, ...]
    channel_mix: tuple[float, ...]
    priority: int
    required_skills: Mapping[str, int]
    attribute_expr: str
    selection_policy: str
    sl_target_s: int
    sl_target_ratio: float
    wrap_up_s: int
    partner: str | None
    topic: str
    median_wait_s: float
    median_talk_s: float
    patience_s: float
    direction: str = "inbound"


QUEUES = (
    QueueSpec(
        key="billing",
        name="话费账单 Billing",
        description="话费、账单、退费、发票",
        channels=("voice", "chat", "email"),
        channel_mix=(0.6, 0.3, 0.1),
        priority=10,
        required_skills={"billing": 3},
        attribute_expr="contact.language in agent.languages",
        selection_policy="longest_idle",
        sl_target_s=20,
        sl_target_ratio=0.8,
        wrap_up_s=30,
        partner=None,
        topic="billing",
        median_wait_s=7.0,
        median_talk_s=240.0,
        patience_s=110.0,
    ),
    QueueSpec(
        key="broadband",
        name="宽带故障 Broadband",
        description="宽带故障报修、网速、装移机（华信外包承接）",
        channels=("voice", "chat", "email"),
        channel_mix=(0.55, 0.35, 0.1),
        priority=10,
        required_skills={"broadband": 3},
        attribute_expr="contact.language in agent.languages",
        selection_policy="longest_idle",
        sl_target_s=30,
        sl_target_ratio=0.8,
        wrap_up_s=45,
        partner="huaxin",
        topic="broadband",
        median_wait_s=11.0,
        median_talk_s=420.0,
        patience_s=150.0,
    ),
    QueueSpec(
        key="vip",
        name="VIP 专席",
        description="金卡、钻石卡客户专席，高优先级",
        channels=("voice", "chat", "email"),
        channel_mix=(0.7, 0.25, 0.05),
        priority=100,
        required_skills={"vip_care": 6},
        attribute_expr="contact.language in agent.languages",
        selection_policy="best_proficiency",
        sl_target_s=10,
        sl_target_ratio=0.9,
        wrap_up_s=30,
        partner=None,
        topic="vip",
        median_wait_s=2.5,
        median_talk_s=300.0,
        patience_s=200.0,
    ),
    QueueSpec(
        key="english",
        name="English Service 英语服务",
        description="Service in English for foreign customers",
        channels=("voice", "chat", "email"),
        channel_mix=(0.4, 0.45, 0.15),
        priority=20,
        required_skills={"english": 5},
        attribute_expr='"en" in agent.languages',
        selection_policy="longest_idle",
        sl_target_s=30,
        sl_target_ratio=0.8,
        wrap_up_s=30,
        partner="stellar",
        topic="english",
        median_wait_s=10.0,
        median_talk_s=330.0,
        patience_s=150.0,
    ),
    QueueSpec(
        key="complaints",
        name="投诉 Complaints",
        description="投诉受理与升级，首问负责",
        channels=("voice", "email", "chat"),
        channel_mix=(0.6, 0.25, 0.15),
        priority=50,
        required_skills={"complaints": 6},
        attribute_expr='contact.language in agent.languages and agent.age_band != "18-24"',
        selection_policy="best_proficiency",
        sl_target_s=30,
        sl_target_ratio=0.8,
        wrap_up_s=90,
        partner=None,
        topic="complaints",
        median_wait_s=9.0,
        median_talk_s=540.0,
        patience_s=120.0,
    ),
    QueueSpec(
        key="sales",
        name="营销外呼 Outbound sales",
        description="5G 升级、宽带续约、满意度回访（Stellar 承接）",
        channels=("voice",),
        channel_mix=(1.0,),
        priority=0,
        required_skills={"sales": 3},
        attribute_expr="contact.language in agent.languages",
        selection_policy="least_loaded",
        sl_target_s=60,
        sl_target_ratio=0.7,
        wrap_up_s=20,
        partner="stellar",
        topic="sales",
        median_wait_s=0.0,
        median_talk_s=180.0,
        patience_s=0.0,
        direction="outbound",
    ),
)

# (key, after_s, action, extra) — overflow names a queue key, resolved to its id.
RELAXATION: Mapping[str, tuple[tuple[int, str, dict[str, Any]], ...]] = {
    "billing": ((30, "lower_levels", {"by": 1}), (60, "drop_attributes", {})),
    "broadband": (
        (45, "lower_levels", {"by": 1}),
        (90, "drop_attributes", {}),
        (240, "overflow", {"queue": "billing"}),
    ),
    "vip": ((10, "lower_levels", {"by": 2}), (60, "overflow", {"queue": "billing"})),
    "english": ((60, "lower_levels", {"by": 2}), (180, "overflow", {"queue": "billing"})),
    "complaints": ((60, "drop_attributes", {}), (120, "lower_levels", {"by": 2})),
    "sales": (),
}


@dataclass(frozen=True)
class TeamSpec:
    name: str
    size: int
    partner: str | None
    region: str
    skills: Mapping[str, tuple[int, int]]  # skill -> (min level, max level)
    english_share: float
    cantonese_share: float
    shift: str  # "mixed", "early" or "late"


TEAMS = (
    TeamSpec(
        "话费一组",
        8,
        None,
        "广东",
        {"billing": (4, 9), "mobile_data": (3, 8), "number_porting": (2, 6)},
        0.25,
        0.4,
        "mixed",
    ),
    TeamSpec(
        "话费二组",
        6,
        None,
        "江苏",
        {"billing": (3, 8), "mobile_data": (3, 7), "retention": (2, 6), "broadband": (2, 5)},
        0.2,
        0.0,
        "mixed",
    ),
    TeamSpec(
        "VIP组",
        5,
        None,
        "广东",
        {"vip_care": (6, 10), "billing": (6, 9), "retention": (5, 9), "complaints": (4, 7)},
        0.6,
        0.4,
        "mixed",
    ),
    TeamSpec(
        "投诉组",
        5,
        None,
        "江苏",
        {"complaints": (6, 10), "billing": (5, 8), "broadband": (4, 7), "retention": (4, 8)},
        0.2,
        0.0,
        "mixed",
    ),
    TeamSpec(
        "华信宽带组",
        10,
        "huaxin",
        "四川",
        {"broadband": (3, 9), "billing": (2, 5)},
        0.1,
        0.0,
        "mixed",
    ),
    TeamSpec(
        "Stellar English",
        3,
        "stellar",
        "辽宁",
        {"english": (6, 10), "billing": (3, 6), "sales": (3, 6), "broadband": (2, 4)},
        1.0,
        0.0,
        "mixed",
    ),
    TeamSpec(
        "Stellar 外呼组",
        3,
        "stellar",
        "辽宁",
        {"sales": (4, 9), "retention": (3, 7)},
        0.3,
        0.0,
        "late",
    ),
)

CAREER_LEVELS = (("new", 0.2), ("qualified", 0.45), ("excellent", 0.3), ("trainer", 0.05))
AGE_BANDS = (("18-24", 0.3), ("25-34", 0.45), ("35-44", 0.2), ("45+", 0.05))
CUSTOMER_AGE_BANDS = (
    ("18-24", 0.14),
    ("25-34", 0.26),
    ("35-44", 0.24),
    ("45-59", 0.24),
    ("60+", 0.12),
)
VALUE_TIERS = (("standard", 0.70), ("silver", 0.18), ("gold", 0.09), ("vip", 0.03))
TIER_PRIORITY = {"standard": 0, "silver": 5, "gold": 10, "vip": 20}
TAGS = (
    "5G套餐",
    "宽带用户",
    "家庭融合",
    "携号转网意向",
    "国际漫游",
    "老年用户",
    "学生",
    "企业客户",
    "高频来电",
    "话费敏感",
    "流量大户",
    "合约到期",
)
CAPACITY = {"voice": 1, "chat": 3, "email": 5}

# Arrivals: local hour -> relative volume (08:00-21:59), weekday factors Monday..Sunday.
HOUR_WEIGHTS = {
    8: 0.6,
    9: 1.2,
    10: 1.45,
    11: 1.35,
    12: 0.9,
    13: 0.95,
    14: 1.3,
    15: 1.35,
    16: 1.2,
    17: 1.0,
    18: 0.8,
    19: 0.85,
    20: 0.75,
    21: 0.5,
}
WEEKDAY_FACTORS = (1.15, 1.05, 1.0, 1.0, 1.05, 0.85, 0.8)
OPEN_HOUR, CLOSE_HOUR = 8, 22
SHIFTS = {"early": (8, 17), "late": (13, 22)}
OPEN_DISPOSITIONS = frozenset(
    {"follow_up", "technician_dispatched", "escalated", "call_back_later"}
)


@cache
def _data(name: str) -> dict[str, Any]:
    text = resources.files("lianluo.demo").joinpath("data", name).read_text(encoding="utf-8")
    return dict(json.loads(text))


def _roster() -> list[DemoLogin]:
    """The fixed staff of the demo tenant; agents' display names are drawn when seeding."""
    logins = [
        DemoLogin("demo.admin", DEMO_PASSWORDS["admin"], "admin", "系统管理员 周敏"),
        DemoLogin("demo.supervisor", DEMO_PASSWORDS["supervisor"], "supervisor", "值班主管 陈建国"),
        DemoLogin("demo.qa", DEMO_PASSWORDS["qa"], "qa", "质检专员 林婷"),
        DemoLogin("demo.wfm", DEMO_PASSWORDS["wfm"], "wfm", "排班专员 黄晓"),
    ]
    for code, name in PARTNERS:
        logins.append(
            DemoLogin(
                f"demo.{code}.admin",
                DEMO_PASSWORDS["partner_admin"],
                "partner_admin",
                f"{name.split()[0]} 管理员",
                code,
            )
        )
    number = 0
    for team in TEAMS:
        for _ in range(team.size):
            number += 1
            logins.append(
                DemoLogin(
                    f"demo.agent{number:02d}",
                    DEMO_PASSWORDS["agent"],
                    "agent",
                    f"座席 {number:02d}",
                    team.partner,
                )
            )
    return logins


def demo_logins(session: Session, tenant_id: str) -> tuple[DemoLogin, ...]:
    """The demo tenant's logins with their documented passwords, as stored."""
    rows = session.execute(
        select(User.username, User.roles, User.display_name, Partner.code)
        .outerjoin(Partner, Partner.id == User.partner_id)
        .where(User.tenant_id == tenant_id)
        .order_by(User.username)
    ).all()
    logins = []
    for username, roles, display_name, partner_code in rows:
        role = roles[0] if roles else ""
        password = DEMO_PASSWORDS.get(role, "")
        logins.append(DemoLogin(username, password, role, display_name, partner_code))
    order = {role: index for index, role in enumerate(DEMO_PASSWORDS)}
    return tuple(sorted(logins, key=lambda login: (order.get(login.role, 99), login.username)))


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def seed_demo(
    session: Session,
    *,
    now: datetime | None = None,
    customers: int = 5000,
    seed: int = 7,
    history_days: int = 90,
    contacts_per_day: int = 250,
) -> DemoInfo:
    """Create the demo tenant with its history, or return it untouched if it exists.

    Writes in the caller's transaction and does not commit. `contacts_per_day` is the mean
    inbound volume of a weekday (outbound and follow-ups come on top)."""
    existing = session.execute(select(Tenant.id).where(Tenant.slug == DEMO_SLUG)).scalar()
    if existing is not None:
        return DemoInfo(
            existing,
            DEMO_SLUG,
            False,
            demo_logins(session, existing),
            demo_counts(session, existing),
        )
    if customers < 10:
        raise ValueError(f"customers must be at least 10, got {customers}")
    if history_days < 1:
        raise ValueError(f"history_days must be at least 1, got {history_days}")
    if contacts_per_day < 1:
        raise ValueError(f"contacts_per_day must be at least 1, got {contacts_per_day}")
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    builder = _DemoBuilder(session, now.astimezone(UTC), seed)
    tenant_id = builder.build(customers, history_days, contacts_per_day)
    return DemoInfo(
        tenant_id, DEMO_SLUG, True, demo_logins(session, tenant_id), demo_counts(session, tenant_id)
    )


def demo_counts(session: Session, tenant_id: str) -> dict[str, int]:
    counts = {}
    for label, model in (
        ("partners", Partner),
        ("skills", Skill),
        ("queues", Queue),
        ("users", User),
        ("agents", Agent),
        ("customers", Customer),
        ("identities", Identity),
        ("conversations", Conversation),
        ("contacts", Contact),
        ("legs", Leg),
        ("messages", Message),
        ("events", Event),
    ):
        counts[label] = session.execute(
            select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
        ).scalar_one()
    return counts


# --------------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------------


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


@dataclass
class _AgentSim:
    id: str
    user_id: str
    partner_id: str | None
    team: str
    languages: tuple[str, ...]
    age_band: str
    skills: dict[str, int]
    shift: str
    days_off: tuple[int, int]
    # per channel: the times at which each capacity slot becomes free
    slots: dict[str, list[datetime]] = field(default_factory=dict)
    handled: int = 0
    # local date -> (log-in, lunch break, back from break, log-out), UTC
    shifts: dict[date, tuple[datetime, datetime, datetime, datetime]] = field(default_factory=dict)

    def on_shift(self, at: datetime) -> bool:
        """Logged in and not on the lunch break at `at`."""
        times = self.shifts.get(at.astimezone(TZ).date())
        if times is None:
            return False
        start, lunch, back, end = times
        return start <= at < lunch or back <= at < end


@dataclass
class _CustomerSim:
    id: str
    name: str
    language: str
    region: str
    tier: str
    marketing_call: bool


class _DemoBuilder:
    def __init__(self, session: Session, now: datetime, seed: int) -> None:
        self.session = session
        self.now = now
        self.rng = random.Random(seed)
        self.people = _data("people.json")
        self.scripts = _data("scripts.json")
        self.tenant_id = ""
        self.partner_ids: dict[str, str] = {}
        self.skill_ids: dict[str, str] = {}
        self.queue_ids: dict[str, str] = {}
        self.queue_partner: dict[str, str | None] = {}
        self.agents: list[_AgentSim] = []
        self.customers: list[_CustomerSim] = []
        self.events: list[dict[str, Any]] = []
        self.pending: list[dict[str, Any]] = []
        self.order = 0
        self.used_identities: set[tuple[str, str]] = set()

    def new_id(self, at: datetime) -> str:
        """Like `lianluo.db.base.new_id` (time-ordered), but drawn from the seeded generator."""
        millis = max(0, int(at.timestamp() * 1000))
        return f"{millis:012x}{self.rng.getrandbits(80):020x}"

    def insert(self, model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(rows), INSERT_CHUNK_ROWS):
            self.session.execute(insert(model), list(rows[start : start + INSERT_CHUNK_ROWS]))

    def build(self, customers: int, history_days: int, contacts_per_day: int) -> str:
        setup_at = self.now - timedelta(days=history_days + 400)
        self.tenant_id = self.new_id(setup_at)
        self.insert(
            Tenant,
            [
                {
                    "id": self.tenant_id,
                    "slug": DEMO_SLUG,
                    "name": "华联通信客服中心 (Demo)",
                    "timezone": DEMO_TIMEZONE,
                    "is_active": True,
                    "settings": {"hotline": "10099", "locale": "zh-CN", "demo": True},
                    "created_at": setup_at,
                    "updated_at": setup_at,
                }
            ],
        )
        self.build_structure(setup_at)
        self.build_people(setup_at)
        self.build_customers(customers, history_days)
        self.build_history(history_days, contacts_per_day)
        self.events.sort(key=lambda row: (row["occurred_at"], row["_order"]))
        for row in self.events:
            del row["_order"]
        self.insert(Event, self.events)
        self.build_knowledge_base()  # kb
        return self.tenant_id

    def build_knowledge_base(self) -> None:
        """Published bilingual articles, last so the other rows' seeded ids stay as they were."""
        from lianluo.kb.demo import seed_kb_articles

        author = self.session.execute(
            select(User.id).where(
                User.tenant_id == self.tenant_id, User.username == "demo.supervisor"
            )
        ).scalar()
        seed_kb_articles(
            self.session, self.tenant_id, author, self.now - timedelta(days=30), self.new_id
        )

    def stamp(self, at: datetime) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "created_at": at, "updated_at": at}

    # -- partners, skills, queues ------------------------------------------------------------

    def build_structure(self, at: datetime) -> None:
        rows = []
        for code, name in PARTNERS:
            self.partner_ids[code] = self.new_id(at)
            rows.append(
                {
                    "id": self.partner_ids[code],
                    "code": code,
                    "name": name,
                    "is_active": True,
                    **self.stamp(at),
                }
            )
        self.insert(Partner, rows)
        rows = []
        for name, description in SKILLS:
            self.skill_ids[name] = self.new_id(at)
            rows.append(
                {
                    "id": self.skill_ids[name],
                    "name": name,
                    "description": description,
                    **self.stamp(at),
                }
            )
        self.insert(Skill, rows)
        for spec in QUEUES:
            self.queue_ids[spec.key] = self.new_id(at)
            self.queue_partner[spec.key] = self.partner_ids[spec.partner] if spec.partner else None
        rows = []
        hours = {
            "timezone": DEMO_TIMEZONE,
            "weekly": {
                d: [[f"{OPEN_HOUR:02d}:00", f"{CLOSE_HOUR:02d}:00"]]
                for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            },
        }
        for spec in QUEUES:
            steps = []
            for after_s, action, extra in RELAXATION[spec.key]:
                step: dict[str, Any] = {"after_s": after_s, "action": action}
                if action == "overflow":
                    step["queue_id"] = self.queue_ids[extra["queue"]]
                else:
                    step.update(extra)
                steps.append(step)
            rows.append(
                {
                    "id": self.queue_ids[spec.key],
                    "partner_id": self.queue_partner[spec.key],
                    "name": spec.name,
                    "description": spec.description,
                    "channels": list(spec.channels),
                    "priority": spec.priority,
                    "required_skills": dict(spec.required_skills),
                    "attribute_expr": spec.attribute_expr,
                    "selection_policy": spec.selection_policy,
                    "ageing_per_min": 2.0 if spec.key in ("vip", "complaints") else 1.0,
                    "sl_target_s": spec.sl_target_s,
                    "sl_target_ratio": spec.sl_target_ratio,
                    "short_abandon_s": 5,
                    "offer_timeout_s": 20,
                    "wrap_up_s": spec.wrap_up_s,
                    "relaxation": steps,
                    "business_hours": hours,
                    "callback_enabled": spec.direction == "inbound" and "voice" in spec.channels,
                    "is_active": True,
                    **self.stamp(at),
                }
            )
        self.insert(Queue, rows)

    # -- users and agents --------------------------------------------------------------------

    def chinese_name(self) -> tuple[str, str, str]:
        """(name, surname pinyin, given-name pinyin), e.g. ("王秀英", "wang", "xiuying")."""
        rng = self.rng
        surname, surname_py, _share = rng.choices(
            self.people["surnames"], weights=[s[2] for s in self.people["surnames"]]
        )[0]
        pool = self.people["given_male"] if rng.random() < 0.5 else self.people["given_female"]
        first = rng.choice(pool)
        if len(first[0]) == 1 and rng.random() < 0.7:
            second = rng.choice(pool)
            return surname + first[0] + second[0], surname_py, first[1] + second[1]
        return surname + first[0], surname_py, first[1]

    def build_people(self, at: datetime) -> None:
        rng = self.rng
        hashes = {role: hash_password(password) for role, password in DEMO_PASSWORDS.items()}
        users, agents, agent_skills = [], [], []
        logins = _roster()
        staff_titles = {login.username: login.display_name for login in logins}
        team_of: list[TeamSpec] = [team for team in TEAMS for _ in range(team.size)]
        agent_number = 0
        for login in logins:
            user_id = self.new_id(at)
            partner_id = self.partner_ids[login.partner] if login.partner else None
            display_name = staff_titles[login.username]
            locale = "zh-CN"
            if login.role == "agent":
                team = team_of[agent_number]
                agent_number += 1
                name, _s, given_py = self.chinese_name()
                display_name = name
                if team.partner == "stellar":
                    english = rng.choice(self.people["english_first"])
                    display_name = f"{name} ({english})"
                    locale = "en-US" if team.english_share == 1.0 else locale
            users.append(
                {
                    "id": user_id,
                    "partner_id": partner_id,
                    "username": login.username,
                    "display_name": display_name,
                    "password_hash": hashes[login.role],
                    "roles": [login.role],
                    "locale": locale,
                    "is_active": True,
                    "is_superuser": False,
                    "token_version": 0,
                    "last_login_at": None,
                    **self.stamp(at),
                }
            )
            if login.role != "agent":
                continue
            agent_id = self.new_id(at)
            languages = ["zh"]
            if rng.random() < team.english_share:
                languages.append("en")
            if rng.random() < team.cantonese_share:
                languages.append("yue")
            career = _weighted(rng, CAREER_LEVELS)
            age_band = _weighted(rng, AGE_BANDS)
            if team.name == "投诉组" and age_band == "18-24":
                age_band = "25-34"  # complaint desks are staffed with experienced people
            bonus = {"new": -2, "qualified": 0, "excellent": 1, "trainer": 2}[career]
            skills = {}
            for skill, (low, high) in team.skills.items():
                skills[skill] = max(1, min(10, rng.randint(low, high) + bonus))
            if "yue" in languages:
                skills["cantonese"] = rng.randint(6, 10)
            shift = team.shift if team.shift != "mixed" else ("early", "late")[agent_number % 2]
            off = (agent_number * 3) % 7
            sim = _AgentSim(
                id=agent_id,
                user_id=user_id,
                partner_id=partner_id,
                team=team.name,
                languages=tuple(languages),
                age_band=age_band,
                skills=skills,
                shift=shift,
                days_off=(off, (off + 1) % 7),
            )
            self.agents.append(sim)
            agents.append(
                {
                    "id": agent_id,
                    "user_id": user_id,
                    "partner_id": partner_id,
                    "team": team.name,
                    "career_level": career,
                    "attributes": {
                        "languages": languages,
                        "age_band": age_band,
                        "region": team.region,
                        "shift": shift,
                    },
                    "capacity": dict(CAPACITY),
                    "state": "offline",
                    "state_reason": "",
                    "state_since": self.now,
                    **self.stamp(at),
                }
            )
            for skill, level in skills.items():
                agent_skills.append(
                    {
                        "tenant_id": self.tenant_id,
                        "agent_id": agent_id,
                        "skill_id": self.skill_ids[skill],
                        "level": level,
                    }
                )
        self.insert(User, users)
        self.insert(Agent, agents)
        self.insert(AgentSkill, agent_skills)

    # -- customers ---------------------------------------------------------------------------

    def unique(self, kind: str, make: Callable[[], str]) -> str | None:
        """A value from `make` that no customer has yet (None after 50 collisions)."""
        for _ in range(50):
            value = normalize_identity(kind, make())
            if (kind, value) not in self.used_identities:
                self.used_identities.add((kind, value))
                return value
        return None

    def mainland_mobile(self) -> str:
        prefix = self.rng.choice(self.people["mobile_prefixes"])
        return f"+86{prefix}{self.rng.randrange(10**8):08d}"

    def hong_kong_mobile(self) -> str:
        return f"+852{self.rng.choice('569')}{self.rng.randrange(10**7):07d}"

    def qq_email(self) -> str:
        return f"{self.rng.randrange(10**5, 10**10)}@qq.com"

    def named_email(self, handle: str, domain: str) -> str:
        suffix = self.rng.choice(
            ("", "", str(self.rng.randrange(1, 100)), str(self.rng.randrange(1960, 2006)))
        )
        return f"{handle}{suffix}@{domain}"

    def build_customers(self, count: int, history_days: int) -> None:
        rng = self.rng
        regions = self.people["regions"]
        region_weights = [r[2] for r in regions]
        domains = self.people["email_domains"]
        customers, identities = [], []
        for _ in range(count):
            created_at = self.now - timedelta(days=history_days + rng.uniform(0, 3 * 365))
            customer_id = self.new_id(created_at)
            province, cities, _w = rng.choices(regions, weights=region_weights)[0]
            city = rng.choice(cities)
            english = rng.random() < (0.35 if province == "香港" else 0.06)
            if english:
                given = rng.choice(self.people["english_first"])
                family = rng.choice(self.people["english_last"])
                name, language = f"{given} {family}", "en"
                handle = f"{given}.{family}".lower().replace("'", "").replace("ü", "ue")
            else:
                name, surname_py, given_py = self.chinese_name()
                language = "yue" if province in ("广东", "香港") and rng.random() < 0.3 else "zh"
                handle = rng.choice(
                    (
                        f"{given_py}.{surname_py}",
                        f"{surname_py}{given_py}",
                        f"{surname_py}_{given_py[:1]}",
                    )
                )
            tier = _weighted(rng, VALUE_TIERS)
            phones = []
            for number in range(1 if rng.random() < 0.88 else 2):
                hong_kong = province == "香港" and number == 0
                phone = self.unique(
                    "phone", self.hong_kong_mobile if hong_kong else self.mainland_mobile
                )
                if phone:
                    phones.append(phone)
            emails = []
            if rng.random() < (0.9 if english else 0.55):
                domain = _weighted(rng, domains)
                email = self.unique(
                    "email",
                    self.qq_email
                    if domain == "qq.com"
                    else partial(self.named_email, handle, domain),
                )
                if email:
                    emails.append(email)
            tags = rng.sample(TAGS, k=rng.choice((0, 0, 1, 1, 2, 3)))
            if tier in ("gold", "vip") and "企业客户" not in tags and rng.random() < 0.3:
                tags.append("企业客户")
            churn = rng.betavariate(2, 9) + (0.15 if "合约到期" in tags else 0.0)
            consents = {
                "marketing_call": rng.random() < 0.45,
                "marketing_sms": rng.random() < 0.6,
                "service_survey": rng.random() < 0.85,
            }
            plan = rng.choice(self.scripts["slots"]["plan_en" if english else "plan_zh"])
            arpu = {"standard": 55, "silver": 110, "gold": 220, "vip": 480}[tier]
            values = phones + emails
            customers.append(
                {
                    "id": customer_id,
                    "name": name,
                    "search_text": search_text_for(name, values),
                    "language": language,
                    "region": province,
                    "value_tier": tier,
                    "attributes": {
                        "city": city,
                        "age_band": _weighted(rng, CUSTOMER_AGE_BANDS),
                        "plan": plan,
                        "tenure_months": rng.randint(1, 240),
                        "arpu_cny": round(_lognormal(rng, arpu, 0.35), 1),
                    },
                    "tags": tags,
                    "consents": consents,
                    "churn_risk": round(min(churn, 0.99), 3),
                    "merged_into_id": None,
                    "partner_id": None,
                    **self.stamp(created_at),
                }
            )
            for kind, values_of_kind in (("phone", phones), ("email", emails)):
                for value in values_of_kind:
                    identities.append(
                        {
                            "id": self.new_id(created_at),
                            "customer_id": customer_id,
                            "kind": kind,
                            "value": value,
                            "verified": kind == "phone" or rng.random() < 0.5,
                            **self.stamp(created_at),
                        }
                    )
            self.customers.append(
                _CustomerSim(
                    customer_id, name, language, province, tier, consents["marketing_call"]
                )
            )
        self.insert(Customer, customers)
        self.insert(Identity, identities)

    # -- history -----------------------------------------------------------------------------

    def build_history(self, history_days: int, contacts_per_day: int) -> None:
        self.plan_shifts(history_days)
        plans = self.plan_contacts(history_days, contacts_per_day)
        plans.sort(key=lambda plan: plan["queued_at"])
        conversations: dict[str, dict[str, Any]] = {}
        contacts, legs, messages = [], [], []
        for plan in plans:
            self.pending = []
            outcome = self.simulate(plan)
            if outcome["contact"]["ended_at"] > self.now:
                continue  # still running at `now`: history holds finished contacts only
            self.events.extend(self.pending)
            contact = outcome["contact"]
            contacts.append(contact)
            legs.extend(outcome["legs"])
            messages.extend(outcome["messages"])
            conv = conversations.setdefault(
                plan["conversation_id"],
                {
                    "id": plan["conversation_id"],
                    "tenant_id": self.tenant_id,
                    "customer_id": contact["customer_id"],
                    "subject": plan["subject"],
                    "started_at": contact["queued_at"],
                    "ended_at": contact["ended_at"],
                    "disposition": contact["disposition"],
                },
            )
            conv["ended_at"] = max(conv["ended_at"], contact["ended_at"])
            conv["disposition"] = contact["disposition"]
        recent = self.now - timedelta(days=7)
        conversation_rows = []
        for conv in conversations.values():
            disposition = conv.pop("disposition")
            is_open = disposition in OPEN_DISPOSITIONS and conv["started_at"] > recent
            conv["status"] = "open" if is_open else "closed"
            if is_open:
                conv["ended_at"] = None
            conversation_rows.append(conv)
        conversation_rows.sort(key=lambda row: row["started_at"])
        self.insert(Conversation, conversation_rows)
        self.insert(Contact, contacts)
        self.insert(Leg, legs)
        messages.sort(key=lambda row: row["created_at"])
        self.insert(Message, messages)
        self.agent_shift_events()

    def arrival_times(
        self, day: datetime, count: int, hours: Mapping[int, float]
    ) -> list[datetime]:
        rng = self.rng
        hour_list = list(hours)
        cumulative = list(accumulate(hours.values()))
        times = []
        for _ in range(count):
            hour = hour_list[bisect_right(cumulative, rng.random() * cumulative[-1])]
            offset = timedelta(hours=hour, seconds=rng.uniform(0, 3600))
            times.append((day + offset).astimezone(UTC))
        return times

    def pick_inbound_queue(self, customer: _CustomerSim) -> str:
        rng = self.rng
        if customer.language == "en":
            return _weighted(rng, (("english", 0.8), ("billing", 0.1), ("complaints", 0.1)))
        if customer.tier == "vip" or (customer.tier == "gold" and rng.random() < 0.4):
            return _weighted(rng, (("vip", 0.85), ("broadband", 0.1), ("complaints", 0.05)))
        return _weighted(rng, (("billing", 0.52), ("broadband", 0.36), ("complaints", 0.12)))

    def plan_contacts(self, history_days: int, contacts_per_day: int) -> list[dict[str, Any]]:
        """Who contacts which queue on which channel when: arrivals and follow-ups."""
        rng = self.rng
        spec_by_key = {spec.key: spec for spec in QUEUES}
        # Frequent callers exist: gamma-distributed propensity, higher for VIP and gold.
        tier_factor = {"standard": 1.0, "silver": 1.2, "gold": 1.6, "vip": 2.5}
        weights = [rng.gammavariate(0.7, 1.0) * tier_factor[c.tier] for c in self.customers]
        cumulative = list(accumulate(weights))
        callable_customers = [c for c in self.customers if c.marketing_call] or self.customers
        plans: list[dict[str, Any]] = []
        local_now = self.now.astimezone(TZ)
        latest_start = self.now - timedelta(hours=2)
        for days_back in range(history_days, -1, -1):
            day = (local_now - timedelta(days=days_back)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            factor = WEEKDAY_FACTORS[day.weekday()] * (1.15 if day.day <= 5 else 1.0)
            mean = contacts_per_day * factor * math.exp(rng.gauss(0, 0.08))
            inbound = max(0, round(rng.gauss(mean, math.sqrt(mean))))
            for queued_at in self.arrival_times(day, inbound, HOUR_WEIGHTS):
                if queued_at > latest_start:
                    continue
                index = bisect_right(cumulative, rng.random() * cumulative[-1])
                customer = self.customers[min(index, len(self.customers) - 1)]
                key = self.pick_inbound_queue(customer)
                spec = spec_by_key[key]
                channel = rng.choices(spec.channels, weights=spec.channel_mix)[0]
                if channel == "email":  # e-mail arrives around the clock
                    queued_at = (day + timedelta(seconds=rng.uniform(0, 86400))).astimezone(UTC)
                    if queued_at > latest_start:
                        continue
                conversation_id = self.new_id(queued_at)
                subject = self.subject(spec.topic, customer.language)
                plans.append(self.plan(customer, key, channel, queued_at, conversation_id, subject))
                follow_at = queued_at
                for chance in (0.15, 0.3):  # repeat contacts on the same need
                    if rng.random() >= chance:
                        break
                    follow_at = follow_at + timedelta(hours=rng.uniform(2, 96))
                    local = follow_at.astimezone(TZ)
                    if not OPEN_HOUR <= local.hour < CLOSE_HOUR - 1:
                        follow_at = (
                            local.replace(hour=OPEN_HOUR + 1) + timedelta(days=1)
                        ).astimezone(UTC)
                    if follow_at > latest_start:
                        break
                    follow_key = "complaints" if rng.random() < 0.2 and key != "english" else key
                    follow_spec = spec_by_key[follow_key]
                    follow_channel = rng.choices(
                        follow_spec.channels, weights=follow_spec.channel_mix
                    )[0]
                    plans.append(
                        self.plan(
                            customer,
                            follow_key,
                            follow_channel,
                            follow_at,
                            conversation_id,
                            subject,
                        )
                    )
            outbound = max(
                0,
                round(
                    contacts_per_day
                    * 0.22
                    * (0.0 if day.weekday() == 6 else 1)
                    * math.exp(rng.gauss(0, 0.1))
                ),
            )
            sales_hours = {
                10: 1.0,
                11: 1.0,
                14: 1.0,
                15: 1.0,
                16: 1.0,
                17: 0.8,
                18: 0.8,
                19: 1.0,
                20: 0.7,
            }
            for queued_at in self.arrival_times(day, outbound, sales_hours):
                if queued_at > latest_start:
                    continue
                customer = rng.choice(callable_customers)
                plans.append(
                    self.plan(
                        customer,
                        "sales",
                        "voice",
                        queued_at,
                        self.new_id(queued_at),
                        self.subject("sales", customer.language),
                    )
                )
        return plans

    def plan(
        self,
        customer: _CustomerSim,
        key: str,
        channel: str,
        queued_at: datetime,
        conversation_id: str,
        subject: str,
    ) -> dict[str, Any]:
        return {
            "customer": customer,
            "queue": key,
            "channel": channel,
            "queued_at": queued_at,
            "conversation_id": conversation_id,
            "subject": subject,
        }

    def subject(self, topic: str, language: str) -> str:
        material = self.scripts["topics"][topic]
        subjects = material["subjects_en" if language == "en" else "subjects_zh"]
        return self.fill(self.rng.choice(subjects), language)

    def fill(self, text: str, language: str) -> str:
        if "{" not in text:
            return text
        rng = self.rng
        slots = self.scripts["slots"]
        date = (self.now - timedelta(days=rng.randint(-10, 60))).astimezone(TZ)
        month_number = rng.randint(1, 12)
        english_months = (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        )
        values = {
            "amount": f"{rng.choice((8, 10, 15, 20, 30, 38, 50, 68, 100, 128))}",
            "month": english_months[month_number - 1] if language == "en" else str(month_number),
            "plan_zh": rng.choice(slots["plan_zh"]),
            "plan_en": rng.choice(slots["plan_en"]),
            "service_zh": rng.choice(slots["service_zh"]),
            "service_en": rng.choice(slots["service_en"]),
            "date": date.strftime("%m-%d") if language == "en" else f"{date.month}月{date.day}日",
            "gb": str(rng.randint(1, 30)),
            "days": str(rng.randint(1, 3)),
            "ticket": f"GZ{date:%Y%m%d}{rng.randrange(10**5):05d}",
            "mbps": str(rng.randint(5, 40)),
            "mbps2": str(rng.randint(200, 900)),
            "points": str(rng.randrange(2000, 60000, 100)),
            "score": str(rng.randint(3, 5)),
        }
        return text.format(**values)

    # -- one contact -------------------------------------------------------------------------

    def eligible(self, spec: QueueSpec, language: str, at: datetime) -> list[_AgentSim]:
        ((skill, level),) = spec.required_skills.items()
        pool = [a for a in self.agents if a.skills.get(skill, 0) >= 1]
        if spec.partner:  # the partner works the queue; in-house agents only back it up
            partner_id = self.partner_ids[spec.partner]
            own = [a for a in pool if a.partner_id == partner_id]
            pool = own or pool
        for candidates in (
            [a for a in pool if a.skills[skill] >= level and language in a.languages],
            [a for a in pool if language in a.languages],
            pool,
        ):
            on_shift = [a for a in candidates if a.on_shift(at)]
            if on_shift:
                return on_shift
        return pool

    def free_at(self, agent: _AgentSim, channel: str) -> datetime:
        slots = agent.slots.setdefault(
            channel, [datetime.min.replace(tzinfo=UTC)] * CAPACITY[channel]
        )
        return min(slots)

    def occupy(self, agent: _AgentSim, channel: str, start: datetime, end: datetime) -> None:
        slots = agent.slots[channel]
        index = min(range(len(slots)), key=lambda i: slots[i])
        slots[index] = max(end, start)
        agent.handled += 1

    def choose_agent(
        self,
        spec: QueueSpec,
        candidates: list[_AgentSim],
        channel: str,
        ready_at: datetime,
        exclude: str | None = None,
    ) -> _AgentSim:
        skill = next(iter(spec.required_skills))
        candidates = [a for a in candidates if a.id != exclude] or candidates
        free = [a for a in candidates if self.free_at(a, channel) <= ready_at]
        if not free:
            return min(candidates, key=lambda a: (self.free_at(a, channel), a.id))
        if spec.selection_policy == "best_proficiency":
            return max(free, key=lambda a: (a.skills.get(skill, 0), -a.handled, a.id))
        if spec.selection_policy == "least_loaded":
            return min(free, key=lambda a: (a.handled, a.id))
        return min(free, key=lambda a: (self.free_at(a, channel), a.id))

    def to_business_hours(self, at: datetime) -> datetime:
        local = at.astimezone(TZ)
        if local.hour < OPEN_HOUR:
            local = local.replace(hour=OPEN_HOUR, minute=0, second=0)
        elif local.hour >= CLOSE_HOUR - 1:
            local = (local + timedelta(days=1)).replace(hour=OPEN_HOUR, minute=0, second=0)
        else:
            return at
        return (local + timedelta(seconds=self.rng.uniform(0, 7200))).astimezone(UTC)

    def simulate(self, plan: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        spec = next(s for s in QUEUES if s.key == plan["queue"])
        customer: _CustomerSim = plan["customer"]
        channel: str = plan["channel"]
        queued_at: datetime = plan["queued_at"]
        contact_id = self.new_id(queued_at)
        queue_id = self.queue_ids[spec.key]
        partner_id = self.queue_partner[spec.key]
        outbound = spec.direction == "outbound"
        hour_load = HOUR_WEIGHTS.get(queued_at.astimezone(TZ).hour, 0.5)

        # When would the contact be answered if an agent were free, and how patient is the
        # customer? Outbound: the agent dials at queued_at; the customer may not pick up.
        if channel == "email":
            ready_at = self.to_business_hours(
                queued_at + timedelta(seconds=rng.uniform(0.3, 8) * 3600)
            )
            patience_s = math.inf
        elif outbound:
            ready_at = queued_at
            patience_s = math.inf
        else:
            base = _lognormal(
                rng, spec.median_wait_s * hour_load * (1.6 if channel == "chat" else 1.0), 0.8
            )
            ready_at = queued_at + timedelta(seconds=base)
            # A few hang up at once (short abandons); the rest wait around `patience_s`.
            patience_s = (
                rng.uniform(0, 5)
                if rng.random() < 0.03
                else _lognormal(rng, spec.patience_s * (2.0 if channel == "chat" else 1.0), 0.7)
            )
        candidates = self.eligible(spec, customer.language, ready_at)
        agent = self.choose_agent(spec, candidates, channel, ready_at)
        ring_s = {
            "voice": rng.uniform(3, 10),
            "chat": rng.uniform(1, 6),
            "email": rng.uniform(5, 60),
        }[channel]
        answer_at = max(ready_at, self.free_at(agent, channel) + timedelta(seconds=ring_s))
        wait_s = (answer_at - queued_at).total_seconds()

        contact: dict[str, Any] = {
            "id": contact_id,
            "tenant_id": self.tenant_id,
            "conversation_id": plan["conversation_id"],
            "customer_id": customer.id,
            "queue_id": queue_id,
            "agent_id": None,
            "channel": channel,
            "direction": spec.direction,
            "priority": spec.priority + TIER_PRIORITY[customer.tier],
            "required_skills": dict(spec.required_skills),
            "attributes": {
                "language": customer.language,
                "region": customer.region,
                "tier": customer.tier,
            },
            "queued_at": queued_at,
            "answered_at": None,
            "ended_at": None,
            "disposition": "",
            "notes": "",
        }
        base_event = {
            "customer_id": customer.id,
            "contact_id": contact_id,
            "queue_id": queue_id,
            "partner_id": partner_id,
        }
        self.event(
            "contact.queued",
            queued_at,
            base_event,
            {
                "channel": channel,
                "direction": spec.direction,
                "priority": contact["priority"],
                "conversation_id": plan["conversation_id"],
                "required_skills": dict(spec.required_skills),
                "region": customer.region,
            },
        )
        messages: list[dict[str, Any]] = []

        if wait_s > patience_s:  # abandoned while waiting
            abandoned_at = queued_at + timedelta(seconds=patience_s)
            contact.update(state="abandoned", ended_at=abandoned_at, disposition="abandoned")
            if channel == "chat":
                messages = self.chat_messages(
                    plan, contact_id, customer, None, queued_at, abandoned_at, abandoned=True
                )
            self.event(
                "contact.abandoned",
                abandoned_at,
                base_event,
                {"channel": channel, "wait_s": round(patience_s, 3)},
            )
            return {"contact": contact, "legs": [], "messages": messages}

        talk_median = spec.median_talk_s * {"voice": 1.0, "chat": 2.2, "email": 1.3}[channel]
        talk_s = min(3600.0, max(20.0, _lognormal(rng, talk_median, 0.5)))
        hold_s = _lognormal(rng, 40, 0.6) if channel == "voice" and rng.random() < 0.3 else 0.0
        acw_s = min(300.0, max(5.0, _lognormal(rng, spec.wrap_up_s, 0.4)))
        offered_at = max(queued_at, answer_at - timedelta(seconds=ring_s))

        if outbound:
            picked_up = rng.random() < 0.55
            dial_s = rng.uniform(6, 28)
            leg_id = self.new_id(offered_at)
            agent_event = {**base_event, "agent_id": agent.id}
            self.event("contact.offered", offered_at, agent_event, {"leg_id": leg_id})
            if picked_up:
                answered_at = offered_at + timedelta(seconds=dial_s)
                ended_at = answered_at + timedelta(seconds=talk_s + acw_s)
                disposition = _weighted(
                    rng, [tuple(d) for d in self.scripts["topics"]["sales"]["dispositions"]]
                )
                self.event(
                    "contact.answered",
                    answered_at,
                    agent_event,
                    {"channel": channel, "wait_s": round(dial_s, 3), "leg_id": leg_id},
                )
            else:
                answered_at = None
                talk_s = hold_s = 0.0
                acw_s = min(acw_s, 15.0)
                ended_at = offered_at + timedelta(seconds=30 + acw_s)
                disposition = "no_answer"
            self.occupy(agent, channel, offered_at, ended_at)
            contact.update(
                state="ended",
                agent_id=agent.id,
                answered_at=answered_at,
                ended_at=ended_at,
                disposition=disposition,
                notes=self.note("sales", customer.language) if picked_up else "",
            )
            leg = {
                "id": leg_id,
                "tenant_id": self.tenant_id,
                "contact_id": contact_id,
                "agent_id": agent.id,
                "offered_at": offered_at,
                "answered_at": answered_at,
                "ended_at": ended_at,
                "end_reason": "completed" if picked_up else "no_answer",
                "talk_s": round(talk_s, 3),
                "hold_s": 0.0,
                "acw_s": round(acw_s, 3),
            }
            self.event(
                "contact.ended",
                ended_at,
                agent_event,
                {
                    "channel": channel,
                    "direction": "outbound",
                    "wait_s": round(dial_s, 3) if picked_up else None,
                    "talk_s": leg["talk_s"],
                    "hold_s": 0.0,
                    "acw_s": leg["acw_s"],
                    "disposition": disposition,
                    "transferred": False,
                    "legs": 1,
                },
            )
            return {"contact": contact, "legs": [leg], "messages": []}

        # Inbound, answered; 5 % are transferred to a second agent (escalations mostly).
        transferred = channel != "email" and rng.random() < 0.05
        legs: list[dict[str, Any]] = []
        first_talk_s = talk_s * rng.uniform(0.25, 0.6) if transferred else talk_s
        first_end = answer_at + timedelta(
            seconds=first_talk_s + hold_s + (0.0 if transferred else acw_s)
        )
        first_leg = {
            "id": self.new_id(offered_at),
            "tenant_id": self.tenant_id,
            "contact_id": contact_id,
            "agent_id": agent.id,
            "offered_at": offered_at,
            "answered_at": answer_at,
            "ended_at": first_end,
            "end_reason": "transferred" if transferred else "completed",
            "talk_s": round(first_talk_s, 3),
            "hold_s": round(hold_s, 3),
            "acw_s": 0.0 if transferred else round(acw_s, 3),
        }
        legs.append(first_leg)
        self.occupy(agent, channel, offered_at, first_end)
        agent_event = {**base_event, "agent_id": agent.id}
        self.event("contact.offered", offered_at, agent_event, {"leg_id": first_leg["id"]})
        self.event(
            "contact.answered",
            answer_at,
            agent_event,
            {"channel": channel, "wait_s": round(wait_s, 3), "leg_id": first_leg["id"]},
        )
        ended_at = first_end
        last_agent = agent
        if transferred:
            target_key = "complaints" if spec.key != "complaints" else "vip"
            target_spec = next(s for s in QUEUES if s.key == target_key)
            second_pool = self.eligible(target_spec, customer.language, first_end)
            second = self.choose_agent(target_spec, second_pool, channel, first_end, agent.id)
            second_offer = max(first_end, self.free_at(second, channel))
            second_answer = second_offer + timedelta(seconds=rng.uniform(2, 8))
            rest_s = talk_s - first_talk_s
            ended_at = second_answer + timedelta(seconds=rest_s + acw_s)
            second_leg = {
                "id": self.new_id(second_offer),
                "tenant_id": self.tenant_id,
                "contact_id": contact_id,
                "agent_id": second.id,
                "offered_at": second_offer,
                "answered_at": second_answer,
                "ended_at": ended_at,
                "end_reason": "completed",
                "talk_s": round(rest_s, 3),
                "hold_s": 0.0,
                "acw_s": round(acw_s, 3),
            }
            legs.append(second_leg)
            self.occupy(second, channel, second_offer, ended_at)
            self.event(
                "contact.transferred",
                first_end,
                agent_event,
                {"from_agent_id": agent.id, "to_agent_id": second.id, "leg_id": second_leg["id"]},
            )
            self.event(
                "contact.offered",
                second_offer,
                {**base_event, "agent_id": second.id},
                {"leg_id": second_leg["id"]},
            )
            last_agent = second
        disposition = _weighted(
            rng, [tuple(d) for d in self.scripts["topics"][spec.topic]["dispositions"]]
        )
        if transferred and spec.key != "complaints":
            disposition = "escalated"
        contact.update(
            state="ended",
            agent_id=agent.id,
            answered_at=answer_at,
            ended_at=ended_at,
            disposition=disposition,
            notes=self.note(spec.topic, customer.language) if channel == "voice" else "",
        )
        talk_end = ended_at - timedelta(seconds=acw_s)
        surveyed = False
        if channel == "chat":
            messages = self.chat_messages(
                plan, contact_id, customer, last_agent, queued_at, answer_at, talk_end=talk_end
            )
        elif channel == "email":
            messages = self.email_messages(
                plan, contact_id, customer, last_agent, queued_at, talk_end
            )
        elif rng.random() < 0.3:  # satisfaction survey by SMS after the call
            surveyed = True
            text = (
                "Thank you for calling. Reply 1-5 to rate our service."
                if customer.language == "en"
                else "【华联通信】感谢您的来电，请回复1-5对本次服务评分。"
            )
            messages = [
                self.message(
                    plan, contact_id, "system", None, text, ended_at - timedelta(seconds=acw_s / 2)
                )
            ]
        self.event(
            "contact.ended",
            ended_at,
            {**base_event, "agent_id": last_agent.id},
            {
                "channel": channel,
                "direction": "inbound",
                "wait_s": round(wait_s, 3),
                "talk_s": round(sum(leg["talk_s"] for leg in legs), 3),
                "hold_s": round(hold_s, 3),
                "acw_s": round(acw_s, 3),
                "disposition": disposition,
                "transferred": transferred,
                "first_agent_id": agent.id,
                "legs": len(legs),
            },
        )
        self.rating(contact_id, channel, surveyed, wait_s, ended_at, last_agent.id, base_event)
        return {"contact": contact, "legs": legs, "messages": messages}

    def rating(
        self,
        contact_id: str,
        channel: str,
        surveyed: bool,
        wait_s: float,
        ended_at: datetime,
        agent_id: str,
        refs: Mapping[str, Any],
    ) -> None:
        """The customer's answer (CSAT 1-5): 60 % of the SMS surveys after a call are answered
        (contact.surveyed), 40 % of chats are rated in the widget (chat.rated); long waits
        make unhappier customers. A random stream of its own, so the rest of the demo stays as
        it was."""
        rng = random.Random(f"csat-{contact_id}")
        if channel == "chat":
            kind, at, answered = "chat.rated", ended_at, rng.random() < 0.4
        elif surveyed:
            kind, at, answered = (
                "contact.surveyed",
                ended_at + timedelta(minutes=5),
                (rng.random() < 0.6),
            )
        else:
            return
        if not answered or at > self.now:
            return
        weights = (4, 6, 12, 38, 40) if wait_s < 60 else (12, 14, 24, 30, 20)
        score = rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
        self.event(kind, at, {**refs, "agent_id": agent_id}, {"score": score})

    def note(self, topic: str, language: str) -> str:
        return self.fill(self.rng.choice(self.scripts["topics"][topic]["notes"]), language)

    def message(
        self,
        plan: dict[str, Any],
        contact_id: str | None,
        sender_kind: str,
        sender_id: str | None,
        body: str,
        at: datetime,
        content_type: str = "text/plain",
    ) -> dict[str, Any]:
        return {
            "id": self.new_id(at),
            "tenant_id": self.tenant_id,
            "conversation_id": plan["conversation_id"],
            "contact_id": contact_id,
            "sender_kind": sender_kind,
            "sender_id": sender_id,
            "body": body,
            "content_type": content_type,
            "client_msg_id": None,
            "created_at": at,
        }

    def chat_messages(
        self,
        plan: dict[str, Any],
        contact_id: str,
        customer: _CustomerSim,
        agent: _AgentSim | None,
        queued_at: datetime,
        answer_at: datetime,
        *,
        talk_end: datetime | None = None,
        abandoned: bool = False,
    ) -> list[dict[str, Any]]:
        rng = self.rng
        english = customer.language == "en"
        spec = next(s for s in QUEUES if s.key == plan["queue"])
        scripts = self.scripts["topics"][spec.topic]["chat_en" if english else "chat_zh"]
        script = rng.choice(scripts) if scripts else [["customer", "你好"], ["agent", "您好"]]
        opening = self.fill(script[0][1], customer.language)
        waiting = (
            "Connecting you to an agent, please wait…"
            if english
            else "正在为您转接人工客服，请稍候…"
        )
        rows = [
            self.message(plan, contact_id, "customer", customer.id, opening, queued_at),
            self.message(
                plan, contact_id, "system", None, waiting, queued_at + timedelta(seconds=1)
            ),
        ]
        if abandoned or agent is None:
            if answer_at > queued_at + timedelta(seconds=2):
                rows.append(
                    self.message(
                        plan,
                        contact_id,
                        "customer",
                        customer.id,
                        "Never mind" if english else "算了，等太久了",
                        answer_at,
                    )
                )
            return rows
        assert talk_end is not None
        turns = script[1:]
        span_s = max(1.0, (talk_end - answer_at).total_seconds())
        step_s = span_s / (len(turns) + 1)
        for index, (sender, text) in enumerate(turns, start=1):
            at = answer_at + timedelta(seconds=step_s * index * rng.uniform(0.9, 1.0))
            sender_id = agent.user_id if sender == "agent" else customer.id
            rows.append(
                self.message(
                    plan, contact_id, sender, sender_id, self.fill(text, customer.language), at
                )
            )
        return rows

    def email_messages(
        self,
        plan: dict[str, Any],
        contact_id: str,
        customer: _CustomerSim,
        agent: _AgentSim,
        queued_at: datetime,
        reply_at: datetime,
    ) -> list[dict[str, Any]]:
        english = customer.language == "en"
        spec = next(s for s in QUEUES if s.key == plan["queue"])
        pairs = self.scripts["topics"][spec.topic]["email_en" if english else "email_zh"]
        question, answer = self.rng.choice(pairs) if pairs else ("您好", "您好")
        return [
            self.message(
                plan,
                contact_id,
                "customer",
                customer.id,
                self.fill(question, customer.language),
                queued_at,
            ),
            self.message(
                plan,
                contact_id,
                "agent",
                agent.user_id,
                self.fill(answer, customer.language),
                reply_at,
            ),
        ]

    # -- events ------------------------------------------------------------------------------

    def event(
        self, type_: str, at: datetime, refs: Mapping[str, Any], payload: dict[str, Any]
    ) -> None:
        self.order += 1
        self.pending.append(
            {
                "tenant_id": self.tenant_id,
                "type": type_,
                "occurred_at": at,
                "actor_id": None,
                "customer_id": refs.get("customer_id"),
                "contact_id": refs.get("contact_id"),
                "queue_id": refs.get("queue_id"),
                "agent_id": refs.get("agent_id"),
                "partner_id": refs.get("partner_id"),
                "payload": payload,
                "_order": self.order,
            }
        )

    def plan_shifts(self, history_days: int) -> None:
        """Every agent's log-in, lunch break and log-out on each working day up to `now`; a
        shift still running at `now` is cut there, so every agent is offline at `now`."""
        local_now = self.now.astimezone(TZ)
        for days_back in range(history_days, -1, -1):
            day = (local_now - timedelta(days=days_back)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            for agent in self.agents:
                if day.weekday() in agent.days_off:
                    continue
                start_h, end_h = SHIFTS[agent.shift]
                jitter = timedelta(seconds=self.rng.uniform(-300, 120))
                start = (day + timedelta(hours=start_h) + jitter).astimezone(UTC)
                lunch = start + timedelta(hours=4, seconds=self.rng.uniform(0, 1800))
                back = lunch + timedelta(minutes=self.rng.uniform(40, 60))
                end = (day + timedelta(hours=end_h, seconds=self.rng.uniform(0, 600))).astimezone(
                    UTC
                )
                if start >= self.now:
                    continue
                end = min(end, self.now)
                lunch, back = min(lunch, end), min(back, end)
                agent.shifts[day.date()] = (start, lunch, back, end)

    def agent_shift_events(self) -> None:
        """agent.state_changed for every planned shift (contacts' busy time is in the legs)."""
        self.pending = []
        for agent in self.agents:
            refs = {"agent_id": agent.id, "partner_id": agent.partner_id}
            for start, lunch, back, end in agent.shifts.values():
                changes = [(start, "offline", "available", "login")]
                if lunch < end:
                    changes.append((lunch, "available", "break", "lunch"))
                    if back < end:
                        changes.append((back, "break", "available", ""))
                        changes.append((end, "available", "offline", "logout"))
                    else:
                        changes.append((end, "break", "offline", "logout"))
                else:
                    changes.append((end, "available", "offline", "logout"))
                for at, before, after, reason in changes:
                    self.event(
                        "agent.state_changed",
                        at,
                        refs,
                        {"from": before, "to": after, "reason": reason},
                    )
        self.events.extend(self.pending)
