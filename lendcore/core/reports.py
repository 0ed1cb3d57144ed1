"""The reports lenders run, registered by the app that owns their data, so that the API and
the staff pages (which know no domain app) serve every report the same way.

An app registers its reports in its `AppConfig.ready()`:

    reports.register(ReportSpec(name="trial_balance", title="Trial balance", build=..., ...))

`build(filters)` returns a `ReportTable`: typed columns, rows (dicts keyed by column), and a
summary (totals) that the API puts beside the rows (`total_debit`, `total_credit`, ...). The
names are a contract with integrators (`GET /api/v1/reports/{name}/`): `REPORT_NAMES` lists
the ones promised; a report is served once an app registers it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# The names of issue 13's contract, in the order the staff Reports page lists them.
REPORT_NAMES = (
    "portfolio",
    "aging",
    "par",
    "roll_rates",
    "vintage",
    "payments",
    "income",
    "disbursements",
    "trial_balance",
    "journal",
    "loan_tape",
)


@dataclass(frozen=True)
class ReportFilters:
    """What every report is asked for: a window of business dates (both ends included; a
    report that is a balance reads `date_to` only) and, optionally, one product code."""

    date_from: date
    date_to: date
    product: str = ""


@dataclass(frozen=True)
class ReportColumn:
    key: str
    title: str
    kind: str = "text"  # text | int | money | date | percent: how a page aligns and formats it


@dataclass
class ReportTable:
    columns: list[ReportColumn]
    rows: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)
    # What a page draws (Chart.js): x from `chart_label`, one data set per `chart_values`
    # column; with `chart_series`, one per value of that column and each value column (a
    # vintage's line per origination month). `chart_rows` when the chart is not the table's
    # rows; `chart_titles` names value columns that are not the table's.
    chart_label: str = ""
    chart_values: tuple[str, ...] = ()
    chart_type: str = "bar"  # bar | line
    chart_series: str = ""
    chart_rows: list[dict[str, Any]] | None = None
    chart_titles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title: str
    description: str
    action: str  # the policy action (lendcore.accounts.roles.Action) a user needs to see it
    build: Callable[[ReportFilters], ReportTable]
    balance_as_of: bool = False  # True: a position at `date_to`; False: flows over the window
    default_days: int = 30  # the window when none is asked for, ending at the business date
    max_days: int = 0  # the longest window it reads; 0: the house limit (lendcore.web.reporting)


_REGISTRY: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> None:
    """Add `spec`; registering a name again replaces it (ready() may run twice in tests)."""
    if spec.name not in REPORT_NAMES:
        raise ValueError(f"{spec.name!r} is not one of the reports' names ({REPORT_NAMES})")
    _REGISTRY[spec.name] = spec


def report_get(name: str) -> ReportSpec | None:
    return _REGISTRY.get(name)


def reports_registered() -> list[ReportSpec]:
    """The registered reports in the contract's order."""
    return [_REGISTRY[name] for name in REPORT_NAMES if name in _REGISTRY]
