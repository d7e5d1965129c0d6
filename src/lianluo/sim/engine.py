"""The discrete-event core: a heap calendar on a virtual clock driving a `SimRouter`.

One call of `simulate(scenario, replication)` is one independent replication. Randomness
comes from separate streams per purpose (arrivals, service, patience, choices, schedule)
spawned from (scenario.seed, replication), so two scenarios that differ only in their rules
see the same traffic (common random numbers) and a run is reproducible bit for bit.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from lianluo.domain.kpi import OutcomeColumns
from lianluo.sim.distributions import FloatArray, arrival_times, sample
from lianluo.sim.router import QueueSpec, SimRouter, make_router
from lianluo.sim.scenario import Duration, Queue, Scenario

# Event kinds, in the order they are processed when they fall on the same instant.
_END = 0
_AGENT_OFF = 1
_AGENT_ON = 2
_ABANDON = 3
_NEW_CONTACT = 4
_WAKEUP = 5

# What a contact is.
KIND_CALL = 0  # a customer contact
KIND_WORK_ITEM = 1  # ticket work without the customer on the line (follow-up, back office)

_DRAIN_S = 6 * 3600.0  # after the horizon, keep serving what is queued for this long at most
_BLOCK = 4096  # random draws are taken in blocks; one scalar draw costs more than the event


Draw = Callable[[], float]
_Event = tuple[float, int, int, int, int]  # time, kind, sequence number, a, b


def _stream(draw: Callable[[int], FloatArray]) -> Draw:
    """Pre-drawn blocks of one distribution, handed out one value per call. A block is drawn
    when the previous one is used up and a value is asked for (never ahead): streams sharing a
    generator interleave their blocks in the order the day asks for them."""

    def values() -> Iterator[float]:
        while True:
            yield from draw(_BLOCK).tolist()

    return values().__next__


@dataclass
class AgentTime:
    """Per interval of the horizon: seconds agents spent handling and idle while available."""

    handling_s: FloatArray
    available_s: FloatArray


@dataclass
class TicketRecord:
    queue: str
    opened_at: float
    resolved_at: float | None
    contacts: int  # customer contacts on this need (the first one included)
    work_items: int
    escalated: bool


@dataclass
class SimResult:
    """One replication: contact outcomes (customer contacts only), agent time, tickets."""

    scenario_name: str
    replication: int
    outcomes: OutcomeColumns
    agent_time: AgentTime
    tickets: list[TicketRecord] = field(default_factory=list)
    events: int = 0
    work_items: int = 0


def _segment_time_per_interval(
    starts: FloatArray, ends: FloatArray, interval_s: float, intervals: int
) -> FloatArray:
    """Seconds of the union-free segments [start, end) falling in each interval.

    G(x) = Σ max(0, min(x, e) − s) for sorted boundaries, via sorted starts and ends.
    """
    bounds = np.arange(intervals + 1) * interval_s
    s = np.sort(starts)
    e = np.sort(ends)
    cs = np.concatenate([[0.0], np.cumsum(s)])
    ce = np.concatenate([[0.0], np.cumsum(e)])
    ns = np.searchsorted(s, bounds, side="left")
    ne = np.searchsorted(e, bounds, side="left")
    g = (bounds * ns - cs[ns]) - (bounds * ne - ce[ne])
    # Differences of large cumulative sums: round off the float noise (a millisecond).
    return np.maximum(np.round(np.diff(g), 3), 0.0)


class _Simulation:
    def __init__(self, scenario: Scenario, replication: int, router: SimRouter) -> None:
        self.sc = scenario
        self.router = router
        root = np.random.SeedSequence([scenario.seed, replication])
        arr_ss, svc_ss, pat_ss, choice_ss, sched_ss = root.spawn(5)
        self.rng_arrivals = np.random.default_rng(arr_ss)
        self.rng_service = np.random.default_rng(svc_ss)
        self.rng_patience = np.random.default_rng(pat_ss)
        self.rng_choice = np.random.default_rng(choice_ss)
        self.rng_schedule = np.random.default_rng(sched_ss)
        self.horizon_s = scenario.horizon_s
        self.queues = list(scenario.queues)
        self.qindex = {q.name: i for i, q in enumerate(self.queues)}
        self.q_name = [q.name for q in self.queues]
        self.q_tickets = [q.tickets is not None for q in self.queues]
        self.q_ticket_rules = [q.tickets for q in self.queues]
        self.q_transfer = [q.transfer for q in self.queues]
        # Only first-contact ticket queues change a contact's talk time when it is answered.
        self.owner_factor = any(
            q.tickets is not None and q.tickets.model == "first_contact" for q in self.queues
        )
        self.choice = _stream(self.rng_choice.random)
        self.handle_streams = [self._stream(q.handle_time, self.rng_service) for q in self.queues]
        self.acw_streams = [
            self._stream(q.acw, self.rng_service) if q.acw else None for q in self.queues
        ]
        self.patience_streams = [
            self._stream(q.patience, self.rng_patience) if q.patience else None for q in self.queues
        ]
        self.followup_streams = [
            self._stream(q.tickets.followup_handle, self.rng_service)
            if q.tickets and q.tickets.followup_handle
            else None
            for q in self.queues
        ]
        self.back_office_streams = [
            self._stream(q.tickets.back_office_handle, self.rng_service)
            if q.tickets and q.tickets.back_office_handle
            else None
            for q in self.queues
        ]
        self.exp = _stream(lambda n: self.rng_choice.exponential(1.0, n))
        # Per contact columns: python lists (cheap to index one element), grown a block at a
        # time with every column at its default, so a new contact writes only what differs.
        self.n_contacts_made = 0
        self.c_queue: list[int] = []
        self.c_kind: list[int] = []
        self.c_offered: list[float] = []
        self.c_answered: list[float] = []
        self.c_abandoned: list[float] = []
        self.c_ended: list[float] = []
        self.c_talk: list[float] = []
        self.c_acw: list[float] = []
        self.c_transferred: list[bool] = []
        self.c_e2e: list[bool] = []
        self.c_need: list[int] = []
        self.c_customer: list[int] = []
        self.c_vip: list[bool] = []
        self.c_complaint: list[bool] = []
        self.c_callback: list[bool] = []
        self.c_first: list[bool] = []  # the first answered contact of its need
        # Work drawn when the contact is born, so staffing changes keep each contact's work
        # (common random numbers between scenarios).
        self.c_talk_draw: list[float] = []
        self.c_acw_draw: list[float] = []
        # Needs (tickets): index = need id; grown like the contact columns.
        self.n_needs_made = 0
        self.n_queue: list[int] = []
        self.n_opened: list[float] = []
        self.n_resolved: list[float] = []
        self.n_contacts: list[int] = []
        self.n_work: list[int] = []
        self.n_escalated: list[bool] = []
        self.n_ticket: list[bool] = []
        self.n_answered: list[bool] = []
        nan = math.nan
        self.contact_columns: list[tuple[list[Any], object]] = [
            (self.c_queue, 0),
            (self.c_kind, KIND_CALL),
            (self.c_offered, nan),
            (self.c_answered, nan),
            (self.c_abandoned, nan),
            (self.c_ended, nan),
            (self.c_talk, 0.0),
            (self.c_acw, 0.0),
            (self.c_transferred, False),
            (self.c_e2e, False),
            (self.c_need, 0),
            (self.c_customer, 0),
            (self.c_vip, False),
            (self.c_complaint, False),
            (self.c_callback, False),
            (self.c_first, False),
            (self.c_talk_draw, 0.0),
            (self.c_acw_draw, 0.0),
        ]
        self.need_columns: list[tuple[list[Any], object]] = [
            (self.n_queue, 0),
            (self.n_opened, nan),
            (self.n_resolved, nan),
            (self.n_contacts, 0),
            (self.n_work, 0),
            (self.n_escalated, False),
            (self.n_ticket, False),
            (self.n_answered, False),
        ]
        # Agents.
        self.a_busy_with: list[int] = []
        self.a_scheduled: list[bool] = []
        self.a_idle_since: list[float] = []
        self.idle_starts: list[float] = []
        self.idle_ends: list[float] = []
        self.heap: list[_Event] = []
        # Patience deadlines of contacts born at this instant, with their sequence numbers:
        # the run loop puts them on the calendar after the tick unless answered by it.
        self.patience_due: list[_Event] = []
        self.seq = 0
        self.events = 0
        self.pending_wakeup = math.inf

    @staticmethod
    def _stream(dist: Duration, rng: np.random.Generator) -> Draw:
        return _stream(lambda n: sample(dist, rng, n))

    def push(self, t: float, kind: int, a: int = 0, b: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, kind, self.seq, a, b))

    # -- setup ------------------------------------------------------------------------------------

    def build_agents(self) -> None:
        sc = self.sc
        interval_s = sc.interval_s
        agent = 0
        day_s = 86_400.0
        local_start = sc.start.astimezone(_zone(sc.timezone))
        start_clock_s = local_start.hour * 3600.0 + local_start.minute * 60.0 + local_start.second
        for group in sc.agents:
            periods: list[list[tuple[float, float]]] = []
            if group.per_interval is not None:
                heads = np.resize(np.asarray(group.per_interval), sc.intervals)
                for i in range(int(heads.max()) if len(heads) else 0):
                    on = heads > i
                    periods.append(_runs(on, interval_s))
            else:
                assert group.shifts is not None
                days = int(math.ceil((self.horizon_s + start_clock_s) / day_s)) + 1
                for shift in group.shifts:
                    for _ in range(shift.count):
                        ps: list[tuple[float, float]] = []
                        for d in range(-1, days):
                            base = d * day_s - start_clock_s
                            cuts = sorted(
                                (b.at_s + (day_s if b.at_s < shift.start_s else 0.0), b.minutes)
                                for b in shift.breaks
                            )
                            t0 = base + shift.start_s
                            for at_s, minutes in cuts:
                                if shift.start_s <= at_s < shift.end_s:
                                    ps.append((t0, base + at_s))
                                    t0 = base + at_s + minutes * 60.0
                            ps.append((t0, base + shift.end_s))
                        clipped = [
                            (max(a, 0.0), min(b, self.horizon_s))
                            for a, b in ps
                            if b > 0 and a < self.horizon_s and b > a
                        ]
                        periods.append([(a, b) for a, b in clipped if b > a])
            for ps in periods:
                if group.shrinkage > 0:
                    absent = self.rng_schedule.random(sc.intervals) < group.shrinkage
                    ps = _subtract_slots(ps, absent, interval_s)
                self.router.add_agent(agent, group.skills, 0.0)
                self.a_busy_with.append(-1)
                self.a_scheduled.append(False)
                self.a_idle_since.append(math.nan)
                for a, b in ps:
                    self.push(a, _AGENT_ON, agent)
                    self.push(b, _AGENT_OFF, agent)
                agent += 1
        self.n_agents = agent

    def build_arrivals(self) -> tuple[FloatArray, np.ndarray]:
        times_by_queue = []
        for i, q in enumerate(self.queues):
            if q.arrivals is None:
                continue
            t = arrival_times(q.arrivals, self.sc.interval_s, self.sc.intervals, self.rng_arrivals)
            times_by_queue.append((t, np.full(len(t), i, dtype=np.int64)))
        if not times_by_queue:
            return np.empty(0), np.empty(0, dtype=np.int64)
        times = np.concatenate([t for t, _ in times_by_queue])
        qs = np.concatenate([q for _, q in times_by_queue])
        order = np.argsort(times, kind="stable")
        return times[order], qs[order]

    # -- contacts ---------------------------------------------------------------------------------

    def new_need(self, qi: int, now: float, ticket: bool) -> int:
        need = self.n_needs_made
        if need == len(self.n_queue):
            _grow(self.need_columns)
        self.n_needs_made = need + 1
        self.n_queue[need] = qi
        self.n_opened[need] = now
        if ticket:
            self.n_ticket[need] = True
        return need

    def new_contact(
        self, qi: int, now: float, need: int, customer: int, vip: bool, kind: int = KIND_CALL
    ) -> int:
        call = kind == KIND_CALL
        cid = self.n_contacts_made
        if cid == len(self.c_queue):
            _grow(self.contact_columns)
        self.n_contacts_made = cid + 1
        self.c_queue[cid] = qi
        self.c_offered[cid] = now
        self.c_need[cid] = need
        self.c_customer[cid] = customer
        if vip:
            self.c_vip[cid] = True
        if call:
            if self.q_tickets[qi]:
                self.c_complaint[cid] = True
            # (a call's work comes from its queue's handle time: draw_talk's first case)
            self.c_talk_draw[cid] = self.handle_streams[qi]()
            acw_stream = self.acw_streams[qi]
            if acw_stream is not None:
                self.c_acw_draw[cid] = acw_stream()
            self.n_contacts[need] += 1
            # Customers on the line go before offline ticket work of the same queue.
            self.router.enqueue(cid, self.q_name[qi], now, vip=vip)
            stream = self.patience_streams[qi]
            if stream is not None:
                # On the calendar after this instant's tick, and only if still waiting then.
                self.seq += 1
                self.patience_due.append((now + stream(), _ABANDON, self.seq, cid, 0))
        else:
            self.c_kind[cid] = kind
            self.c_talk_draw[cid] = self.draw_talk(qi, need, kind)
            self.n_work[need] += 1
            self.router.enqueue(cid, self.q_name[qi], now, vip=vip, priority=-1.0)
        return cid

    def draw_talk(self, qi: int, need: int, kind: int) -> float:
        need_qi = self.n_queue[need]
        if kind == KIND_WORK_ITEM and self.queues[need_qi].tickets is not None:
            streams = self.back_office_streams if qi != need_qi else self.followup_streams
            stream = streams[need_qi]
            if stream is not None:
                return stream()
        return self.handle_streams[qi]()

    def handle_time(self, cid: int, first: bool) -> tuple[float, float]:
        """(talk, after-contact work) of a contact about to be answered."""
        talk = self.c_talk_draw[cid]
        qi = self.c_queue[cid]
        need_qi = self.n_queue[self.c_need[cid]]
        tickets = self.queues[need_qi].tickets
        if (
            tickets is not None
            and tickets.model == "first_contact"
            and first
            and qi == need_qi
            and self.c_kind[cid] == KIND_CALL
        ):
            talk *= tickets.owner_handle_factor  # the owner consults and works the case
        return talk, self.c_acw_draw[cid]

    # -- agents -----------------------------------------------------------------------------------

    def make_available(self, agent: int, now: float) -> None:
        self.a_idle_since[agent] = now
        self.router.agent_available(agent, now)

    def end_idle(self, agent: int, now: float) -> None:
        since = self.a_idle_since[agent]
        if since == since:  # not NaN
            self.idle_starts.append(since)
            self.idle_ends.append(now)
            self.a_idle_since[agent] = math.nan

    # -- the loop ---------------------------------------------------------------------------------

    def run(self) -> None:
        self.build_agents()
        arrival_t, arrival_q = self.build_arrivals()
        vip_draws = self.rng_arrivals.random(len(arrival_t))
        vip_share = np.array([q.vip_share for q in self.queues])
        arrivals_vip = (vip_draws < vip_share[arrival_q]).tolist() if len(arrival_t) else []
        arrival_t_list = arrival_t.tolist()
        arrival_q_list = arrival_q.tolist()
        n_arrivals = len(arrival_t_list)
        next_arrival = 0
        heap = self.heap
        router = self.router
        stop_at = self.horizon_s + _DRAIN_S
        pop = heapq.heappop
        inf = math.inf
        new_need = self.new_need
        new_contact = self.new_contact
        start_service = self.start_service
        on_end = self.on_end
        q_tickets = self.q_tickets
        a_busy_with = self.a_busy_with
        a_scheduled = self.a_scheduled
        c_answered = self.c_answered
        patience_due = self.patience_due
        push = heapq.heappush
        has_timers = getattr(router, "has_timers", True)  # routers written before it: ask
        # Patience deadlines of contacts answered in the tick of their birth are never put
        # on the calendar; `events` still counts them as the events they were (no-ops: the
        # contact was answered), those due by `stop_at`, and the first one after it if the
        # loop would have stopped there.
        answered_patience = 0
        answered_patience_late = False
        events = 0
        while True:
            ta = arrival_t_list[next_arrival] if next_arrival < n_arrivals else inf
            th = heap[0][0] if heap else inf
            if ta == inf and th == inf:
                # the calendar ran dry: an answered contact's deadline after stop_at would
                # have been the event that stopped the loop
                events += answered_patience_late
                break
            events += 1
            if ta <= th:
                now = ta
                qi = arrival_q_list[next_arrival]
                vip = arrivals_vip[next_arrival]
                next_arrival += 1
                need = new_need(qi, now, q_tickets[qi])
                new_contact(qi, now, need, need, vip)
            else:
                now, kind, _, a, b = pop(heap)
                if now > stop_at:
                    break
                if kind == _END:
                    on_end(a, b, now)
                elif kind == _ABANDON:
                    if not self.on_abandon(a, now):
                        continue
                elif kind == _AGENT_ON:
                    a_scheduled[a] = True
                    if a_busy_with[a] < 0:
                        self.make_available(a, now)
                elif kind == _AGENT_OFF:
                    a_scheduled[a] = False
                    if a_busy_with[a] < 0:
                        self.end_idle(a, now)
                        router.agent_unavailable(a, now)
                    continue
                elif kind == _NEW_CONTACT:
                    self.on_new_contact(a, b, now)
                elif kind == _WAKEUP:
                    self.pending_wakeup = inf
            for cid, agent in router.dispatch(now):
                start_service(cid, agent, now)
            if patience_due:
                for event in patience_due:
                    if c_answered[event[3]] != c_answered[event[3]]:  # NaN: still waiting
                        push(heap, event)
                    elif event[0] <= stop_at:
                        answered_patience += 1
                    else:
                        answered_patience_late = True
                patience_due.clear()
            if has_timers:
                wake = router.next_wakeup(now)
                if wake is not None and now < wake < self.pending_wakeup:
                    self.pending_wakeup = wake
                    self.push(wake, _WAKEUP)
        self.events = events + answered_patience

    def start_service(self, cid: int, agent: int, now: float) -> None:
        a_idle_since = self.a_idle_since
        since = a_idle_since[agent]
        if since == since:  # end_idle, inlined: this runs once per answered contact
            self.idle_starts.append(since)
            self.idle_ends.append(now)
            a_idle_since[agent] = math.nan
        self.a_busy_with[agent] = cid
        self.c_answered[cid] = now
        need = self.c_need[cid]
        n_answered = self.n_answered
        if n_answered[need]:
            first = False
        else:
            first = n_answered[need] = self.c_first[cid] = True
        if self.owner_factor:
            talk, acw = self.handle_time(cid, first)
        else:
            talk, acw = self.c_talk_draw[cid], self.c_acw_draw[cid]
        self.c_talk[cid] = talk
        self.c_acw[cid] = acw
        self.seq = seq = self.seq + 1
        heapq.heappush(self.heap, (now + talk + acw, _END, seq, agent, cid))

    def on_abandon(self, cid: int, now: float) -> bool:
        if self.c_answered[cid] == self.c_answered[cid] or self.c_callback[cid]:
            return False  # answered (or kept as callback) before patience ran out
        q = self.queues[self.c_queue[cid]]
        if q.callback is not None and self.choice() < q.callback.probability:
            self.c_callback[cid] = True  # keeps its place; an agent will call back
            self.router.keep_as_callback(cid, now)
            return False
        self.router.cancel(cid, now)
        self.c_abandoned[cid] = now
        self.c_ended[cid] = now
        if q.retrial is not None and self.choice() < q.retrial.probability:
            delay = self.exp() * q.retrial.mean_delay_s
            if now + delay < self.horizon_s:
                self.push(now + delay, _NEW_CONTACT, cid, 0)
        return True

    def on_new_contact(self, origin: int, purpose: int, now: float) -> None:
        """A contact born from an earlier one: retrial (0), transfer (1), chase call (2),
        follow-up work item (3), back-office work item (4)."""
        qi = self.c_queue[origin]
        need = self.c_need[origin]
        customer = self.c_customer[origin]
        vip = self.c_vip[origin]
        if purpose == 0:
            self.new_contact(qi, now, need, customer, vip)
        elif purpose == 1:
            transfer = self.queues[qi].transfer
            assert transfer is not None
            self.new_contact(self.qindex[transfer.to], now, need, customer, vip)
        elif purpose == 2:
            if self.n_resolved[need] != self.n_resolved[need]:  # still open: chase it
                self.new_contact(self.n_queue[need], now, need, customer, vip)
        elif purpose == 3:
            self.new_contact(self.n_queue[need], now, need, customer, vip, KIND_WORK_ITEM)
        else:
            tickets = self.queues[self.n_queue[need]].tickets
            assert tickets is not None
            assert tickets.back_office_queue is not None
            bo = self.qindex[tickets.back_office_queue]
            self.new_contact(bo, now, need, customer, vip, KIND_WORK_ITEM)

    def on_end(self, agent: int, cid: int, now: float) -> None:
        self.c_ended[cid] = now
        self.a_busy_with[agent] = -1
        self.router.release(agent, cid, now)
        if not self.a_scheduled[agent]:
            self.router.agent_unavailable(agent, now)
        else:
            self.a_idle_since[agent] = now
        qi = self.c_queue[cid]
        need = self.c_need[cid]
        need_qi = self.n_queue[need]
        tickets = self.q_ticket_rules[need_qi]
        if self.c_kind[cid] == KIND_WORK_ITEM:
            if (
                tickets is not None
                and qi != need_qi
                and tickets.back_office_resolve_p < 1.0
                and self.choice() >= tickets.back_office_resolve_p
            ):
                self.push(now + tickets.followup_delay_s, _NEW_CONTACT, cid, 4)  # rework
                return
            self.n_resolved[need] = now
            return
        if tickets is not None and qi == need_qi:
            self.end_ticket_call(cid, need, now)
            return
        transfer = self.q_transfer[qi]
        if transfer is not None and self.choice() < transfer.probability:
            self.c_transferred[cid] = True
            self.push(now, _NEW_CONTACT, cid, 1)
            return
        self.c_e2e[cid] = True
        self.n_resolved[need] = now

    def end_ticket_call(self, cid: int, need: int, now: float) -> None:
        tickets = self.queues[self.n_queue[need]].tickets
        assert tickets is not None
        first = self.c_first[cid]
        if self.n_resolved[need] == self.n_resolved[need]:
            self.c_e2e[cid] = True  # a late chase call after resolution: answered on the spot
            return
        if not first:
            # A chase call: the agent can only report status; the customer may chase again.
            self.schedule_chase(cid, need, now, tickets.chase_p, tickets.chase_mean_delay_s)
            return
        if tickets.model == "first_contact":
            self.c_e2e[cid] = True
            if self.choice() < tickets.owner_resolve_p:
                self.n_resolved[need] = now
                return
            self.push(now + tickets.followup_delay_s, _NEW_CONTACT, cid, 3)
        else:
            if self.choice() >= tickets.escalate_p:
                self.c_e2e[cid] = True
                self.n_resolved[need] = now
                return
            self.c_transferred[cid] = True
            self.n_escalated[need] = True
            self.push(now, _NEW_CONTACT, cid, 4)
        self.schedule_chase(cid, need, now, tickets.chase_p, tickets.chase_mean_delay_s)

    def schedule_chase(
        self, cid: int, need: int, now: float, chase_p: float, mean_delay_s: float
    ) -> None:
        if self.choice() < chase_p:
            t = now + self.exp() * mean_delay_s
            if t < self.horizon_s:
                self.push(t, _NEW_CONTACT, cid, 2)

    # -- results ----------------------------------------------------------------------------------

    def result(self, replication: int) -> SimResult:
        for columns, made in (
            (self.contact_columns, self.n_contacts_made),
            (self.need_columns, self.n_needs_made),
        ):
            for column, _ in columns:
                del column[made:]  # the unused rest of the last block
        start = self.sc.start_epoch_s
        made = self.n_contacts_made
        kind = _column(self.c_kind, np.int64, made)
        calls = kind == KIND_CALL
        all_calls = bool(calls.all())  # then no column needs the calls picked out
        qnames = np.array([q.name for q in self.queues], dtype=object)
        channels = np.array([q.channel for q in self.queues], dtype=object)
        qi = _column(self.c_queue, np.int64, made)
        need = _column(self.c_need, np.int64, made)
        resolved = _column(self.n_resolved, np.float64, self.n_needs_made)
        ticket_need = _column(self.n_ticket, np.bool_, self.n_needs_made)

        def f(values: list[Any], dtype: type = np.float64) -> npt.NDArray[Any]:
            column = _column(values, dtype, made)
            return column if all_calls else column[calls]

        n = int(calls.sum())
        call_q = qi if all_calls else qi[calls]
        call_need = need if all_calls else need[calls]
        answered_all = _column(self.c_answered, np.float64, made)
        answered = answered_all if all_calls else answered_all[calls]
        talk = f(self.c_talk)
        acw = f(self.c_acw)
        categories = qnames[call_q]  # fancy indexing: a new array
        categories[~f(self.c_complaint, np.bool_)] = None
        outcomes = OutcomeColumns(
            offered_at=f(self.c_offered) + start,
            answered_at=answered + start,
            abandoned_at=f(self.c_abandoned) + start,
            ended_at=f(self.c_ended) + start,
            talk_s=talk,
            hold_s=np.zeros(n),
            acw_s=acw,
            queue=qnames[call_q],
            channel=channels[call_q],
            tier=np.where(f(self.c_vip, np.bool_), "vip", "standard").astype(object),
            customer_id=np.array(
                [f"u{v}" for v in f(self.c_customer, np.int64).tolist()], dtype=object
            ),
            need_id=np.array([f"n{v}" for v in call_need.tolist()], dtype=object),
            complaint_category=categories,
            need_resolved_at=resolved[call_need] + start,
            transferred=f(self.c_transferred, np.bool_),
            handled_end_to_end_by_first_agent=f(self.c_e2e, np.bool_) & ~np.isnan(answered),
        )
        interval_s, intervals = self.sc.interval_s, self.sc.intervals
        # Agents still idle at the end of the run are idle until they log off at the horizon.
        for agent in range(self.n_agents):
            self.end_idle(agent, self.horizon_s)
        # An agent is busy from answering a contact (or work item) to the end of its
        # after-contact work, even where the run stops first.
        served = ~np.isnan(answered_all)
        busy_starts = answered_all[served]
        busy_ends = (
            busy_starts
            + _column(self.c_talk, np.float64, made)[served]
            + _column(self.c_acw, np.float64, made)[served]
        )
        agent_time = AgentTime(
            handling_s=_segment_time_per_interval(busy_starts, busy_ends, interval_s, intervals),
            available_s=_segment_time_per_interval(
                f_all(self.idle_starts), f_all(self.idle_ends), interval_s, intervals
            ),
        )
        tickets = [
            TicketRecord(
                queue=self.queues[self.n_queue[i]].name,
                opened_at=self.n_opened[i] + start,
                resolved_at=None if math.isnan(resolved[i]) else float(resolved[i]) + start,
                contacts=self.n_contacts[i],
                work_items=self.n_work[i],
                escalated=self.n_escalated[i],
            )
            for i in np.flatnonzero(ticket_need)
        ]
        return SimResult(
            scenario_name=self.sc.name,
            replication=replication,
            outcomes=outcomes,
            agent_time=agent_time,
            tickets=tickets,
            events=self.events,
            work_items=int((~calls).sum()),
        )


_COLUMN_BLOCK = 16_384  # contacts or needs a column grows by at once


def _grow(columns: list[tuple[list[Any], object]]) -> None:
    for column, default in columns:
        column.extend([default] * _COLUMN_BLOCK)


def _column(values: list[Any], dtype: type, count: int) -> npt.NDArray[Any]:
    """A list column as an array (fromiter: a quarter faster than np.array for long lists)."""
    return np.fromiter(values, dtype=dtype, count=count)


def f_all(values: list[float]) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def _zone(name: str):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _runs(on: np.ndarray, interval_s: float) -> list[tuple[float, float]]:
    """[start, end) periods where the per-interval flag is on."""
    periods = []
    start = None
    for k, flag in enumerate(on.tolist()):
        if flag and start is None:
            start = k
        elif not flag and start is not None:
            periods.append((start * interval_s, k * interval_s))
            start = None
    if start is not None:
        periods.append((start * interval_s, len(on) * interval_s))
    return periods


def _subtract_slots(
    periods: list[tuple[float, float]], absent: np.ndarray, interval_s: float
) -> list[tuple[float, float]]:
    """Remove the intervals flagged absent from the on-periods."""
    out: list[tuple[float, float]] = []
    for a, b in periods:
        t = a
        while t < b:
            k = int(t // interval_s)
            slot_end = min(b, (k + 1) * interval_s)
            if k < len(absent) and absent[k]:
                t = slot_end
                continue
            if out and out[-1][1] == t:
                out[-1] = (out[-1][0], slot_end)
            else:
                out.append((t, slot_end))
            t = slot_end
    return out


def simulate(
    scenario: Scenario, replication: int = 0, router: SimRouter | None = None
) -> SimResult:
    """Run one replication of `scenario` on the routing engine (or the router given)."""
    if router is None:
        specs = [
            QueueSpec(q.name, q.channel, float(q.priority), float(q.vip_priority))
            for q in scenario.queues
        ]
        router = make_router(specs, scenario.routing)
    sim = _Simulation(scenario, replication, router)
    sim.run()
    return sim.result(replication)


def queue_of(scenario: Scenario, name: str) -> Queue:
    return scenario.queue(name)
