"""Applying payments to a locked loan, and replaying its history in date order.

Internal to servicing (services call it inside their transaction, with the loan locked).
Order of a loan's history: on each date, the day's interest first, then payments in id order,
then (at the close) that day's late fees. A replay from (date D, payment p) reverses every
live payment and credit application at or after that point and every accrual after D (new
reversing entries), then accrues and applies again in order, so interest is recomputed on
the balances the payments actually left, and late fees charged since D whose condition no
longer holds are reversed.

The money rules themselves (the waterfall, an installment's fill and status, the late-fee
test, the true-up of the final installment) are `servicing.calculations`; this module
applies them to the loan's rows and posts what they decide.

One module per concern (rows, schedule, book, reversal); every name is re-exported here,
so `from servicing.engine import LoanBook` keeps working.
"""

from .book import Allocation as Allocation
from .book import LoanBook as LoanBook
from .book import _allocate as _allocate
from .book import _apply_prepayment as _apply_prepayment
from .book import _apply_recovery as _apply_recovery
from .book import _settle_schedule as _settle_schedule
from .book import apply_payment as apply_payment
from .book import credit_apply as credit_apply
from .book import recovered_so_far as recovered_so_far
from .reversal import _apply_to_credit as _apply_to_credit
from .reversal import _unapply as _unapply
from .reversal import apply_in_order as apply_in_order
from .reversal import credit_shortfall_specs as credit_shortfall_specs
from .reversal import fee_reverse as fee_reverse
from .reversal import late_fee_still_due as late_fee_still_due
from .reversal import late_fees_recheck as late_fees_recheck
from .reversal import record_refund_fee as record_refund_fee
from .reversal import replay as replay
from .rows import FEE_FIELDS as FEE_FIELDS
from .rows import FEW_ROWS as FEW_ROWS
from .rows import INSTALLMENT_FIELDS as INSTALLMENT_FIELDS
from .rows import PARTIAL_BATCH as PARTIAL_BATCH
from .rows import _installments_for_payment as _installments_for_payment
from .rows import _remaining_interest as _remaining_interest
from .rows import _write_rows as _write_rows
from .schedule import _cancel_leftover_dues as _cancel_leftover_dues
from .schedule import _reamortize as _reamortize
from .schedule import _record as _record
from .schedule import _set_allocation as _set_allocation
from .schedule import loan_terms_for as loan_terms_for
from .schedule import replace_installment as replace_installment
from .schedule import schedule_version_create as schedule_version_create
