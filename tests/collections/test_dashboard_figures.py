"""The dashboard's collections figures (collections_app.selectors.collections_figures): the
promise-kept rate and the cure rate over a window, worked out by hand."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from collections_app.models import PromiseToPay
from collections_app.selectors import collections_figures

SINCE = date(2026, 2, 20)


def _promise(case, status: str, settled_on: date) -> None:
    PromiseToPay.objects.create(
        case=case,
        loan=case.loan,
        promise_key=str(uuid.uuid4()),
        amount=Decimal("50.00"),
        due_date=settled_on,
        promised_on=date(2026, 1, 1),
        status=status,
        settled_on=settled_on,
    )


def test_promise_kept_and_cure_rates(open_case):
    case = open_case("a")
    _promise(case, "kept", date(2026, 3, 1))
    _promise(case, "kept", date(2026, 3, 2))
    _promise(case, "broken", date(2026, 3, 3))
    _promise(case, "broken", date(2026, 1, 10))  # before the window
    for name, status, closed in (
        ("b", "cured", date(2026, 3, 1)),
        ("c", "closed", date(2026, 3, 2)),
        ("d", "cured", date(2026, 1, 5)),  # before the window
    ):
        open_case(name, status=status, closed_on=closed)

    figures = collections_figures(since=SINCE)

    assert (figures["kept"], figures["broken"]) == (2, 1)
    assert figures["promise_kept_rate"] == Decimal("66.67")
    assert (figures["cured"], figures["ended"]) == (1, 2)
    assert figures["cure_rate"] == Decimal("50.00")


def test_no_figures_is_no_rate(db):
    figures = collections_figures(since=SINCE)

    assert figures["promise_kept_rate"] is None
    assert figures["cure_rate"] is None
