"""The live state of one tenant's floor, kept from events, and its KPIs from domain/kpi.

`TenantBoard` holds what the wallboard needs: the contacts offered in the window (today, and
at least the last hours) with what became of them, the contacts still live, the queues and the
agents. `apply` folds one event of the log into it (the same events the database rows were
written with); `snapshot` computes the figures. The KPIs (service level, ASA, AHT, abandonment)
are the functions of `lianluo.domain.kpi`, fed with `ContactOutcome` records, so the
wallboard and the historical reports mean the same thing by every word.

No I/O here: the service loads a board from the database (reconcile) and feeds it events.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from lianluo.domain import kpi

CHART_INTERVAL_S = 900.0
CHART_HOURS = 6
LIVE_STATES = ("queued", "offered", "connected", "wrap_up", "callback_scheduled")
HOLDING_STATES = ("offered", "connected", "wrap_up")
AGENT_STATES = ("available", "busy", "wrap_up", "break", "offline")
# an SL below target by less than this is amber, further below red
SL_WARN_MARGIN = 0.1


@dataclass
class LiveContact:
    contact_id: str
    queue_id: str  # where it was offered first: its KPIs count there
    current_queue_id: str | None  # where it waits or is handled now (transfers move it)
    channel: str
    state: str
    offered_at: float
    waiting_since: float | None = None
    agent_id: str | None = None
    answered_at: float | None = None
    abandoned_at: float | None = None
    ended_at: float | None = None
    talk_s: float = 0.0
    hold_s: float = 0.0
    acw_s: float = 0.0
    transferred: bool = False

    def outcome(self) -> kpi.ContactOutcome:
        return kpi.ContactOutcome(
            contact_id=self.contact_id,
            queue=self.queue_id,
            channel=self.channel,
            offered_at=self.offered_at,
            answered_at=self.answered_at,
            abandoned_at=self.abandoned_at,
            ended_at=self.ended_at,
            agent_id=self.agent_id,
            talk_s=self.talk_s,
            hold_s=self.hold_s,
            acw_s=self.acw_s,
            transferred=self.transferred,
            handled_end_to_end_by_first_agent=self.answered_at is not None and not self.transferred,
        )


@dataclass
class QueueInfo:
    queue_id: str
    name: str
    partner_id: str | None
    channels: list[str]
    sl_target_s: int
    sl_target_ratio: float
    short_abandon_s: int


@dataclass
class LiveAgent:
    agent_id: str
    name: str
    team: str
    partner_id: str | None
    state: str
    reason: str
    since: float


@dataclass
class TenantBoard:
    tenant_id: str
    tz: str
    queues: dict[str, QueueInfo] = field(default_factory=dict)
    agents: dict[str, LiveAgent] = field(default_factory=dict)
    contacts: dict[str, LiveContact] = field(default_factory=dict)
    built_at: float = 0.0
    # something changed that events do not carry (a queue or an agent was edited)
    stale: bool = False
    # Contacts that ended never change again: their KPI columns are built once and kept
    # (`_closed`, with queue codes `_closed_codes`); each push builds columns only for the
    # live ones. `_rescan` asks for a full pass (after a load from the database or a prune).
    _live: dict[str, LiveContact] = field(default_factory=dict)
    _closed: kpi.OutcomeColumns | None = None
    _closed_codes: Any = None
    _closed_new: list[LiveContact] = field(default_factory=list)
    _qcode: dict[str, int] = field(default_factory=dict)
    _rescan: bool = True
    _pruned_before: float = 0.0

    # ---- events -----------------------------------------------------------------------------

    def apply(self, event: dict[str, Any]) -> bool:
        """Fold one event in; True when the board changed."""
        kind = str(event.get("type", ""))
        if kind.startswith(("queue.", "agent.created", "agent.updated", "agent.deleted")):
            self.stale = True
            return True
        at = _epoch(event.get("occurred_at"))
        if kind == "agent.state_changed":
            return self._agent_state(event, at)
        if not kind.startswith("contact."):
            return False
        contact_id = event.get("contact_id")
        if not contact_id:
            return False
        payload = event.get("payload") or {}
        if kind == "contact.queued":
            if contact_id in self.contacts:
                return False  # a replay after a reconcile: the database had it already
            queue_id = event.get("queue_id") or ""
            self.contacts[contact_id] = LiveContact(
                contact_id=contact_id,
                queue_id=queue_id,
                current_queue_id=queue_id,
                channel=str(payload.get("channel", "voice")),
                state="queued",
                offered_at=at,
                waiting_since=at,
            )
            self._live[contact_id] = self.contacts[contact_id]
            return True
        contact = self.contacts.get(contact_id)
        if contact is None or contact.state not in LIVE_STATES:
            return False  # before the window (the next reconcile brings it), or over
        changed = self._contact_event(kind, contact, event, at, payload)
        if contact.state not in LIVE_STATES:
            self._live.pop(contact_id, None)
            self._closed_new.append(contact)
        return changed

    def _contact_event(
        self,
        kind: str,
        contact: LiveContact,
        event: dict[str, Any],
        at: float,
        payload: dict[str, Any],
    ) -> bool:
        agent_id = event.get("agent_id")
        if kind == "contact.offered":
            contact.state, contact.agent_id = "offered", agent_id
            contact.current_queue_id = event.get("queue_id") or contact.current_queue_id
        elif kind == "contact.answered":
            contact.state, contact.agent_id = "connected", agent_id
            if contact.answered_at is None:
                contact.answered_at = at
        elif kind in ("contact.rejected", "contact.offer_expired", "contact.offer_rescinded"):
            if contact.state == "offered" and contact.agent_id == agent_id:
                contact.state, contact.agent_id = "queued", None
        elif kind == "contact.completed":
            contact.state = "wrap_up"
        elif kind == "contact.ended":
            contact.state, contact.ended_at = "ended", at
            contact.talk_s = _seconds(payload.get("talk_s"))
            contact.hold_s = _seconds(payload.get("hold_s"))
            contact.acw_s = _seconds(payload.get("acw_s"))
            contact.transferred = contact.transferred or bool(payload.get("transferred"))
        elif kind == "contact.abandoned":
            contact.state, contact.agent_id = "abandoned", None
            contact.abandoned_at = contact.ended_at = at
        elif kind == "contact.transferred":
            contact.transferred = True
            contact.state, contact.agent_id, contact.waiting_since = "queued", None, at
            contact.current_queue_id = payload.get("to_queue_id") or contact.current_queue_id
        elif kind == "contact.callback_requested":
            contact.state, contact.agent_id = "callback_scheduled", None
        elif kind == "contact.callback_due":
            contact.state = "queued"
        else:
            return False
        return True

    def _agent_state(self, event: dict[str, Any], at: float) -> bool:
        agent = self.agents.get(event.get("agent_id") or "")
        if agent is None:
            self.stale = True
            return True
        payload = event.get("payload") or {}
        new_state = str(payload.get("to", agent.state))
        if new_state != agent.state:
            agent.since = at
        agent.state = new_state
        agent.reason = str(payload.get("reason") or "")
        return True

    def prune(self, window_start: float, every_s: float = 900.0) -> None:
        """Forget contacts that ended before the window and cannot count any more (a full
        pass, so at most once per `every_s` of window movement)."""
        if window_start - self._pruned_before < every_s:
            return
        self._pruned_before = window_start
        gone = [
            cid
            for cid, c in self.contacts.items()
            if c.state not in LIVE_STATES and c.offered_at < window_start
        ]
        for cid in gone:
            del self.contacts[cid]
        if gone:
            self._rescan = True

    def _code(self, queue_id: str) -> int:
        code = self._qcode.get(queue_id)
        if code is None:
            code = self._qcode[queue_id] = len(self._qcode)
        return code

    def _sync(self) -> None:
        """Bring the live set and the columns of ended contacts up to date."""
        if self._rescan:
            self._live = {cid: c for cid, c in self.contacts.items() if c.state in LIVE_STATES}
            self._closed_new = [c for c in self.contacts.values() if c.state not in LIVE_STATES]
            self._closed, self._closed_codes = None, None
            self._rescan = False
        if self._closed_new or self._closed is None:
            new = self._closed_new
            self._closed_new = []
            cols = outcome_columns(new)
            codes = np.array([self._code(c.queue_id) for c in new], dtype=np.int64)
            if self._closed is None:
                self._closed, self._closed_codes = cols, codes
            else:
                self._closed = concat_columns(self._closed, cols)
                self._closed_codes = np.concatenate([self._closed_codes, codes])

    # ---- figures ----------------------------------------------------------------------------

    def snapshot(
        self, now: float, day_start: float, partner_id: str | None = None
    ) -> dict[str, Any]:
        """Every figure of the wallboard at `now`; a partner sees only its queues and agents."""
        queues = [
            q
            for q in sorted(self.queues.values(), key=lambda q: (q.name, q.queue_id))
            if partner_id is None or q.partner_id == partner_id
        ]
        visible = {q.queue_id for q in queues}
        chart_start = now - CHART_HOURS * 3600.0
        window_start = min(day_start, chart_start)
        self._sync()
        live: dict[str | None, list[LiveContact]] = {}
        work: dict[str, list[dict[str, Any]]] = {}
        for c in self._live.values():
            if c.current_queue_id in visible:
                live.setdefault(c.current_queue_id, []).append(c)
            if c.agent_id and c.state in HOLDING_STATES:
                work.setdefault(c.agent_id, []).append(
                    {
                        "contact_id": c.contact_id,
                        "queue_id": c.current_queue_id if c.current_queue_id in visible else None,
                        "channel": c.channel,
                        "state": c.state,
                    }
                )
        # the window's outcomes: the kept columns of ended contacts and those still live
        lookup = np.full(len(self._qcode) + 1, -1, dtype=np.int64)
        for k, q in enumerate(queues):
            if q.queue_id in self._qcode:
                lookup[self._qcode[q.queue_id]] = k
        assert self._closed is not None
        closed_codes = lookup[self._closed_codes] if len(self._closed) else self._closed_codes
        keep = (closed_codes >= 0) & (self._closed.offered_at >= window_start)
        index = {q.queue_id: k for k, q in enumerate(queues)}
        open_ = [
            c for c in self._live.values() if c.queue_id in index and c.offered_at >= window_start
        ]
        cols = concat_columns(self._closed.select(keep), outcome_columns(open_))
        codes = np.concatenate(
            [closed_codes[keep], np.array([index[c.queue_id] for c in open_], dtype=np.int64)]
        )
        # grouped by queue, so each queue's rows are one slice (views, not copies)
        order = np.argsort(codes, kind="stable")
        cols, codes = cols.select(order), codes[order]
        bounds = np.searchsorted(codes, np.arange(len(queues) + 1))
        today = cols.offered_at >= day_start
        recent = cols.offered_at >= chart_start
        starts = kpi.interval_starts(cols.offered_at, CHART_INTERVAL_S, self.tz)

        queue_rows = []
        for k, q in enumerate(queues):
            params = kpi.KpiParams(
                service_level_threshold_s=float(q.sl_target_s),
                short_abandon_s=float(q.short_abandon_s),
            )
            mine = slice(int(bounds[k]), int(bounds[k + 1]))
            q_cols, q_today, q_recent = cols.select(mine), today[mine], recent[mine]
            here = live.get(q.queue_id, [])
            waiting = [c for c in here if c.state == "queued"]
            states = Counter(c.state for c in here)
            oldest = min((c.waiting_since or c.offered_at for c in waiting), default=None)
            figures = kpi_figures(q_cols.select(q_today), params)
            queue_rows.append(
                {
                    "queue_id": q.queue_id,
                    "name": q.name,
                    "partner_id": q.partner_id,
                    "channels": q.channels,
                    "waiting": len(waiting),
                    "ringing": states["offered"],
                    "connected": states["connected"],
                    "wrap_up": states["wrap_up"],
                    "callbacks_scheduled": states["callback_scheduled"],
                    "longest_wait_s": None if oldest is None else max(0.0, now - oldest),
                    "oldest_waiting_since": oldest,
                    "sl_target_s": q.sl_target_s,
                    "sl_target_ratio": q.sl_target_ratio,
                    "sl_status": sl_status(figures["service_level"], q.sl_target_ratio),
                    **figures,
                    "intervals": interval_series(
                        q_cols.select(q_recent), starts[mine][q_recent], params
                    ),
                }
            )

        agents = [
            a
            for a in sorted(self.agents.values(), key=lambda a: (a.name, a.agent_id))
            if partner_id is None or a.partner_id == partner_id
        ]
        by_state = Counter(a.state for a in agents)
        return {
            "tenant_id": self.tenant_id,
            "now": now,
            "day_start": day_start,
            "tz": self.tz,
            "interval_s": CHART_INTERVAL_S,
            "queues": queue_rows,
            "totals": {
                "waiting": sum(r["waiting"] for r in queue_rows),
                **kpi_figures(cols.select(today), kpi.KpiParams()),
                "intervals": interval_series(cols.select(recent), starts[recent], kpi.KpiParams()),
            },
            "agents_by_state": {s: by_state.get(s, 0) for s in AGENT_STATES}
            | {s: n for s, n in by_state.items() if s not in AGENT_STATES},
            "agents": [
                {
                    "agent_id": a.agent_id,
                    "name": a.name,
                    "team": a.team,
                    "partner_id": a.partner_id,
                    "state": a.state,
                    "reason": a.reason,
                    "since": a.since,
                    "time_in_state_s": max(0.0, now - a.since),
                    "work": sorted(work.get(a.agent_id, []), key=lambda w: w["contact_id"]),
                }
                for a in agents
            ],
        }


def outcome_columns(contacts: list[LiveContact]) -> kpi.OutcomeColumns:
    """The contacts as `OutcomeColumns` (the fields of `LiveContact.outcome()`, built column by
    column: a snapshot of a busy day would spend most of its time making records)."""

    def times(name: str) -> Any:
        return np.array(
            [np.nan if (v := getattr(c, name)) is None else v for c in contacts], dtype=np.float64
        )

    answered = times("answered_at")
    transferred = np.array([c.transferred for c in contacts], dtype=np.bool_)
    return kpi.OutcomeColumns(
        offered_at=np.array([c.offered_at for c in contacts], dtype=np.float64),
        answered_at=answered,
        abandoned_at=times("abandoned_at"),
        ended_at=times("ended_at"),
        talk_s=np.array([c.talk_s for c in contacts], dtype=np.float64),
        hold_s=np.array([c.hold_s for c in contacts], dtype=np.float64),
        acw_s=np.array([c.acw_s for c in contacts], dtype=np.float64),
        queue=np.array([c.queue_id for c in contacts], dtype=object),
        channel=np.array([c.channel for c in contacts], dtype=object),
        transferred=transferred,
        handled_end_to_end_by_first_agent=~np.isnan(answered) & ~transferred,
    )


def concat_columns(a: kpi.OutcomeColumns, b: kpi.OutcomeColumns) -> kpi.OutcomeColumns:
    if not len(b):
        return a
    if not len(a):
        return b
    return kpi.OutcomeColumns(
        **{name: np.concatenate([getattr(a, name), getattr(b, name)]) for name in _FIELDS}
    )


_FIELDS = tuple(kpi.OutcomeColumns.__dataclass_fields__)


def kpi_figures(cols: kpi.OutcomeColumns, params: kpi.KpiParams) -> dict[str, Any]:
    """Offered, answered, abandoned, SL, ASA, AHT and abandonment by the domain/kpi functions.

    AHT is over the contacts that ended (their handle time is known); a contact still being
    handled joins it when it ends.
    """
    ended = ~np.isnan(cols.ended_at)
    return {
        "offered": len(cols),
        "answered": int(cols.answered.sum()),
        "abandoned": int(cols.abandoned.sum()),
        "service_level": kpi.service_level(
            cols, params.service_level_threshold_s, params.short_abandon_s
        ),
        "asa_s": kpi.average_speed_of_answer_s(cols),
        "aht_s": kpi.average_handle_time_s(cols.select(ended)) if len(cols) else None,
        "abandonment_rate": kpi.abandonment_rate(cols),
        "handled": int((cols.answered & ended).sum()),
    }


def interval_series(
    cols: kpi.OutcomeColumns, starts: Any, params: kpi.KpiParams
) -> list[dict[str, Any]]:
    """Offered, answered and SL per local interval (`starts` from kpi.interval_starts, by
    offered time, as the historical reports bucket)."""
    series = []
    for start in np.unique(starts):
        chunk = cols.select(starts == start)
        series.append(
            {
                "start": float(start),
                "offered": len(chunk),
                "answered": int(chunk.answered.sum()),
                "abandoned": int(chunk.abandoned.sum()),
                "service_level": kpi.service_level(
                    chunk, params.service_level_threshold_s, params.short_abandon_s
                ),
            }
        )
    return series


def sl_status(service_level: float | None, target: float) -> str:
    """good (at or above target), warn (within SL_WARN_MARGIN below), bad, or none."""
    if service_level is None:
        return "none"
    if service_level >= target - 1e-9:
        return "good"
    if service_level >= target - SL_WARN_MARGIN:
        return "warn"
    return "bad"


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    raise ValueError(f"not a time: {value!r}")


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and value >= 0 else 0.0
