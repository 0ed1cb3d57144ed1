"""Staff roles (Django groups) and the permissions each one holds.

The group names and permission codenames are a contract: later checks and the other apps
use them. Data migrations (`0002_roles`, then one per change of this table) sync the groups with it
through `lendcore.accounts.role_sync.sync_roles`.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    LOAN_OFFICER = "loan_officer"
    UNDERWRITER = "underwriter"
    SERVICING_AGENT = "servicing_agent"
    COLLECTOR = "collector"
    AUDITOR = "auditor"
    ADMIN = "admin"


STAFF_ROLES: tuple[str, ...] = tuple(role.value for role in Role)

# codename -> human name. Defined on `accounts.LendingPermission` (no table of its own).
PERMISSIONS: dict[str, str] = {
    "access_staff_ui": "Can use the staff UI",
    "view_reports": "Can view reports",
    "manage_applications": "Can create and work applications for borrowers",
    "underwrite_applications": "Can approve, counter-offer or decline applications",
    "reveal_ssn": "Can reveal an applicant's full SSN (audited)",
    "disburse_loans": "Can disburse approved, accepted offers",
    "accept_on_behalf": "Can accept an offer on the borrower's behalf (audited)",
    "service_loans": "Can post and reverse payments, quote payoffs, modify loans",
    "manage_fees": "Can assess and waive fees",
    "approve_charge_off": "Can approve a charge-off (four-eyes)",
    "approve_modifications": "Can approve a loan modification above the limit (four-eyes)",
    "work_collections": "Can work delinquency queues, contacts, promises and hardship",
    "manage_products": "Can edit loan products, fee policies and rule sets",
    "manage_business_date": "Can set the business date",
    "run_close_of_business": "Can run close of business",
    "view_audit": "Can read and export the audit trail",
}

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.LOAN_OFFICER: ("access_staff_ui", "view_reports", "manage_applications", "disburse_loans"),
    Role.UNDERWRITER: (
        "access_staff_ui",
        "view_reports",
        "manage_applications",
        "underwrite_applications",
        "reveal_ssn",
    ),
    Role.SERVICING_AGENT: ("access_staff_ui", "view_reports", "service_loans", "manage_fees"),
    Role.COLLECTOR: ("access_staff_ui", "view_reports", "work_collections", "service_loans"),
    Role.AUDITOR: ("access_staff_ui", "view_reports", "view_audit"),
    Role.ADMIN: tuple(PERMISSIONS),
}


def perm(codename: str) -> str:
    """The full permission name for `user.has_perm` (`accounts.<codename>`)."""
    return f"accounts.{codename}"
