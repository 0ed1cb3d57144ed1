"""Running a registered report (`lendcore.core.reports`) for a user: who may see it, the
window it covers when none is asked for, and its rows as JSON values or CSV cells. Shared by
`GET /api/v1/reports/{name}/` and the staff Reports pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from lendcore.accounts.selectors import user_can
from lendcore.core.csv_export import csv_write
from lendcore.core.reports import (
    ReportFilters,
    ReportSpec,
    ReportTable,
    report_get,
    reports_registered,
)
from servicing import selectors as servicing_selectors

# The longest window a report reads (three years of monthly or daily rows); the journal says
# its own (its lines are the ledger's, a night's accruals a line per loan).
MAX_WINDOW_DAYS = 3 * 366


class ReportNotFound(Exception):
    pass


class ReportForbidden(Exception):
    """The report exists and the user's role may not run it (the policy table says which)."""

    def __init__(self, name: str, action: str):
        super().__init__(name)
        self.action = action


class ReportWindowError(ValueError):
    """A window a report cannot read: `fields` names each parameter and what is wrong."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class ReportRun:
    spec: ReportSpec
    filters: ReportFilters
    table: ReportTable


def reports_for(user) -> list[ReportSpec]:
    """The reports `user` may run, in the contract's order."""
    return [spec for spec in reports_registered() if user_can(user, spec.action)]


def report_for(user, name: str) -> ReportSpec:
    """The report `name` if `user` may run it: ReportNotFound when no app registers it,
    ReportForbidden when the user's role lacks the report's action."""
    spec = report_get(name)
    if spec is None:
        raise ReportNotFound(name)
    if not user_can(user, spec.action):
        raise ReportForbidden(name, spec.action)
    return spec


def report_filters(
    spec: ReportSpec, *, date_from: date | None, date_to: date | None, product: str = ""
) -> ReportFilters:
    """The window asked for, completed: `to` the business date when left out, `from` the
    report's default span before `to`. Refuses a window that ends after the business date,
    runs backwards, or is longer than the report reads."""
    today = servicing_selectors.business_date_get()
    to = date_to or today
    start = date_from or to - timedelta(days=spec.default_days - 1)
    errors: dict[str, str] = {}
    if to > today:
        errors["to"] = f"Must be on or before the business date ({today.isoformat()})."
    if start > to:
        errors["from"] = "Must be on or before 'to'."
    longest = spec.max_days or MAX_WINDOW_DAYS
    if not spec.balance_as_of and not errors and (to - start).days + 1 > longest:
        errors["from"] = f"At most {longest} days from 'from' to 'to' for this report."
    if errors:
        raise ReportWindowError(errors)
    return ReportFilters(date_from=start, date_to=to, product=product)


def report_run(spec: ReportSpec, filters: ReportFilters) -> ReportRun:
    return ReportRun(spec=spec, filters=filters, table=spec.build(filters))


def _json_value(value: Any) -> Any:
    """Money as a string with its cents (never a float), dates as ISO dates."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def report_json(run: ReportRun) -> dict[str, Any]:
    """The API's body: the report and its window, its columns, its rows, and its summary's
    figures beside them (a trial balance's `total_debit` and `total_credit`)."""
    table = run.table
    return {
        "report": run.spec.name,
        "title": run.spec.title,
        "from": run.filters.date_from.isoformat(),
        "to": run.filters.date_to.isoformat(),
        "product": run.filters.product,
        "columns": [{"key": c.key, "title": c.title, "kind": c.kind} for c in table.columns],
        "rows": [{k: _json_value(v) for k, v in row.items()} for row in table.rows],
        **{key: _json_value(value) for key, value in table.summary.items()},
    }


def report_csv(out, run: ReportRun) -> None:
    """The rows as CSV under the columns' titles (formulas neutralised by csv_write)."""
    columns = run.table.columns
    csv_write(
        out,
        [c.title for c in columns],
        ([_json_value(row.get(c.key)) for c in columns] for row in run.table.rows),
    )


def report_chart(run: ReportRun) -> dict[str, Any] | None:
    """The page's chart data (Chart.js): its type, labels and data sets, amounts as strings
    (Chart.js reads them as numbers; no float is made here). With a series column, one data
    set per series value and value column, null where a series has no point."""
    table = run.table
    rows = table.rows if table.chart_rows is None else table.chart_rows
    if not table.chart_label or not table.chart_values or not rows:
        return None
    titles = {c.key: c.title for c in table.columns} | table.chart_titles
    if not table.chart_series:
        return {
            "type": table.chart_type,
            "labels": [str(_json_value(row[table.chart_label])) for row in rows],
            "datasets": [
                {"label": titles[key], "data": [_json_value(row[key]) for row in rows]}
                for key in table.chart_values
            ],
        }
    xs = sorted({row[table.chart_label] for row in rows})
    points: dict[Any, dict[Any, dict[str, Any]]] = {}
    for row in rows:
        points.setdefault(row[table.chart_series], {})[row[table.chart_label]] = row
    return {
        "type": table.chart_type,
        "labels": [str(_json_value(x)) for x in xs],
        "datasets": [
            {
                "label": f"{series}: {titles[key]}",
                "data": [_json_value(by_x[x][key]) if x in by_x else None for x in xs],
            }
            for series, by_x in points.items()
            for key in table.chart_values
        ],
    }


def _shown(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def report_display(run: ReportRun) -> dict[str, Any]:
    """What a page or its PDF prints: each row's cells (value as shown, kind for alignment)
    and the summary as (label, value) pairs."""
    columns = run.table.columns
    return {
        "rows": [
            [{"kind": c.kind, "value": _shown(row.get(c.key))} for c in columns]
            for row in run.table.rows
        ],
        "summary": [
            (key.replace("_", " ").capitalize(), _shown(value))
            for key, value in run.table.summary.items()
        ],
    }


def dashboard_figures(user) -> dict[str, Any]:
    """The dashboard's delinquency and income figures, from the same reports the Reports
    pages run (one rule each): the latest PAR and its trend over twelve month ends, and
    income this month against last month. A figure the user's role may not see is left out."""
    figures: dict[str, Any] = {}
    today = servicing_selectors.business_date_get()
    par_spec = report_get("par")
    if par_spec is not None and user_can(user, par_spec.action):
        last_closed = today - timedelta(days=1)
        year = ReportFilters(date_from=last_closed - timedelta(days=365), date_to=last_closed)
        rows = par_spec.build(year).rows
        month_ends = list({(r["date"].year, r["date"].month): r for r in rows}.values())[-12:]
        if rows:
            figures["par"] = rows[-1]
            figures["par_trend"] = {
                "labels": [r["date"].strftime("%Y-%m") for r in month_ends],
                "datasets": [
                    {
                        "label": f"PAR{d} (%)",
                        "data": [_json_value(r[f"par{d}"]) for r in month_ends],
                    }
                    for d in (1, 30, 60, 90)
                ],
            }
    income_spec = report_get("income")
    if income_spec is not None and user_can(user, income_spec.action):
        this_month = today.replace(day=1)
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        months = {
            r["month"]: r["total_income"]
            for r in income_spec.build(ReportFilters(date_from=last_month, date_to=today)).rows
        }
        figures["income"] = {
            "this_month": months.get(this_month.strftime("%Y-%m"), Decimal("0.00")),
            "last_month": months.get(last_month.strftime("%Y-%m"), Decimal("0.00")),
        }
    return figures
