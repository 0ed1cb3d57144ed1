"""`run_cob`: closes the business date, catches up through --date, says when already closed."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from servicing.models import CobRun
from servicing.selectors import business_date_get
from servicing.services import business_date_set
from tests.servicing.factories import board_loan

pytestmark = pytest.mark.django_db


def test_run_cob_closes_catches_up_and_is_a_noop_when_closed(borrower):
    business_date_set(business_date=date(2026, 1, 1), acting_user=None)
    board_loan(borrower=borrower)
    out = StringIO()
    call_command("run_cob", stdout=out)
    assert "2026-01-01 closed" in out.getvalue()
    out = StringIO()
    call_command("run_cob", "--date", "2026-01-04", stdout=out)
    assert [r.business_date.day for r in CobRun.objects.order_by("business_date")] == [1, 2, 3, 4]
    assert business_date_get() == date(2026, 1, 5)
    out = StringIO()
    call_command("run_cob", "--date", "2026-01-03", stdout=out)
    assert "2026-01-03 is already closed" in out.getvalue()
