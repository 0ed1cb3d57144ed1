"""`calculations.last_billing_installment`: which installment bills a loan's last interest."""

from __future__ import annotations

from decimal import Decimal

import pytest

from servicing.calculations import last_billing_installment

Z = Decimal("0.00")


@pytest.mark.parametrize(
    ("principal_left", "last"),
    [
        ([Decimal("10.00"), Decimal("10.00"), Decimal("10.00")], 2),  # the usual: the final one
        ([Decimal("10.00"), Decimal("4.50"), Z], 1),  # a prepayment took the final's principal
        ([Decimal("10.00"), Z, Z], 0),
        ([Z, Z, Decimal("0.01")], 2),
        ([Z, Z, Z], 2),  # no principal left anywhere (interest only owed): the final one
        ([Decimal("5.00")], 0),
    ],
)
def test_the_last_installment_still_billing_principal_else_the_final_one(principal_left, last):
    assert last_billing_installment(principal_left) == last
