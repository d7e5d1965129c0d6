"""Historical reports, drill-down, agent scorecards and today's queue KPIs, from the event log.

Every figure comes from `lianluo.domain.kpi` (the one meaning of each KPI): the log is folded
into one fact row per contact (reports/facts.py), the rows are bucketed by the local interval,
day, week or month of the tenant's time zone in which each contact was *queued* (a contact
that spans midnight counts on the day it arrived), grouped by queue, agent (the first agent
who answered), partner or channel, and summed into `KpiTotals`, from which `report_kpis`
derives the ratios. The analytical path (reports/analytical.py) computes the same totals in
DuckDB for large logs; tests check both give identical figures.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from lianluo.auth.principal import Principal
from lianluo.db.base import utcnow
from lianluo.domain.kpi import (
    FIGURE_POPULATIONS,
    KpiParams,
    KpiTotals,
    ReportKpis,
    figure_contacts,
    local_start_datetime,
    repeat_complaint_flags,
    repeat_contact_flags,
    report_kpis,
    staffed_time_s,
)
from lianluo.errors import Forbidden, NotFound, Unprocessable
from lianluo.events.service import event_service
from lianluo.models import Role
from lianluo.paging import PageParams
from lianluo.reports.facts import CellKey, ContactFacts, build_facts, cell_totals
from lianluo.reports.repository import report_repository as repo
from lianluo.reports.schemas import (
    FILTER_FIELDS,
    MAX_RANGE_DAYS,
    ContactFact,
    DrillPage,
    GroupColumn,
    Kpis,
    Outcome,
    ReportFilters,
    ReportOut,
    ReportQuery,
    ReportRow,
    Scorecard,
)

REPORT_READERS = frozenset({Role.supervisor, Role.admin, Role.wfm, Role.partner_admin})
SCORECARD_READERS = REPORT_READERS | {Role.agent}
DAY_S = 86_400.0
# the groupings whose rows are agents or sets of agents: they have staffed time (occupancy)
OCCUPANCY_GROUPS = ("agent", "team", "partner")


def _state(payload: dict[str, Any]) -> str:
    return str(payload.get("to") or payload.get("state") or "offline")


def bucket_end_local(start_local_s: float, grain: str) -> float:
    """The local wall-clock end of the bucket that starts at `start_local_s`."""
    if grain == "month":
        month = np.array([start_local_s], dtype=np.float64).astype("datetime64[s]")
        following = month.astype("datetime64[M]") + np.timedelta64(1, "M")
        return float(following.astype("datetime64[s]").astype(np.float64)[0])
    return (
        start_local_s
        + {
            "15min": 900.0,
            "30min": 1800.0,
            "60min": 3600.0,
            "day": DAY_S,
            "week": 7 * DAY_S,
        }[grain]
    )


def local_range(
    date_from: date | None, date_to: date | None, tz: str, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """[local midnight of date_from, local midnight after date_to) as aware datetimes; a
    missing end defaults to today, a missing start to 6 days before the end."""
    zone = ZoneInfo(tz)
    if date_to is None:
        date_to = (now or utcnow()).astimezone(zone).date()
    if date_from is None:
        date_from = date_to - timedelta(days=6)
    if date_to < date_from:
        raise Unprocessable("date_to is before date_from")
    if (date_to - date_from).days >= MAX_RANGE_DAYS:
        raise Unprocessable(f"a report covers at most {MAX_RANGE_DAYS} days")
    since = datetime.combine(date_from, time(0), tzinfo=zone)
    until = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=zone)
    return since, until


def kpis_out(k: ReportKpis) -> Kpis:
    return Kpis(**asdict(k))


class ReportService:
    params = KpiParams()

    # ---- loading -----------------------------------------------------------------------

    def _facts(
        self, session: Session, principal: Principal, since: datetime, until: datetime
    ) -> ContactFacts:
        facts = build_facts(self._rows(session, principal, since, until))
        return facts.with_teams(repo.agent_teams(session, principal))

    def _rows(
        self, session: Session, principal: Principal, since: datetime, until: datetime
    ) -> list[Any]:
        """Contacts queued in [since, until) with all their events, and around them only what
        the KPIs look at: the complaints queued in the repeat-complaint window before `since`
        (earlier complaints of a customer on a category) and the contacts queued in the FCR
        window after `until` (later contacts on the same need), by their contact.queued alone.
        Those outside [since, until) are never counted themselves (cell_totals)."""
        lookback = since - timedelta(seconds=self.params.repeat_complaint_window_s)
        lookahead = until + timedelta(seconds=self.params.fcr_window_s)
        return [
            *repo.queued_events(session, principal, lookback, since, complaints_only=True),
            *repo.contact_events(session, principal, since, until),
            *repo.queued_events(session, principal, until, lookahead),
        ]

    def _filter_mask(self, facts: ContactFacts, query: ReportQuery) -> Any:
        mask = np.ones(len(facts), dtype=np.bool_)
        for column, value in _filters(query).items():
            if value is not None:
                mask &= facts.labels(column) == value
        return mask

    def _staffed(
        self,
        session: Session,
        principal: Principal,
        agent_ids: list[str],
        bounds: dict[float, tuple[float, float]],
    ) -> dict[tuple[float, str], float]:
        """Staffed seconds per (local bucket start, agent) from agent.state_changed."""
        if not bounds or not agent_ids:
            return {}
        first = min(b[0] for b in bounds.values())
        last = max(b[1] for b in bounds.values())
        # a shift is at most a day long: a day before the range gives the state at its start
        rows = repo.state_changes(
            session,
            principal,
            agent_ids,
            datetime.fromtimestamp(first - DAY_S).astimezone(),
            datetime.fromtimestamp(last).astimezone(),
        )
        changes: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for agent_id, occurred_at, payload in rows:
            changes[agent_id].append((occurred_at.timestamp(), _state(payload or {})))
        result: dict[tuple[float, str], float] = {}
        for agent_id, seq in changes.items():
            times = [t for t, _ in seq]
            for start_local, (lo, hi) in bounds.items():
                i = bisect.bisect_right(times, lo)
                state = seq[i - 1][1] if i else "offline"
                j = bisect.bisect_left(times, hi)
                staffed = staffed_time_s(seq[i:j], lo, hi, state)
                if staffed > 0:
                    result[(start_local, agent_id)] = staffed
        return result

    # ---- the report --------------------------------------------------------------------

    def report(
        self,
        session: Session,
        principal: Principal,
        query: ReportQuery,
        *,
        analytical: bool = False,
    ) -> ReportOut:
        """The report of `query`; `analytical` computes its cells in DuckDB (analytical.py)
        instead of numpy: the same figures, the path that scales to large logs."""
        principal.require(REPORT_READERS, "reading reports")
        tz = repo.timezone(session, principal)
        since, until = local_range(query.date_from, query.date_to, tz)
        if analytical:
            cells = self._analytical_cells(session, principal, query, tz, since, until)
        else:
            facts = self._facts(session, principal, since, until)
            mask = self._filter_mask(facts, query)
            cells = self.cells(facts, mask, since, until, query.grain, query.group_by, tz)
        return self.render(session, principal, query, tz, since, until, cells)

    def _analytical_cells(
        self,
        session: Session,
        principal: Principal,
        query: ReportQuery,
        tz: str,
        since: datetime,
        until: datetime,
    ) -> dict[CellKey, KpiTotals]:
        from lianluo.reports.analytical import AnalyticalStore, events_table

        rows = self._rows(session, principal, since, until)
        store = AnalyticalStore.from_events(events_table(rows))
        return store.cell_totals(
            since.timestamp(),
            until.timestamp(),
            query.grain,
            query.group_by,
            tz,
            self.params,
            _filters(query),
            team_of=repo.agent_teams(session, principal),
        )

    def cells(
        self,
        facts: ContactFacts,
        mask: Any,
        since: datetime,
        until: datetime,
        grain: str,
        group_by: str,
        tz: str,
    ) -> dict[CellKey, KpiTotals]:
        """The totals of every cell: contacts outside `mask` stay in for FCR look-ups only."""
        return cell_totals(
            facts, since.timestamp(), until.timestamp(), grain, group_by, tz, self.params, mask
        )

    def render(
        self,
        session: Session,
        principal: Principal,
        query: ReportQuery,
        tz: str,
        since: datetime,
        until: datetime,
        cells: dict[CellKey, KpiTotals],
    ) -> ReportOut:
        """Rows of a report from its cell totals: labels, bucket bounds, occupancy, total."""
        names = self._names(session, principal, query.group_by)
        bounds = {
            start: (
                local_start_datetime(start, tz).timestamp(),
                local_start_datetime(bucket_end_local(start, query.grain), tz).timestamp(),
            )
            for start in {start for start, _ in cells}
        }
        staffed = self._staffed_by_key(session, principal, query, bounds)
        rows = []
        total = KpiTotals()
        for (start, key), totals in sorted(cells.items(), key=lambda c: (c[0][0], c[0][1] or "")):
            total = total + totals
            occupancy_s = None
            if staffed is not None and query.group_by == "none":
                occupancy_s = sum(v for (s, _), v in staffed.items() if s == start)
            elif staffed is not None:  # by partner, the key None stands for in-house agents
                occupancy_s = staffed.get((start, key), 0.0)
            rows.append(
                ReportRow(
                    start=local_start_datetime(start, tz),
                    end=local_start_datetime(bucket_end_local(start, query.grain), tz),
                    key=key,
                    label=names.get(key, key) if key is not None else "—",
                    kpis=kpis_out(self._kpis(totals, occupancy_s)),
                )
            )
        overall_staffed = sum(staffed.values()) if staffed else None
        return ReportOut(
            timezone=tz,
            grain=query.grain,
            group_by=query.group_by,
            since=since,
            until=until,
            service_level_threshold_s=self.params.service_level_threshold_s,
            short_abandon_s=self.params.short_abandon_s,
            rows=rows,
            total=kpis_out(self._kpis(total, overall_staffed)),
        )

    def _staffed_by_key(
        self,
        session: Session,
        principal: Principal,
        query: ReportQuery,
        bounds: dict[float, tuple[float, float]],
    ) -> dict[tuple[float, str | None], float] | None:
        """Staffed seconds per (bucket, row key) for occupancy, or None when the report has
        none: grouped by what agents do not belong to (queue, skill, channel, region), or
        filtered by it, the handling time is a part of the agents' work while their staffed
        time is all of it. The agents are those the agent, team and partner filters keep."""
        contact_side = ("queue_id", "skill", "channel", "region")
        if query.group_by not in (*OCCUPANCY_GROUPS, "none") or any(
            getattr(query, f, None) is not None for f in contact_side
        ):
            return None
        team_of = repo.agent_teams(session, principal)
        partner_of = repo.agent_partners(session, principal)
        agent_ids = [
            a
            for a in sorted(repo.agent_names(session, principal))
            if query.agent_id in (None, a)
            and query.team in (None, team_of.get(a))
            and query.partner_id in (None, partner_of.get(a))
        ]
        staffed = self._staffed(session, principal, agent_ids, bounds)
        if query.group_by in ("agent", "none"):
            return dict(staffed)
        by_key: dict[tuple[float, str | None], float] = defaultdict(float)
        for (start, agent_id), seconds in staffed.items():
            if query.group_by == "partner":
                by_key[(start, partner_of.get(agent_id))] += seconds
            elif team_of.get(agent_id):
                by_key[(start, team_of[agent_id])] += seconds
        return dict(by_key)

    def _kpis(self, totals: KpiTotals, staffed_s: float | None) -> ReportKpis:
        if staffed_s is None or staffed_s <= 0:
            return report_kpis(totals)
        handling = min(totals.talk_s + totals.hold_s + totals.acw_s, staffed_s)
        return report_kpis(totals, handling, staffed_s - handling)

    def _names(self, session: Session, principal: Principal, group_by: str) -> dict[str, str]:
        if group_by == "queue":
            return repo.queue_names(session, principal)
        if group_by == "agent":
            return repo.agent_names(session, principal)
        if group_by == "partner":
            return repo.partner_names(session, principal)
        return {}

    # ---- drill-down --------------------------------------------------------------------

    def contacts(
        self,
        session: Session,
        principal: Principal,
        since: datetime,
        until: datetime,
        page: PageParams,
        *,
        queue_id: str | None = None,
        agent_id: str | None = None,
        partner_id: str | None = None,
        channel: str | None = None,
        skill: str | None = None,
        team: str | None = None,
        region: str | None = None,
        outcome: Outcome = "all",
        figure: str = "offered",
        missing: GroupColumn | None = None,
    ) -> DrillPage:
        """The contacts behind one figure of a report cell: queued in [since, until) with the
        cell's key (`missing`: the row whose key is null, e.g. by agent the contacts no agent
        answered), and among them those the figure counts (domain.kpi.figure_contacts)."""
        principal.require(REPORT_READERS, "reading reports")
        since, until = _aware(since, "since"), _aware(until, "until")
        if until <= since:
            raise Unprocessable("until must be after since")
        if (until - since).days > MAX_RANGE_DAYS + 1:
            raise Unprocessable(f"a drill-down covers at most {MAX_RANGE_DAYS} days")
        if figure not in FIGURE_POPULATIONS:
            raise Unprocessable(f"unknown figure {figure!r}")
        query = ReportQuery.model_construct(
            queue_id=queue_id,
            agent_id=agent_id,
            partner_id=partner_id,
            channel=channel,
            skill=skill,
            team=team,
            region=region,
        )
        if missing is not None and _filters(query)[missing] is not None:
            raise Unprocessable(f"missing={missing} contradicts the {missing} filter")
        # the windows around the range, as for a report: FCR and repeat complaints look there
        facts = self._facts(session, principal, since, until)
        cols = facts.cols
        offered = cols.offered_at
        cell = (offered >= since.timestamp()) & (offered < until.timestamp())
        cell &= self._filter_mask(facts, query)
        if missing is not None:
            cell &= np.array([v is None for v in facts.labels(missing)], dtype=np.bool_)
        if outcome == "answered":
            cell &= cols.answered
        elif outcome == "abandoned":
            cell &= cols.abandoned
        elif outcome == "waiting":
            cell &= ~cols.answered & ~cols.abandoned
        repeat_contact = repeat_contact_flags(cols, self.params.fcr_window_s)
        repeat_complaint = repeat_complaint_flags(cols, self.params.repeat_complaint_window_s)
        behind = figure_contacts(figure, cols, self.params, repeat_contact, repeat_complaint)
        rows = np.flatnonzero(cell & behind.population)
        selected = rows[page.offset : page.offset + page.page_size]
        event_service.audit(
            session,
            principal,
            "report.contacts.read",
            payload={"contacts": len(selected), "since": since.isoformat(), "figure": figure},
            read_only=True,
        )
        cell_offered = int(cell.sum())
        message = ""
        if len(rows) == 0:
            message = (
                "no contacts in this cell"
                if cell_offered == 0
                else f"none of the {cell_offered} contacts of this cell counts in {figure} "
                f"(it counts {FIGURE_POPULATIONS[figure]}), so it has no value"
            )
        return DrillPage(
            items=[
                self._contact_fact(facts, i, repeat_contact, repeat_complaint, behind.numerator)
                for i in selected
            ],
            total=len(rows),
            page=page.page,
            page_size=page.page_size,
            figure=figure,
            counts=FIGURE_POPULATIONS[figure],
            cell_offered=cell_offered,
            message=message,
        )

    @staticmethod
    def _contact_fact(
        facts: ContactFacts,
        i: int,
        repeat_contact: Any,
        repeat_complaint: Any,
        numerator: Any,
    ) -> ContactFact:
        cols = facts.cols
        answered = bool(cols.answered[i])
        wait = float(cols.wait_s[i])

        def handled(value: float) -> float | None:
            return round(float(value), 3) if answered else None

        return ContactFact(
            contact_id=str(facts.contact_id[i]),
            offered_at=datetime.fromtimestamp(cols.offered_at[i]).astimezone(),
            queue_id=facts.queue_id[i],
            agent_id=facts.agent_id[i],
            partner_id=facts.partner_id[i],
            channel=str(cols.channel[i]),
            skill=facts.skill[i],
            team=facts.team[i],
            region=facts.region[i],
            outcome=("answered" if answered else "abandoned" if cols.abandoned[i] else "waiting"),
            wait_s=None if math.isnan(wait) else round(wait, 3),
            handle_s=handled(cols.talk_s[i] + cols.hold_s[i] + cols.acw_s[i]),
            talk_s=handled(cols.talk_s[i]),
            hold_s=handled(cols.hold_s[i]),
            acw_s=handled(cols.acw_s[i]),
            transferred=bool(cols.transferred[i]),
            csat_score=None if math.isnan(cols.csat_score[i]) else float(cols.csat_score[i]),
            complaint_category=cols.complaint_category[i],
            over_the_head=bool(cols.over_the_head[i] and cols.complaint_category[i] is not None),
            repeat_contact=bool(repeat_contact[i]),
            repeat_complaint=bool(repeat_complaint[i]),
            in_numerator=None if numerator is None else bool(numerator[i]),
        )

    # ---- saved reports ----------------------------------------------------------------

    def check_filters(self, session: Session, principal: Principal, filters: ReportFilters) -> None:
        """Every id or name a saved report filters on exists in the caller's scope (a queue,
        agent or partner of another tenant or partner is as unknown as a made-up one), else a
        422 that names each bad field."""
        known: dict[str, Any] = {
            "queue_id": repo.queue_names(session, principal),
            "agent_id": repo.agent_names(session, principal),
            "partner_id": repo.partner_names(session, principal),
            "skill": set(repo.skill_names(session, principal)),
            "team": set(repo.agent_teams(session, principal).values()),
        }
        what = {"queue_id": "queue", "agent_id": "agent", "partner_id": "partner",
                "skill": "skill", "team": "team"}  # fmt: skip
        problems = [
            {"field": field, "message": f"unknown {what[field]} {value!r}"}
            for field in FILTER_FIELDS
            if field in known
            and (value := getattr(filters, field)) is not None
            and value not in known[field]
        ]
        if problems:
            raise Unprocessable(
                "; ".join(f"{p['field']}: {p['message']}" for p in problems), details=problems
            )

    # ---- scorecards --------------------------------------------------------------------

    def scorecard(
        self,
        session: Session,
        principal: Principal,
        agent_id: str | None,
        date_from: date | None,
        date_to: date | None,
    ) -> Scorecard:
        """Handled, AHT, FCR, CSAT, occupancy of one agent; `agent_id` None: the caller's own.
        Agents see their own only; supervisors (partner admins: their partner's) anyone's."""
        principal.require(SCORECARD_READERS, "reading scorecards")
        if agent_id is None:
            agent = repo.agent_of_user(session, principal)
            if agent is None:
                raise NotFound("your user has no agent profile")
        else:
            agent = repo.agent(session, principal, agent_id)
            if agent is None:
                raise NotFound.of("agent", agent_id)
            if agent.user_id != principal.user_id and not principal.has_any(REPORT_READERS):
                raise Forbidden("agents see their own scorecard only")
        if date_from and date_to and (date_to - date_from).days > 400:
            raise Unprocessable("a scorecard covers at most 400 days")
        tz = repo.timezone(session, principal)
        since, until = local_range(date_from, date_to, tz)
        # FCR looks at the customers' later contacts, whoever took them
        scope = Principal(
            user_id=principal.user_id,
            tenant_id=principal.tenant_id,
            partner_id=agent.partner_id,
            roles=principal.roles,
        )
        facts = self._facts(session, scope, since, until)
        query = ReportQuery.model_construct(agent_id=agent.id)
        cells = self.cells(facts, self._filter_mask(facts, query), since, until, "day", "none", tz)
        totals = sum(cells.values(), KpiTotals())
        staffed = sum(
            self._staffed(
                session,
                scope,
                [agent.id],
                {0.0: (since.timestamp(), until.timestamp())},
            ).values()
        )
        k = self._kpis(totals, staffed)
        names = repo.agent_names(session, scope)
        adherence, adherence_note = self._adherence(session, scope, agent.id, since, until)
        return Scorecard(
            agent_id=agent.id,
            name=names.get(agent.id, agent.id),
            since=since,
            until=until,
            handled=k.answered,
            aht_s=k.aht_s,
            avg_talk_s=k.avg_talk_s,
            avg_hold_s=k.avg_hold_s,
            avg_acw_s=k.avg_acw_s,
            fcr=k.fcr,
            effectiveness=k.effectiveness,
            csat=k.csat,
            surveys=k.surveys,
            transfer_rate=k.transfer_rate,
            occupancy=k.occupancy,
            staffed_s=round(staffed, 3),
            adherence=adherence,
            adherence_note=adherence_note,
        )

    def _adherence(
        self,
        session: Session,
        principal: Principal,
        agent_id: str,
        since: datetime,
        until: datetime,
    ) -> tuple[float | None, str]:
        """Schedule adherence over [since, now) when a WFM schedule is published for the
        agent (wfm: PUT /api/v1/wfm/activities), else None and why."""
        from lianluo.wfm.service import wfm_service

        end = min(until, utcnow())
        if end <= since:
            return None, "the period has not started yet"
        report = wfm_service.stored_adherence(session, principal, agent_id, since, end)
        if report is None:
            return None, "no WFM schedule is published for this agent in the period"
        return report.adherence, ""

    # ---- today, for the wallboard ------------------------------------------------------

    def queue_kpis_today(
        self, session: Session, principal: Principal, now: datetime
    ) -> dict[str, ReportKpis]:
        """KPIs per queue id of the contacts queued since local midnight (the tenant's time
        zone) up to `now`: what a wallboard shows beside its live counters. Same definitions
        as the historical reports (FCR is not final until its window has passed)."""
        tz = repo.timezone(session, principal)
        today = now.astimezone(ZoneInfo(tz)).date()
        since, until = local_range(today, today, tz)
        facts = self._facts(session, principal, since, until)
        cells = cell_totals(
            facts, since.timestamp(), until.timestamp(), "day", "queue", tz, self.params
        )
        return {key: report_kpis(t) for (_, key), t in cells.items() if key is not None}


def _filters(query: ReportQuery) -> dict[str, str | None]:
    """The report's filters by the group column they restrict (unset ones are None)."""
    return {
        "queue": getattr(query, "queue_id", None),
        "skill": getattr(query, "skill", None),
        "agent": getattr(query, "agent_id", None),
        "team": getattr(query, "team", None),
        "partner": getattr(query, "partner_id", None),
        "channel": getattr(query, "channel", None),
        "region": getattr(query, "region", None),
    }


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise Unprocessable(
            f"{name}: give a time zone (e.g. 2026-12-01T00:00:00+08:00)",
            details=[{"field": name, "message": "naive datetime"}],
        )
    return moment


report_service = ReportService()


def queue_kpis_today(
    session: Session, principal: Principal, now: datetime
) -> dict[str, ReportKpis]:
    """Module-level entry point for the wallboard; see `ReportService.queue_kpis_today`."""
    return report_service.queue_kpis_today(session, principal, now)
