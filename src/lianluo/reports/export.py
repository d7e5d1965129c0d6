"""A report as a table, in CSV (UTF-8 with BOM, so Excel reads Chinese names) or XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from lianluo.reports.schemas import Kpis, ReportOut

KPI_COLUMNS = tuple(Kpis.model_fields)
HEADERS = ("start", "end", "key", "label", *KPI_COLUMNS)


def report_table(report: ReportOut) -> list[list[Any]]:
    """Header row, one row per cell, and a last row with the totals (label "total")."""
    table: list[list[Any]] = [list(HEADERS)]
    for row in report.rows:
        kpis = row.kpis.model_dump()
        table.append(
            [row.start.isoformat(), row.end.isoformat(), row.key or "", row.label]
            + [kpis[c] for c in KPI_COLUMNS]
        )
    totals = report.total.model_dump()
    table.append(
        [report.since.isoformat(), report.until.isoformat(), "", "total"]
        + [totals[c] for c in KPI_COLUMNS]
    )
    return table


def to_csv(report: ReportOut) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in report_table(report):
        writer.writerow(["" if v is None else v for v in line])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(report: ReportOut) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "report"
    for line in report_table(report):
        sheet.append(line)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export(report: ReportOut, fmt: str) -> bytes:
    return to_csv(report) if fmt == "csv" else to_xlsx(report)
