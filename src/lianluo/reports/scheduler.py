"""Saved reports e-mailed on a schedule.

`send_due` is run by `lianluo reports send-due` (cron) and by the served process every
LIANLUO_REPORTS_SCHEDULER_INTERVAL_S (`SchedulerLoop`). Each due report is built with the
rights of its owner, attached as CSV or XLSX, sent through SMTP (LIANLUO_SMTP_*), and then
its next run is stored; a crash between sending and the commit resends it (at least once).
"""

from __future__ import annotations

import email.policy
import logging
import smtplib
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from lianluo.auth.principal import Principal
from lianluo.config import Settings
from lianluo.errors import AppError, Conflict, NotFound
from lianluo.models import SavedReport
from lianluo.paging import Page, PageParams
from lianluo.reports import export as exporter
from lianluo.reports.repository import report_repository as repo
from lianluo.reports.schemas import (
    FILTER_FIELDS,
    ReportOut,
    ReportQuery,
    SavedReportIn,
    SavedReportOut,
)
from lianluo.reports.service import REPORT_READERS, report_service

log = logging.getLogger(__name__)

# What a saved report stores beside its schedule: the ReportQuery less its dates.
SAVED_PARAMS = {"grain", "group_by", "days", *FILTER_FIELDS}

PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(days=7), "monthly": timedelta(days=30)}


def _out(row: SavedReport) -> SavedReportOut:
    return SavedReportOut(
        id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        format=row.format,  # type: ignore[arg-type]
        every=row.every,  # type: ignore[arg-type]
        recipients=list(row.recipients),
        next_run_at=row.next_run_at,
        last_sent_at=row.last_sent_at,
        **row.params,
    )


class SavedReportService:
    def list(
        self, session: Session, principal: Principal, page: PageParams
    ) -> Page[SavedReportOut]:
        principal.require(REPORT_READERS, "reading saved reports")
        rows, total = repo.saved_list(session, principal, page.offset, page.page_size)
        return Page(
            items=[_out(r) for r in rows], total=total, page=page.page, page_size=page.page_size
        )

    def create(
        self, session: Session, principal: Principal, body: SavedReportIn, now: datetime
    ) -> SavedReportOut:
        principal.require(REPORT_READERS, "saving reports")
        report_service.check_filters(session, principal, body)
        row = SavedReport(
            tenant_id=principal.tenant_id,
            partner_id=principal.partner_id,
            owner_id=principal.user_id,
            name=body.name,
            params=body.model_dump(mode="json", include=SAVED_PARAMS),
            format=body.format,
            every=body.every,
            recipients=[str(r) for r in body.recipients],
            next_run_at=now,
        )
        session.add(row)
        session.flush()
        return _out(row)

    def delete(self, session: Session, principal: Principal, report_id: str) -> None:
        principal.require(REPORT_READERS, "deleting saved reports")
        row = repo.saved(session, principal, report_id)
        if row is None:
            raise NotFound.of("saved report", report_id)
        session.delete(row)
        session.flush()

    def send_now(
        self,
        session: Session,
        principal: Principal,
        report_id: str,
        settings: Settings,
        now: datetime,
    ) -> SavedReportOut:
        principal.require(REPORT_READERS, "sending saved reports")
        row = repo.saved(session, principal, report_id)
        if row is None:
            raise NotFound.of("saved report", report_id)
        if not settings.smtp_host:
            raise Conflict("e-mail is not configured (set LIANLUO_SMTP_HOST)")
        send_report(session, row, settings, now)
        return _out(row)


saved_report_service = SavedReportService()


def _owner(session: Session, row: SavedReport) -> Principal:
    """The rights the report is built with: its owner's, narrowed to the report's partner.
    An owner who left (deleted or deactivated) has none: the report is no longer sent."""
    user = repo.user(session, row.owner_id) if row.owner_id else None
    active = user is not None and user.is_active and user.tenant_id == row.tenant_id
    return Principal(
        user_id=row.owner_id or "",
        tenant_id=row.tenant_id,
        partner_id=row.partner_id,
        roles=frozenset(user.roles) if active and user is not None else frozenset(),
    )


def build_message(row: SavedReport, settings: Settings, now: datetime, session: Session) -> bytes:
    """The e-mail of one run of a saved report (the last `days` whole days before today)."""
    principal = _owner(session, row)
    tz = repo.timezone(session, principal)
    today = now.astimezone(ZoneInfo(tz)).date()
    params = dict(row.params)
    days = int(params.pop("days", 7))
    query = ReportQuery(
        date_from=today - timedelta(days=days), date_to=today - timedelta(days=1), **params
    )
    report = report_service.report(session, principal, query)
    message = EmailMessage()
    message["Subject"] = f"{row.name} — {query.date_from} … {query.date_to} / 报表"
    message["From"] = settings.smtp_sender
    message["To"] = ", ".join(row.recipients)
    message.set_content(
        _body(row.name, query, report, _filter_lines(session, principal, query)),
        cte="base64",  # Chinese text through any SMTP server, 8BITMIME or not
    )
    name = f"{row.name}-{query.date_from}-{query.date_to}.{row.format}"
    maintype, subtype = exporter.MEDIA_TYPES[row.format].split(";")[0].split("/")
    message.add_attachment(
        exporter.export(report, row.format), maintype=maintype, subtype=subtype, filename=name
    )
    return message.as_bytes(policy=email.policy.SMTP)


def _filter_lines(session: Session, principal: Principal, query: ReportQuery) -> list[str]:
    """The filters the report was run with, by name where the filter is an id."""
    names = {
        "queue_id": repo.queue_names(session, principal),
        "agent_id": repo.agent_names(session, principal),
        "partner_id": repo.partner_names(session, principal),
    }
    lines = []
    for field in FILTER_FIELDS:
        value = getattr(query, field)
        if value is not None:
            label = names.get(field, {}).get(value)
            lines.append(f"{FILTER_LABELS[field]}: {label} ({value})" if label else
                         f"{FILTER_LABELS[field]}: {value}")  # fmt: skip
    return lines


FILTER_LABELS = {
    "queue_id": "queue 队列",
    "agent_id": "agent 座席",
    "partner_id": "partner 外包商",
    "channel": "channel 渠道",
    "skill": "skill 技能组",
    "team": "team 班组",
    "region": "region 地区",
}


def _body(name: str, query: ReportQuery, report: ReportOut, filters: list[str]) -> str:
    total = report.total
    scope = "\n".join(filters) if filters else "filters 筛选: none 全部"
    return (
        f"{name}\n{query.date_from} – {query.date_to} ({report.timezone}), "
        f"{query.group_by} / {query.grain}\n{scope}\n\n"
        f"offered 呼入量: {total.offered}\nanswered 接通量: {total.answered}\n"
        f"abandoned 放弃量: {total.abandoned}\n"
        f"service level 服务水平: {_pct(total.service_level)}\n"
        f"connect rate 接通率: {_pct(total.connect_rate)}\n"
        f"ASA 平均应答速度: {_seconds(total.asa_s)}\n"
        f"AHT 平均处理时长: {_seconds(total.aht_s)}\n"
        f"FCR 首次解决率: {_pct(total.fcr)}\n"
        f"CSAT 满意度: {_pct(total.csat)}\n"
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def deliver(raw: bytes, sender: str, recipients: list[str], settings: Settings) -> None:
    """Send one message through the configured SMTP server."""
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as s:
        s.ehlo()
        if settings.smtp_starttls and s.has_extn("starttls"):
            s.starttls()
            s.ehlo()
        if settings.smtp_username:
            s.login(settings.smtp_username, settings.smtp_password or "")
        s.sendmail(sender, recipients, raw)


def send_report(session: Session, row: SavedReport, settings: Settings, now: datetime) -> None:
    raw = build_message(row, settings, now, session)
    deliver(raw, settings.smtp_sender, list(row.recipients), settings)
    row.last_sent_at = now


def send_due(sessions: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Send every saved report whose next run is due; returns how many were sent. A report
    whose e-mail fails stays due and is retried at the next run."""
    if not settings.smtp_host:
        return 0
    sent = 0
    with sessions() as session:
        due_ids = [r.id for r in repo.due(session, now)]
    for report_id in due_ids:
        with sessions() as session:
            row = session.get(SavedReport, report_id, with_for_update={"skip_locked": True})
            if row is None or row.next_run_at > now:
                continue
            try:
                send_report(session, row, settings, now)
            except (OSError, smtplib.SMTPException, AppError) as exc:
                log.warning("saved report %s not sent: %s", report_id, type(exc).__name__)
                session.rollback()
                continue
            period = PERIOD.get(row.every, PERIOD["daily"])
            next_run = row.next_run_at
            while next_run <= now:
                next_run += period
            row.next_run_at = next_run
            session.commit()
            sent += 1
    return sent


class SchedulerLoop:
    """Runs `send_due` every `interval_s` in a daemon thread of the served process."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reports-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        from lianluo.db.base import utcnow

        while not self._stop.wait(self.settings.reports_scheduler_interval_s):
            try:
                send_due(self.sessions, self.settings, utcnow())
            except Exception:  # the loop must outlive a bad run; the next one retries
                log.exception("reports scheduler run failed")
