"""One row per contact from the contact events of the log, and the KPI totals per cell.

What each event says (contacts/service.py, runtime/router.py and the demo seed write them):

- contact.queued: the contact was offered to a queue — `offered_at`, queue, partner, customer,
  channel, conversation (the customer need for FCR), the required skills (the report's skill is
  the one required at the highest level, `primary_skill`), the customer's region, and when
  set, `complaint_category` and `over_the_head` in its payload;
- contact.answered: the first one gives `answered_at` and the first agent;
- contact.abandoned: `abandoned_at` (the customer hung up while waiting);
- contact.transferred: the first agent passed it on (not end to end: 效能);
- contact.ended: `ended_at`, and talk/hold/after-contact work seconds in its payload;
- chat.rated, ticket.rated (the ticket opened from the contact), contact.surveyed: a
  satisfaction score 1–5 in its payload (`score`), domain.kpi.CSAT_EVENT_TYPES.

A contact's team is the team of the agent who answered it (agents.team, as it is now), added
by the service with `ContactFacts.with_teams`.

A contact counts in the bucket (interval, day, week, month) where it was *queued*, in the
tenant's time zone: a call that starts at 23:58 and ends at 00:10 counts on its first day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from lianluo.domain.kpi import (
    CSAT_EVENT_TYPES,
    KpiParams,
    KpiTotals,
    OutcomeColumns,
    local_bucket_starts,
    repeat_complaint_flags,
    repeat_contact_flags,
    survey_score,
    totals_by_group,
)
from lianluo.domain.kpi.records import BoolArray, ObjectArray

GROUP_COLUMNS = ("queue", "skill", "agent", "team", "partner", "channel", "region")


def primary_skill(required: object) -> str | None:
    """The skill a contact counts under in a report by skill: of its required skills
    ({name: level}), the one required at the highest level, ties broken by name."""
    if not isinstance(required, dict) or not required:
        return None
    levels = {
        str(name): level if isinstance(level, int | float) and not isinstance(level, bool) else 0
        for name, level in required.items()
    }
    return min(levels, key=lambda name: (-levels[name], name))


@dataclass(frozen=True)
class ContactFacts:
    """Contacts in time order (offered_at, then id) with their labels and outcome columns."""

    contact_id: ObjectArray
    queue_id: ObjectArray
    agent_id: ObjectArray
    partner_id: ObjectArray
    cols: OutcomeColumns
    skill: ObjectArray = field(default_factory=lambda: np.empty(0, dtype=object))
    region: ObjectArray = field(default_factory=lambda: np.empty(0, dtype=object))
    team: ObjectArray = field(default_factory=lambda: np.empty(0, dtype=object))

    def __post_init__(self) -> None:
        for name in ("skill", "region", "team"):
            if len(getattr(self, name)) != len(self.contact_id):
                object.__setattr__(self, name, np.full(len(self.contact_id), None, dtype=object))

    def __len__(self) -> int:
        return len(self.contact_id)

    def labels(self, group_by: str) -> ObjectArray:
        if group_by == "queue":
            return self.queue_id
        if group_by == "agent":
            return self.agent_id
        if group_by == "partner":
            return self.partner_id
        if group_by == "channel":
            return self.cols.channel
        if group_by in ("skill", "region", "team"):
            return getattr(self, group_by)  # type: ignore[no-any-return]
        return np.full(len(self), None, dtype=object)

    def with_teams(self, team_of: dict[str, str]) -> ContactFacts:
        """The same facts with each contact's team: the team of its first agent (None when
        unanswered or the agent has no team)."""
        teams = np.array([team_of.get(a) or None for a in self.agent_id], dtype=object)
        return replace(self, team=teams)

    def select(self, mask: BoolArray) -> ContactFacts:
        return ContactFacts(
            contact_id=self.contact_id[mask],
            queue_id=self.queue_id[mask],
            agent_id=self.agent_id[mask],
            partner_id=self.partner_id[mask],
            cols=self.cols.select(mask),
            skill=self.skill[mask],
            region=self.region[mask],
            team=self.team[mask],
        )


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _seconds(payload: dict[str, Any], name: str) -> float:
    value = payload.get(name)
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return float(value)
    return 0.0


def event_fields(kind: str, payload: dict[str, Any] | None) -> dict[str, Any]:
    """The payload fields a contact event contributes, cleaned (durations >= 0 and finite,
    scores 1–5): the one reading of payloads shared by both paths (analytical.py too)."""
    payload = payload or {}
    if kind == "contact.queued":
        category = payload.get("complaint_category")
        need = payload.get("conversation_id")
        region = payload.get("region")
        return {
            "channel": str(payload.get("channel") or "voice"),
            "need_id": str(need) if need else None,
            "skill": primary_skill(payload.get("required_skills")),
            "region": str(region) if region else None,
            "complaint_category": str(category) if category else None,
            "over_the_head": bool(payload.get("over_the_head")),
        }
    if kind == "contact.ended":
        return {
            "talk_s": _seconds(payload, "talk_s"),
            "hold_s": _seconds(payload, "hold_s"),
            "acw_s": _seconds(payload, "acw_s"),
            "transferred": bool(payload.get("transferred")),
        }
    if kind in CSAT_EVENT_TYPES:
        return {"score": survey_score(payload.get("score"))}
    return {}


def build_facts(events: Iterable[Sequence[Any]]) -> ContactFacts:
    """Fold contact events (contact_id, type, occurred_at, queue_id, agent_id, partner_id,
    customer_id, payload), oldest first, into one fact row per contact that was queued.

    The first contact.queued gives the contact's labels; the first answer and the first
    abandonment decide its outcome (answered when the answer came first or at the same time);
    the last contact.ended gives the handle times; a contact.transferred (or `transferred` on
    contact.ended) of an answered contact makes it transferred; the last valid survey score
    counts (chat.rated, ticket.rated, contact.surveyed). reports/analytical.py computes the same
    in SQL.
    """
    rows: dict[str, dict[str, Any]] = {}
    firsts: dict[str, dict[str, Any]] = {}
    scores: dict[str, float] = {}
    for (
        contact_id,
        kind,
        occurred_at,
        queue_id,
        agent_id,
        partner_id,
        customer_id,
        payload,
    ) in events:
        fields = event_fields(kind, payload)
        at = _epoch(occurred_at)
        if kind == "contact.queued":
            if contact_id in rows:
                continue
            rows[contact_id] = {
                "offered_at": at,
                "queue_id": queue_id,
                "partner_id": partner_id,
                "customer_id": customer_id,
                **fields,
                "answered_at": math.nan,
                "abandoned_at": math.nan,
                "ended_at": math.nan,
                "agent_id": None,
                "talk_s": 0.0,
                "hold_s": 0.0,
                "acw_s": 0.0,
                "transferred": False,
                "csat_score": math.nan,
            }
            firsts[contact_id] = {}
            continue
        if kind in CSAT_EVENT_TYPES:
            # a rating may be logged on another clock than the contact: the last one counts
            if fields["score"] is not None:
                scores[contact_id] = fields["score"]
            continue
        row = rows.get(contact_id)
        if row is None:
            continue
        first = firsts[contact_id]
        if kind == "contact.answered":
            first.setdefault("answered", (at, agent_id))
        elif kind == "contact.abandoned":
            first.setdefault("abandoned", at)
        elif kind == "contact.transferred":
            first["transferred"] = True
        elif kind == "contact.ended":
            row["ended_at"] = max(at, row["offered_at"])
            row["talk_s"], row["hold_s"], row["acw_s"] = (
                fields["talk_s"],
                fields["hold_s"],
                fields["acw_s"],
            )
            if fields["transferred"]:
                first["transferred"] = True
    for contact_id, row in rows.items():
        row["csat_score"] = scores.get(contact_id, math.nan)
        first = firsts[contact_id]
        answered = first.get("answered")
        abandoned = first.get("abandoned")
        if answered is not None and (abandoned is None or answered[0] <= abandoned):
            row["answered_at"] = max(answered[0], row["offered_at"])
            row["agent_id"] = answered[1]
            row["transferred"] = bool(first.get("transferred"))
        elif abandoned is not None:
            row["abandoned_at"] = max(abandoned, row["offered_at"])
    return facts_from_rows(rows)


def facts_from_rows(rows: dict[str, dict[str, Any]]) -> ContactFacts:
    ids = sorted(rows, key=lambda c: (rows[c]["offered_at"], c))
    ordered = [rows[c] for c in ids]

    def floats(name: str) -> Any:
        return np.array([r[name] for r in ordered], dtype=np.float64)

    def objects(name: str) -> Any:
        return np.array([r[name] for r in ordered], dtype=object)

    answered = ~np.isnan(floats("answered_at")) if ordered else np.zeros(0, dtype=np.bool_)
    transferred = np.array([r["transferred"] for r in ordered], dtype=np.bool_)
    cols = OutcomeColumns(
        offered_at=floats("offered_at"),
        answered_at=floats("answered_at"),
        abandoned_at=floats("abandoned_at"),
        ended_at=floats("ended_at"),
        talk_s=floats("talk_s"),
        hold_s=floats("hold_s"),
        acw_s=floats("acw_s"),
        queue=objects("queue_id"),
        channel=objects("channel"),
        customer_id=objects("customer_id"),
        need_id=objects("need_id"),
        complaint_category=objects("complaint_category"),
        csat_score=floats("csat_score"),
        over_the_head=np.array([r["over_the_head"] for r in ordered], dtype=np.bool_),
        transferred=transferred,
        handled_end_to_end_by_first_agent=answered & ~transferred,
    )
    return ContactFacts(
        contact_id=np.array(ids, dtype=object),
        queue_id=objects("queue_id"),
        agent_id=objects("agent_id"),
        partner_id=objects("partner_id"),
        cols=cols,
        skill=objects("skill"),
        region=objects("region"),
    )


CellKey = tuple[float, str | None]


def cell_totals(
    facts: ContactFacts,
    since_s: float,
    until_s: float,
    grain: str,
    group_by: str,
    tz: str,
    params: KpiParams,
    counted: BoolArray | None = None,
) -> dict[CellKey, KpiTotals]:
    """KPI totals per (local bucket start, group key) of the contacts offered in
    [since_s, until_s) (and in `counted`, a filter, when given). The other contacts of `facts`
    are looked at only as repeat contacts (FCR) and earlier complaints (repeat complaints),
    never counted themselves; callers load the windows around the range (service._facts)."""
    if len(facts) == 0:
        return {}
    repeat_contact = repeat_contact_flags(facts.cols, params.fcr_window_s)
    repeat_complaint = repeat_complaint_flags(facts.cols, params.repeat_complaint_window_s)
    offered = facts.cols.offered_at
    in_range = (offered >= since_s) & (offered < until_s)
    if counted is not None:
        in_range &= counted
    rows = np.flatnonzero(in_range)
    if len(rows) == 0:
        return {}
    buckets = local_bucket_starts(offered[rows], grain, tz)
    key_code: dict[object, int] = {}
    keys = np.array(
        [key_code.setdefault(k, len(key_code)) for k in facts.labels(group_by)[rows]],
        dtype=np.int64,
    )
    key_of = list(key_code)
    bucket_values, bucket_codes = np.unique(buckets, return_inverse=True)
    cell_codes, group = np.unique(bucket_codes * len(key_of) + keys, return_inverse=True)
    totals = totals_by_group(
        facts.cols.select(rows),
        group.astype(np.int64),
        len(cell_codes),
        params,
        repeat_contact[rows],
        repeat_complaint[rows],
    )
    result: dict[CellKey, KpiTotals] = {}
    for code, cell in zip(cell_codes, totals, strict=True):
        key = key_of[int(code) % len(key_of)]
        bucket = float(bucket_values[int(code) // len(key_of)])
        result[(bucket, None if key is None else str(key))] = cell
    return result
