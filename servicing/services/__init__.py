"""Servicing writes. Each function validates, locks (lock_objects), writes and audits.

Other apps call these: origination calls `loan_board` inside its own durable transaction;
collections calls the fee, waiver, modification and charge-off services. Close of business
runs its own set-based steps (servicing.cob), on the same rules (servicing.calculations).

One module per area (business_date, boarding, payments, loans); the fee, modification,
charge-off and statement services live in `servicing.fees`, `servicing.modify` and
`servicing.statements`. Every name callers use is re-exported here explicitly, so
`from servicing import services; services.payment_post(...)` keeps working.
"""

from servicing.engine import replay as replay
from servicing.fees import fee_assess as fee_assess
from servicing.fees import fee_waive as fee_waive
from servicing.fees import late_fees_assess as late_fees_assess
from servicing.ledger import journal_post as journal_post
from servicing.ledger import journal_post_many as journal_post_many  # the one ledger writer
from servicing.modify import charge_off_decide as charge_off_decide
from servicing.modify import charge_off_request as charge_off_request
from servicing.modify import charge_off_undo as charge_off_undo
from servicing.modify import loan_modify as loan_modify
from servicing.modify import modification_decide as modification_decide
from servicing.payoff import PayoffQuote as PayoffQuote
from servicing.selectors import loan_posting_state as loan_posting_state
from servicing.selectors import payoff_quote as payoff_quote
from servicing.statements import statement_generate as statement_generate
from servicing.statements import statements_generate_due as statements_generate_due
from servicing.validation import money_validate as money_validate

from .boarding import loan_board as loan_board
from .business_date import business_date_set as business_date_set
from .loans import accrue_interest as accrue_interest
from .loans import credit_refund as credit_refund
from .loans import loan_external_id_set as loan_external_id_set
from .loans import loan_flags_set as loan_flags_set
from .migration import MigrationPlan as MigrationPlan
from .migration import loan_migration_check as loan_migration_check
from .migration import loans_migrate as loans_migrate
from .payments import payment_post as payment_post
from .payments import payment_reverse as payment_reverse
from .payments import replay_floor as replay_floor

__all__ = [
    "MigrationPlan",
    "PayoffQuote",
    "accrue_interest",
    "business_date_set",
    "charge_off_decide",
    "charge_off_request",
    "charge_off_undo",
    "credit_refund",
    "fee_assess",
    "fee_waive",
    "journal_post",
    "journal_post_many",
    "late_fees_assess",
    "loan_board",
    "loan_external_id_set",
    "loan_flags_set",
    "loan_migration_check",
    "loan_modify",
    "loan_posting_state",
    "loans_migrate",
    "modification_decide",
    "money_validate",
    "payment_post",
    "payment_reverse",
    "payoff_quote",
    "replay",
    "replay_floor",
    "statement_generate",
    "statements_generate_due",
]
