"""Origination: products, applicants, applications, documents, checks, decisions, offers.

One module per area, re-exported here (Zulip's `X as X`). Stateful models carry a `Status`
(TextChoices), a `TRANSITIONS` table, a check constraint on the status values
(`lendcore.core.state.status_check`) and an event table (`StatusEvent`) written by the one
`lendcore.core.state.transition()`. Money columns are `money_field()`:
`DecimalField(max_digits=18, decimal_places=2)`.
"""

from .applicants import Applicant as Applicant
from .applications import Application as Application
from .applications import ApplicationEvent as ApplicationEvent
from .applications import AuditEntry as AuditEntry
from .checks import BureauReport as BureauReport
from .checks import IdentityCheck as IdentityCheck
from .documents import Document as Document
from .documents import DocumentEvent as DocumentEvent
from .imports import LoanImport as LoanImport
from .invitations import BorrowerInvitation as BorrowerInvitation
from .invitations import BorrowerInvitationEvent as BorrowerInvitationEvent
from .offers import Offer as Offer
from .offers import OfferEvent as OfferEvent
from .products import LoanProduct as LoanProduct
from .products import ProductVersion as ProductVersion
from .rules import Decision as Decision
from .rules import Rule as Rule
from .rules import RuleSet as RuleSet
from .rules import RuleSetEvent as RuleSetEvent
from .rules import UnderwriterAction as UnderwriterAction
