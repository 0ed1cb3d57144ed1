"""Servicing: loan accounts, versioned schedules, an immutable double-entry ledger, payments.

Money is `DecimalField(18, 2)`; accrued interest carries 6 places until it is posted. The
ledger (`JournalEntry` + `JournalLine`) is written by one function only
(`servicing.ledger.journal_post_many`) and is never updated or deleted: the models refuse
it in Python and, on PostgreSQL, triggers refuse it in the database (migration 0001).

One module per area (loans, schedule, ledger, payments, fees, adjustments, statements,
delinquency, rails, notifications, cob); every public name is re-exported here explicitly.
"""

from ._fields import ZERO as ZERO
from .adjustments import ChargeOff as ChargeOff
from .adjustments import ChargeOffStatus as ChargeOffStatus
from .adjustments import Modification as Modification
from .adjustments import ModificationStatus as ModificationStatus
from .cob import CobLoanFailure as CobLoanFailure
from .cob import CobPartition as CobPartition
from .cob import CobPartitionStatus as CobPartitionStatus
from .cob import CobRun as CobRun
from .cob import CobRunEvent as CobRunEvent
from .cob import CobRunStatus as CobRunStatus
from .delinquency import ChargeOffCandidate as ChargeOffCandidate
from .delinquency import DelinquencyBucket as DelinquencyBucket
from .delinquency import DelinquencyHistory as DelinquencyHistory
from .fees import Fee as Fee
from .fees import FeeKind as FeeKind
from .fees import FeeWaiver as FeeWaiver
from .ledger import DEBIT_NORMAL_ACCOUNTS as DEBIT_NORMAL_ACCOUNTS
from .ledger import Account as Account
from .ledger import EntryType as EntryType
from .ledger import ImmutableLedgerError as ImmutableLedgerError
from .ledger import ImmutableQuerySet as ImmutableQuerySet
from .ledger import InterestAccrual as InterestAccrual
from .ledger import JournalEntry as JournalEntry
from .ledger import JournalLine as JournalLine
from .loans import BusinessDate as BusinessDate
from .loans import EventKind as EventKind
from .loans import InterestModel as InterestModel
from .loans import Loan as Loan
from .loans import LoanEvent as LoanEvent
from .loans import LoanStatus as LoanStatus
from .loans import PrepaymentOption as PrepaymentOption
from .notifications import Notification as Notification
from .notifications import NotificationStatus as NotificationStatus
from .payments import BORROWER_METHODS as BORROWER_METHODS
from .payments import CreditApplication as CreditApplication
from .payments import Payment as Payment
from .payments import PaymentApplication as PaymentApplication
from .payments import PaymentMethod as PaymentMethod
from .payments import PaymentStatus as PaymentStatus
from .rails import AutopayEnrolment as AutopayEnrolment
from .rails import RailTransfer as RailTransfer
from .rails import RailTransferKind as RailTransferKind
from .rails import RailTransferStatus as RailTransferStatus
from .schedule import UNPAID as UNPAID
from .schedule import Installment as Installment
from .schedule import InstallmentStatus as InstallmentStatus
from .schedule import ScheduleVersion as ScheduleVersion
from .snapshots import DailyTotalsDay as DailyTotalsDay
from .snapshots import LedgerDayTotal as LedgerDayTotal
from .snapshots import LoanMonthEnd as LoanMonthEnd
from .snapshots import PaymentDayTotal as PaymentDayTotal
from .snapshots import PortfolioActivity as PortfolioActivity
from .snapshots import PortfolioSnapshot as PortfolioSnapshot
from .snapshots import RollRateCell as RollRateCell
from .snapshots import VintageCell as VintageCell
from .statements import Statement as Statement
