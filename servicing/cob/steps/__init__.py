"""The set-based steps of one day's close for the loans of one scope (an id range).

Each step is one or a few statements over the scope, never a loop loading loan objects:
on PostgreSQL the heavy steps (accrual with its journal entries and lines, installment
transitions, days past due / buckets / non-accrual / close) are raw SQL (INSERT ... SELECT,
UPDATE ... FROM); elsewhere (SQLite: `make run`, local tests) they are ORM bulk operations
per scope. Both produce the same rows.

A scope for day `day` holds the loans with an id in [lo, hi], disbursed by `day`, whose last
closed date is before `day` (a loan never closed counts as closed the day before the run's
date). The caller holds the scope's loan rows locked, in one transaction.

One module per step (accrual, schedule, delinquency, late_fees, reminders, statements), the
shared `base` and `day` (every step in order); every name is re-exported here, so
`from servicing.cob.steps import Scope, StepClock, close_day` keeps working.
"""

from servicing.models import InterestAccrual as InterestAccrual

from .accrual import ACCRUAL_DAYS as ACCRUAL_DAYS
from .accrual import ACCRUAL_ONE_DAY as ACCRUAL_ONE_DAY
from .accrual import ACCRUAL_RUNNING as ACCRUAL_RUNNING
from .accrual import ACCRUAL_SINGLE as ACCRUAL_SINGLE
from .accrual import ACCRUAL_SQL as ACCRUAL_SQL
from .accrual import ACCRUED_TEMP as ACCRUED_TEMP
from .accrual import accrue_orm as accrue_orm
from .accrual import accrue_sql as accrue_sql
from .accrual import day_fractions as day_fractions
from .base import ONE_DAY as ONE_DAY
from .base import SQL_NAMES as SQL_NAMES
from .base import Scope as Scope
from .base import StepClock as StepClock
from .base import is_postgres as is_postgres
from .base import remaining_sql as remaining_sql
from .base import sql_text as sql_text
from .day import close_day as close_day
from .delinquency import DELINQUENCY_SQL as DELINQUENCY_SQL
from .delinquency import _bucket_case_sql as _bucket_case_sql
from .delinquency import _suspense_release_orm as _suspense_release_orm
from .delinquency import delinquency_close_orm as delinquency_close_orm
from .delinquency import delinquency_close_sql as delinquency_close_sql
from .late_fees import LATE_FEES_SQL as LATE_FEES_SQL
from .late_fees import late_fees as late_fees
from .reminders import REMINDERS_SQL as REMINDERS_SQL
from .reminders import _reminder_channels as _reminder_channels
from .reminders import _reminder_kinds as _reminder_kinds
from .reminders import _reminders_send as _reminders_send
from .reminders import reminders as reminders
from .reminders import reminders_orm as reminders_orm
from .schedule import REMAINING_FIELDS as REMAINING_FIELDS
from .schedule import TRANSITIONS_SQL as TRANSITIONS_SQL
from .schedule import TRUE_UP_SQL as TRUE_UP_SQL
from .schedule import final_true_up as final_true_up
from .schedule import final_true_up_orm as final_true_up_orm
from .schedule import final_true_up_sql as final_true_up_sql
from .schedule import transitions as transitions
from .schedule import transitions_orm as transitions_orm
from .schedule import transitions_sql as transitions_sql
from .statements import LINE_ENTRY_SQL as LINE_ENTRY_SQL
from .statements import STATEMENTS_SQL as STATEMENTS_SQL
from .statements import _cycle_loans as _cycle_loans
from .statements import _statements_render as _statements_render
from .statements import statements as statements
from .statements import statements_orm as statements_orm
