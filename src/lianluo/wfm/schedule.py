"""Weekly tour scheduling: set covering over tours with explicit breaks, solved with HiGHS.

A tour is a pattern of working days (e.g. five on, two consecutive off) × a daily shift start ×
a shift type (length) × a placement of its breaks. Requirements are agents per interval over a
cyclic week, so shifts crossing midnight (and Sunday night into Monday) cover the right
intervals. The integer program is Dantzig's (1954) set covering formulation with explicit break
placements (Bechtold & Jacobs 1990; Aykin 1996 gives the implicit equivalent):

    minimise   Σ_j paid_minutes_j · x_j + penalty · Σ_i under_i
    subject to Σ_j a_ij · x_j + under_i ≥ required_i      for every interval i of the week
               x_j ∈ ℤ≥0, under_i ≥ 0

Its LP relaxation is solved first and reported as the lower bound; the MIP runs with a time limit
and a relative gap, both on HiGHS through scipy.optimize.milp (the highspy and OR-Tools wheels
in our environment cannot be loaded into one process, so the scheduler avoids highspy). Tours are
then given to named agents (availability, skills, contracted hours) by a minimum-cost assignment.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp

DAYS_PER_WEEK = 7
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class BreakRule:
    """A break of `length_min` starting between the given offsets from the shift start."""

    length_min: int
    earliest_start_min: int
    latest_start_min: int
    paid: bool = False


@dataclass(frozen=True)
class ShiftType:
    name: str
    length_min: int
    breaks: tuple[BreakRule, ...] = ()


@dataclass(frozen=True)
class TourRules:
    """Which day patterns and daily starts make tours."""

    days_on: int = 5
    consecutive_days_off: bool = True
    start_step_min: int = 30
    earliest_start_min: int = 0
    latest_start_min: int = MINUTES_PER_DAY - 30


DEFAULT_SHIFT_TYPES: tuple[ShiftType, ...] = (
    ShiftType("8h30 with 30 min lunch", 510, (BreakRule(30, 180, 300),)),
    ShiftType("6h", 360),
)


@dataclass(frozen=True)
class Tour:
    working_days: tuple[int, ...]
    start_min: int
    shift: ShiftType
    break_starts_min: tuple[int, ...]
    paid_min_per_week: int

    def describe(self) -> str:
        names = "Mon Tue Wed Thu Fri Sat Sun".split()
        days = ",".join(names[d] for d in self.working_days)
        start = f"{self.start_min // 60:02d}:{self.start_min % 60:02d}"
        breaks = " ".join(
            f"+{b // 60}h{b % 60:02d}" for b in self.break_starts_min
        )  # offsets from start
        return f"{days} {start} {self.shift.name}" + (f" breaks {breaks}" if breaks else "")


@dataclass
class ScheduleResult:
    """The chosen tours and what they cover; arrays run over the intervals of the week."""

    interval_min: int
    tours: list[tuple[Tour, int]]
    required: NDArray[np.float64]
    coverage: NDArray[np.int64]
    paid_hours: float
    lp_bound_hours: float
    objective_gap: float
    solver_status: str
    seconds: float
    under: NDArray[np.float64] = field(init=False)
    over: NDArray[np.float64] = field(init=False)

    def __post_init__(self) -> None:
        self.under = np.maximum(self.required - self.coverage, 0.0)
        self.over = np.maximum(self.coverage - self.required, 0.0)

    @property
    def agents(self) -> int:
        return sum(count for _, count in self.tours)


def _day_patterns(rules: TourRules) -> list[tuple[int, ...]]:
    if not 1 <= rules.days_on <= DAYS_PER_WEEK:
        raise ValueError(f"days_on must be in 1..7, got {rules.days_on}")
    if rules.days_on == DAYS_PER_WEEK:
        return [tuple(range(DAYS_PER_WEEK))]
    if rules.consecutive_days_off:
        off = DAYS_PER_WEEK - rules.days_on
        patterns = set()
        for first_off in range(DAYS_PER_WEEK):
            off_days = {(first_off + k) % DAYS_PER_WEEK for k in range(off)}
            patterns.add(tuple(d for d in range(DAYS_PER_WEEK) if d not in off_days))
        return sorted(patterns)
    return list(itertools.combinations(range(DAYS_PER_WEEK), rules.days_on))


def _break_placements(shift: ShiftType, interval_min: int) -> list[tuple[int, ...]]:
    options = []
    for rule in shift.breaks:
        if rule.length_min % interval_min or rule.earliest_start_min % interval_min:
            raise ValueError(f"breaks of {shift.name!r} must align to {interval_min}-min intervals")
        if rule.latest_start_min < rule.earliest_start_min:
            raise ValueError(f"break window of {shift.name!r} is empty")
        if rule.latest_start_min + rule.length_min > shift.length_min:
            raise ValueError(f"a break of {shift.name!r} ends after the shift")
        options.append(range(rule.earliest_start_min, rule.latest_start_min + 1, interval_min))
    placements = []
    for starts in itertools.product(*options):
        spans = sorted(zip(starts, (r.length_min for r in shift.breaks), strict=True))
        if all(a + la <= b for (a, la), (b, _) in itertools.pairwise(spans)):
            placements.append(tuple(starts))
    return placements


def build_tours(
    interval_min: int,
    shift_types: Sequence[ShiftType] = DEFAULT_SHIFT_TYPES,
    rules: TourRules = TourRules(),
) -> list[Tour]:
    """Every tour the rules allow: day pattern × start × shift type × break placement."""
    if MINUTES_PER_DAY % interval_min:
        raise ValueError(f"interval_min must divide a day, got {interval_min}")
    if rules.start_step_min % interval_min:
        raise ValueError("start_step_min must be a multiple of interval_min")
    tours = []
    starts = range(rules.earliest_start_min, rules.latest_start_min + 1, rules.start_step_min)
    for shift in shift_types:
        if shift.length_min % interval_min or shift.length_min <= 0:
            raise ValueError(f"shift {shift.name!r} must last a positive multiple of the interval")
        unpaid = sum(b.length_min for b in shift.breaks if not b.paid)
        placements = _break_placements(shift, interval_min)
        for days in _day_patterns(rules):
            for start in starts:
                for placement in placements:
                    tours.append(
                        Tour(days, start, shift, placement, (shift.length_min - unpaid) * len(days))
                    )
    return tours


def tour_intervals(tour: Tour, interval_min: int) -> NDArray[np.int64]:
    """Indices of the week's intervals a tour works (cyclic: Sunday night wraps to Monday)."""
    per_day = MINUTES_PER_DAY // interval_min
    week = per_day * DAYS_PER_WEEK
    offsets = set(range(0, tour.shift.length_min, interval_min))
    for start, rule in zip(tour.break_starts_min, tour.shift.breaks, strict=True):
        offsets -= set(range(start, start + rule.length_min, interval_min))
    daily = np.array(sorted(offsets), dtype=np.int64) // interval_min
    first = tour.start_min // interval_min
    cells = [(day * per_day + first + daily) % week for day in tour.working_days]
    return np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)


def _solve(
    costs: NDArray[np.float64],
    columns: list[NDArray[np.int64]],
    required: NDArray[np.float64],
    penalty: float,
    integer: bool,
    time_limit_s: float,
    mip_rel_gap: float,
) -> tuple[NDArray[np.float64], float, str]:
    n_tours, n_rows = len(columns), len(required)
    starts = np.zeros(n_tours + n_rows + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(c) for c in columns] + [1] * n_rows)
    rows = np.concatenate([*columns, np.arange(n_rows)])
    matrix = sparse.csc_array((np.ones(rows.size), rows, starts), shape=(n_rows, n_tours + n_rows))
    result = milp(
        np.concatenate([costs, np.full(n_rows, penalty)]),
        integrality=np.concatenate([np.full(n_tours, int(integer)), np.zeros(n_rows)]),
        bounds=Bounds(0, np.inf),
        constraints=LinearConstraint(matrix, lb=required, ub=np.inf),
        options={"time_limit": float(time_limit_s), "mip_rel_gap": float(mip_rel_gap)},
    )
    if result.x is None:
        raise RuntimeError(f"HiGHS found no solution: {result.message}")
    return np.asarray(result.x, dtype=np.float64), float(result.fun), str(result.message)


def schedule_week(
    required_agents: ArrayLike,
    interval_min: int = 30,
    shift_types: Sequence[ShiftType] = DEFAULT_SHIFT_TYPES,
    rules: TourRules = TourRules(),
    *,
    understaffing_penalty_per_agent_hour: float = 100.0,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 0.01,
) -> ScheduleResult:
    """Fewest paid hours of tours covering the required agents of every interval of a week.

    `required_agents` has 7 × (1440 / interval_min) values (Monday 00:00 first), flat or one
    row per day. Understaffing is allowed at `understaffing_penalty_per_agent_hour` (in paid
    hours) so that the model is always feasible; it is reported per interval.
    """
    began = time.perf_counter()
    required = np.asarray(required_agents, dtype=np.float64).reshape(-1)
    per_day = MINUTES_PER_DAY // interval_min
    if required.size != per_day * DAYS_PER_WEEK:
        raise ValueError(
            f"need {per_day * DAYS_PER_WEEK} requirements ({per_day} per day), got {required.size}"
        )
    if np.isnan(required).any() or (required < 0).any():
        raise ValueError("required agents must be >= 0")
    if understaffing_penalty_per_agent_hour <= 0:
        raise ValueError("understaffing_penalty_per_agent_hour must be > 0")
    required = np.ceil(required - 1e-9)
    tours = build_tours(interval_min, shift_types, rules)
    if not tours:
        raise ValueError("the rules allow no tour")
    columns = [tour_intervals(t, interval_min) for t in tours]
    costs = np.array([t.paid_min_per_week for t in tours], dtype=np.float64)
    penalty = understaffing_penalty_per_agent_hour * interval_min
    args = (costs, columns, required, penalty)
    _, lp_bound, _ = _solve(*args, False, time_limit_s, mip_rel_gap)
    remaining = max(1.0, time_limit_s - (time.perf_counter() - began))
    values, objective, status = _solve(*args, True, remaining, mip_rel_gap)
    counts = np.rint(values[: len(tours)]).astype(np.int64)
    coverage = np.zeros(required.size, dtype=np.int64)
    for column, count in zip(columns, counts, strict=True):
        if count:
            np.add.at(coverage, column, count)
    chosen = [(tour, int(c)) for tour, c in zip(tours, counts, strict=True) if c > 0]
    paid_min = float(sum(t.paid_min_per_week * c for t, c in chosen))
    return ScheduleResult(
        interval_min=interval_min,
        tours=chosen,
        required=required,
        coverage=coverage,
        paid_hours=paid_min / 60.0,
        lp_bound_hours=lp_bound / 60.0,
        objective_gap=(objective - lp_bound) / lp_bound if lp_bound > 0 else 0.0,
        solver_status=status,
        seconds=time.perf_counter() - began,
    )


@dataclass(frozen=True)
class Agent:
    """A named agent: skills, weekly contracted hours and (optionally) available intervals."""

    name: str
    contracted_hours_per_week: float
    skills: frozenset[str] = frozenset()
    available: NDArray[np.bool_] | None = None  # one flag per interval of the week
    hours_tolerance: float = 4.0


@dataclass
class Assignment:
    by_agent: dict[str, Tour]
    unassigned: list[Tour]


def assign_tours(
    result: ScheduleResult, agents: Sequence[Agent], skill: str | None = None
) -> Assignment:
    """Give each chosen tour to at most one agent who may work it, closest to their contract.

    An agent may take a tour when it has `skill` (if given), is available in every interval the
    tour works and the tour's paid hours lie within its contracted hours ± tolerance. Minimum-cost
    bipartite matching (Kuhn 1955, via scipy's linear_sum_assignment) minimises the total
    |paid − contracted| hours; tours nobody can take are returned as unassigned.
    """
    instances = [tour for tour, count in result.tours for _ in range(count)]
    eligible = [a for a in agents if skill is None or skill in a.skills]
    if not instances:
        return Assignment({}, [])
    if not eligible:
        return Assignment({}, instances)
    infeasible = 1e9
    cost = np.full((len(instances), len(eligible)), infeasible)
    cache: dict[Tour, NDArray[np.int64]] = {}
    for i, tour in enumerate(instances):
        cells = cache.setdefault(tour, tour_intervals(tour, result.interval_min))
        hours = tour.paid_min_per_week / 60.0
        for j, agent in enumerate(eligible):
            if abs(hours - agent.contracted_hours_per_week) > agent.hours_tolerance:
                continue
            if agent.available is not None and not bool(agent.available[cells].all()):
                continue
            cost[i, j] = abs(hours - agent.contracted_hours_per_week)
    rows, cols = linear_sum_assignment(cost)
    by_agent: dict[str, Tour] = {}
    taken = set()
    for i, j in zip(rows, cols, strict=True):
        if cost[i, j] < infeasible:
            by_agent[eligible[j].name] = instances[i]
            taken.add(i)
    return Assignment(by_agent, [t for i, t in enumerate(instances) if i not in taken])
