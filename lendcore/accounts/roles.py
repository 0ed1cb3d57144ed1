"""The policy table: staff roles (Django groups) × the actions each one may take.

This is the one place that says who may do what. Every action is a Django permission
(`accounts.<codename>`, defined on `accounts.LendingPermission`), and each role is a group
holding exactly its actions' permissions, so the API (`permissions.has_staff_permission`),
the staff UI (`permissions.StaffRequiredMixin`), the services (`servicing.validation.
permission_require`) and the Django admin (groups) all read this table through
`user.has_perm`. Data migrations (`0002_roles`, then one per change of this table) sync the
groups with it through `lendcore.accounts.role_sync.sync_roles`.

How far a role may modify a loan without a second person is a setting
(`SERVICING_MODIFICATION_LIMITS`), not a row here.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    LOAN_OFFICER = "loan_officer"
    UNDERWRITER = "underwriter"
    SERVICING_AGENT = "servicing_agent"
    COLLECTOR = "collector"
    COLLECTIONS_MANAGER = "collections_manager"
    AUDITOR = "auditor"
    ADMIN = "admin"


STAFF_ROLES: tuple[str, ...] = tuple(role.value for role in Role)


class Action(StrEnum):
    """An action of the policy table; its value is the permission codename (a contract:
    groups, tokens and the other apps use these names)."""

    STAFF_UI = "access_staff_ui"
    VIEW_REPORTS = "view_reports"
    # origination
    WORK_APPLICATIONS = "manage_applications"
    UNDERWRITE = "underwrite_applications"
    REVEAL_PII = "reveal_ssn"
    DISBURSE = "disburse_loans"
    ACCEPT_ON_BEHALF = "accept_on_behalf"
    MANAGE_PRODUCTS = "manage_products"
    # servicing
    READ_LOAN = "view_loans"
    POST_PAYMENT = "service_loans"
    REVERSE_PAYMENT = "reverse_payments"
    MODIFY_LOAN = "modify_loans"
    APPROVE_MODIFICATION = "approve_modifications"
    CHARGE_OFF = "charge_off_loans"
    APPROVE_CHARGE_OFF = "approve_charge_off"
    MANAGE_FEES = "manage_fees"
    WORK_COLLECTIONS = "work_collections"
    MANAGE_COLLECTIONS = "manage_collections"
    EXPORT_GL = "export_gl"
    # operations
    SET_BUSINESS_DATE = "manage_business_date"
    RUN_COB = "run_close_of_business"
    VIEW_AUDIT = "view_audit"
    MANAGE_WEBHOOKS = "manage_webhooks"
    IMPORT_LOANS = "import_loans"


# codename -> human name (the admin shows these on the groups' page).
_PERMISSION_NAMES: dict[Action, str] = {
    Action.STAFF_UI: "Can use the staff UI",
    Action.VIEW_REPORTS: "Can view reports",
    Action.WORK_APPLICATIONS: "Can create and work applications for borrowers",
    Action.UNDERWRITE: "Can approve, counter-offer or decline applications",
    Action.REVEAL_PII: "Can reveal an applicant's full SSN (audited)",
    Action.DISBURSE: "Can disburse approved, accepted offers",
    Action.ACCEPT_ON_BEHALF: "Can accept an offer on the borrower's behalf (audited)",
    Action.POST_PAYMENT: "Can post payments, quote payoffs and refund credit balances",
    Action.MANAGE_FEES: "Can assess and waive fees",
    Action.APPROVE_CHARGE_OFF: "Can approve a charge-off (four-eyes)",
    Action.APPROVE_MODIFICATION: "Can approve a loan modification above the limit (four-eyes)",
    Action.WORK_COLLECTIONS: "Can work delinquency queues, contacts, promises and hardship",
    Action.MANAGE_COLLECTIONS: "Can reassign collection cases (supervises the queues)",
    Action.MANAGE_PRODUCTS: "Can edit loan products, fee policies and rule sets",
    Action.SET_BUSINESS_DATE: "Can set the business date",
    Action.RUN_COB: "Can run close of business",
    Action.VIEW_AUDIT: "Can read and export the audit trail",
    Action.READ_LOAN: "Can read every loan, its payments, journal, statements and payoff",
    Action.REVERSE_PAYMENT: "Can reverse a posted payment",
    Action.MODIFY_LOAN: "Can modify a loan (beyond the role's limits it waits for approval)",
    Action.CHARGE_OFF: "Can request a charge-off",
    Action.EXPORT_GL: "Can export the general ledger",
    Action.MANAGE_WEBHOOKS: "Can manage webhook subscriptions and redeliver events",
    Action.IMPORT_LOANS: "Can import a portfolio of loans migrated from another system",
}
PERMISSIONS: dict[str, str] = {str(action): name for action, name in _PERMISSION_NAMES.items()}

_STAFF = (Action.STAFF_UI, Action.VIEW_REPORTS)

# The table. A role's row lists every action it may take; nothing else is allowed.
POLICY: dict[str, tuple[Action, ...]] = {
    # origination desk: applications and disbursement, no loan servicing
    Role.LOAN_OFFICER: (*_STAFF, Action.WORK_APPLICATIONS, Action.DISBURSE),
    Role.UNDERWRITER: (*_STAFF, Action.WORK_APPLICATIONS, Action.UNDERWRITE, Action.REVEAL_PII),
    Role.SERVICING_AGENT: (
        *_STAFF,
        Action.READ_LOAN,
        Action.POST_PAYMENT,
        Action.REVERSE_PAYMENT,
        Action.MODIFY_LOAN,
        Action.CHARGE_OFF,
        Action.MANAGE_FEES,
    ),
    # payments by phone and modifications within the collector's limits; no reversal; a
    # charge-off recommendation is servicing's charge-off request, which a manager decides
    Role.COLLECTOR: (
        *_STAFF,
        Action.READ_LOAN,
        Action.POST_PAYMENT,
        Action.MODIFY_LOAN,
        Action.CHARGE_OFF,
        Action.WORK_COLLECTIONS,
    ),
    # supervises the queues: works them (a recommendation too), reassigns cases, and is the
    # second person of the workouts (approves hardship plans and charge-offs, never their
    # own); no payments
    Role.COLLECTIONS_MANAGER: (
        *_STAFF,
        Action.READ_LOAN,
        Action.WORK_COLLECTIONS,
        Action.MANAGE_COLLECTIONS,
        Action.CHARGE_OFF,
        Action.APPROVE_MODIFICATION,
        Action.APPROVE_CHARGE_OFF,
    ),
    # reads, never writes
    Role.AUDITOR: (*_STAFF, Action.READ_LOAN, Action.VIEW_AUDIT, Action.EXPORT_GL),
    Role.ADMIN: tuple(Action),
}

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    role: tuple(str(action) for action in actions) for role, actions in POLICY.items()
}


def roles_allowed(action: str) -> frozenset[str]:
    """The roles whose row holds `action`."""
    return frozenset(str(role) for role, actions in POLICY.items() if action in actions)


def perm(codename: str) -> str:
    """The full permission name for `user.has_perm` (`accounts.<codename>`)."""
    return f"accounts.{codename}"
