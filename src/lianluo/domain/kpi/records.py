"""What happened to each contact, as plain records and as numpy columns.

`ContactOutcome` is the one record every KPI is computed from. The reports module, the live
wallboard and the simulator all map their sources (event log, virtual clock) onto it, so a KPI
has one meaning everywhere. `OutcomeColumns` holds the same fields as numpy arrays, for KPIs
over hundreds of thousands of contacts; build it with `OutcomeColumns.from_outcomes` or directly.

Times are seconds since the Unix epoch (UTC) as floats; durations are seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]


class OutcomeError(ValueError):
    """A contact outcome is inconsistent (e.g. answered before it was offered)."""


@dataclass(frozen=True, slots=True)
class ContactOutcome:
    """One routed contact (one queue visit of one customer need) and what became of it.

    contact_id: unique id of the contact.
    queue: the queue it was offered to (a transfer to another queue is a new contact there).
    channel: "voice", "chat", "email", ... .
    offered_at: when it entered the queue (epoch s); every KPI buckets by this time.
    answered_at: when the first agent connected, or None if never answered.
    abandoned_at: when the customer gave up while waiting, or None.
    ended_at: when the contact ended (after-contact work done, or abandonment), or None if open.
    agent_id: the first agent that answered, or None.
    talk_s, hold_s, acw_s: talk, hold and after-contact (wrap-up) work of all agents on it.
    transferred: the first agent passed it on (transfer or escalation to another agent/tier).
    handled_end_to_end_by_first_agent: the first agent finished the need themselves (效能).
        Usually `answered and not transferred`; kept separate so a consult that does not hand
        the contact over still counts as end-to-end.
    customer_id: who called, for repeat-contact and repeat-complaint KPIs.
    need_id: the customer need (conversation / ticket) this contact is about; a later contact
        with the same need_id is a repeat contact (FCR).
    complaint_category: set when the contact is a complaint, e.g. "billing"; None otherwise.
    need_resolved_at: when the need (ticket) was closed, or None if still open; used by the
        repeat-complaint KPI ("open or recent complaint").
    tier: the customer value tier, e.g. "vip" or "standard" (客户分层).
    csat_score: the customer's satisfaction survey answer on a 1–5 scale, or None if none.
    over_the_head: the complaint went over the head of the normal channel (越级投诉: to a
        manager, the regulator, the press) instead of being settled by the contact center.
    """

    contact_id: str
    queue: str
    offered_at: float
    channel: str = "voice"
    answered_at: float | None = None
    abandoned_at: float | None = None
    ended_at: float | None = None
    agent_id: str | None = None
    talk_s: float = 0.0
    hold_s: float = 0.0
    acw_s: float = 0.0
    transferred: bool = False
    handled_end_to_end_by_first_agent: bool = False
    customer_id: str | None = None
    need_id: str | None = None
    complaint_category: str | None = None
    need_resolved_at: float | None = None
    tier: str = "standard"
    csat_score: float | None = None
    over_the_head: bool = False

    def __post_init__(self) -> None:
        if not math.isfinite(self.offered_at):
            raise OutcomeError(f"contact {self.contact_id}: offered_at must be finite")
        if self.answered_at is not None and self.abandoned_at is not None:
            raise OutcomeError(f"contact {self.contact_id}: cannot be both answered and abandoned")
        for name in ("answered_at", "abandoned_at", "ended_at"):
            value = getattr(self, name)
            if value is not None and value < self.offered_at:
                raise OutcomeError(
                    f"contact {self.contact_id}: {name}={value} is before offered_at="
                    f"{self.offered_at}"
                )
        for name in ("talk_s", "hold_s", "acw_s"):
            if getattr(self, name) < 0:
                raise OutcomeError(f"contact {self.contact_id}: {name} must be >= 0")
        if self.csat_score is not None and not 1 <= self.csat_score <= 5:
            raise OutcomeError(f"contact {self.contact_id}: csat_score must be in 1..5")
        if self.handled_end_to_end_by_first_agent and self.answered_at is None:
            raise OutcomeError(f"contact {self.contact_id}: handled end to end but never answered")

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def abandoned(self) -> bool:
        return self.abandoned_at is not None

    @property
    def wait_s(self) -> float | None:
        """Time in queue until answer or abandonment; None while still waiting."""
        end = self.answered_at if self.answered_at is not None else self.abandoned_at
        return None if end is None else end - self.offered_at

    @property
    def handle_s(self) -> float:
        return self.talk_s + self.hold_s + self.acw_s


def _nan_if_none(values: Sequence[float | None]) -> FloatArray:
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


@dataclass(frozen=True)
class OutcomeColumns:
    """The fields of `ContactOutcome` as equal-length numpy arrays (missing times are NaN).

    Label columns (queue, channel, tier, customer_id, need_id, complaint_category) are object
    arrays; None marks a missing label. Optional columns may be left out (empty arrays are
    filled in) when a caller has nothing to say about them, e.g. a simulation without tickets.
    """

    offered_at: FloatArray
    answered_at: FloatArray
    abandoned_at: FloatArray
    talk_s: FloatArray
    hold_s: FloatArray
    acw_s: FloatArray
    queue: ObjectArray
    handled_end_to_end_by_first_agent: BoolArray
    transferred: BoolArray
    ended_at: FloatArray = field(default_factory=lambda: np.empty(0))
    channel: ObjectArray = field(default_factory=lambda: np.empty(0, dtype=object))
    tier: ObjectArray = field(default_factory=lambda: np.empty(0, dtype=object))
    customer_id: ObjectArray = field(default_factory=lambda: np.empty(0, dtype=object))
    need_id: ObjectArray = field(default_factory=lambda: np.empty(0, dtype=object))
    complaint_category: ObjectArray = field(default_factory=lambda: np.empty(0, dtype=object))
    need_resolved_at: FloatArray = field(default_factory=lambda: np.empty(0))
    csat_score: FloatArray = field(default_factory=lambda: np.empty(0))
    over_the_head: BoolArray = field(default_factory=lambda: np.empty(0, dtype=np.bool_))

    def __post_init__(self) -> None:
        n = len(self.offered_at)
        fill_nan = ("ended_at", "need_resolved_at", "csat_score")
        if len(self.over_the_head) == 0 and n:
            object.__setattr__(self, "over_the_head", np.zeros(n, dtype=np.bool_))
        fill_none = ("customer_id", "need_id", "complaint_category")
        for name in fill_nan:
            if len(getattr(self, name)) == 0 and n:
                object.__setattr__(self, name, np.full(n, math.nan))
        for name in fill_none:
            if len(getattr(self, name)) == 0 and n:
                object.__setattr__(self, name, np.full(n, None, dtype=object))
        if len(self.channel) == 0 and n:
            object.__setattr__(self, "channel", np.full(n, "voice", dtype=object))
        if len(self.tier) == 0 and n:
            object.__setattr__(self, "tier", np.full(n, "standard", dtype=object))
        for name in self.__dataclass_fields__:
            if len(getattr(self, name)) != n:
                raise OutcomeError(
                    f"column {name} has {len(getattr(self, name))} rows, offered_at has {n}"
                )
        both = ~np.isnan(self.answered_at) & ~np.isnan(self.abandoned_at)
        if both.any():
            raise OutcomeError(f"{int(both.sum())} contacts are both answered and abandoned")

    def __len__(self) -> int:
        return len(self.offered_at)

    @classmethod
    def from_outcomes(cls, outcomes: Sequence[ContactOutcome]) -> OutcomeColumns:
        def labels(name: str) -> ObjectArray:
            return np.array([getattr(o, name) for o in outcomes], dtype=object)

        return cls(
            offered_at=np.array([o.offered_at for o in outcomes], dtype=np.float64),
            answered_at=_nan_if_none([o.answered_at for o in outcomes]),
            abandoned_at=_nan_if_none([o.abandoned_at for o in outcomes]),
            ended_at=_nan_if_none([o.ended_at for o in outcomes]),
            talk_s=np.array([o.talk_s for o in outcomes], dtype=np.float64),
            hold_s=np.array([o.hold_s for o in outcomes], dtype=np.float64),
            acw_s=np.array([o.acw_s for o in outcomes], dtype=np.float64),
            queue=labels("queue"),
            channel=labels("channel"),
            tier=labels("tier"),
            customer_id=labels("customer_id"),
            need_id=labels("need_id"),
            complaint_category=labels("complaint_category"),
            need_resolved_at=_nan_if_none([o.need_resolved_at for o in outcomes]),
            csat_score=_nan_if_none([o.csat_score for o in outcomes]),
            over_the_head=np.array([o.over_the_head for o in outcomes], dtype=np.bool_),
            transferred=np.array([o.transferred for o in outcomes], dtype=np.bool_),
            handled_end_to_end_by_first_agent=np.array(
                [o.handled_end_to_end_by_first_agent for o in outcomes], dtype=np.bool_
            ),
        )

    def select(self, mask: BoolArray) -> OutcomeColumns:
        """The rows where `mask` is true, as a new `OutcomeColumns`."""
        return OutcomeColumns(
            **{name: getattr(self, name)[mask] for name in self.__dataclass_fields__}
        )

    @property
    def answered(self) -> BoolArray:
        return ~np.isnan(self.answered_at)

    @property
    def abandoned(self) -> BoolArray:
        return ~np.isnan(self.abandoned_at)

    @property
    def wait_s(self) -> FloatArray:
        """Wait until answer or abandonment (NaN while still waiting)."""
        end = np.where(self.answered, self.answered_at, self.abandoned_at)
        return end - self.offered_at
