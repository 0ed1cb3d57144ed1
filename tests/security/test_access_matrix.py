"""The access matrix: every URL pattern × every role, against the policy table.

Each URL name has a row in `RULES` saying who may reach it: anyone, any signed-in user,
borrower A's own object, staff whose role holds an action of the policy table
(`lendcore.accounts.roles.POLICY`), or both. The expected answer of each role comes from the
rule and the policy table; the test asks with GET, and with an empty POST (or PUT) where the
view takes one: the gate answers before the body is read (403, 404, a redirect to log in)
while an allowed caller gets the body's answer (400, 409, 200, a redirect elsewhere). Every
request runs in a savepoint rolled back after it, so nothing a probe does changes the next.

A URL pattern without a row fails the test. Borrower B gets 404 on every one of A's objects,
however named (ids, the loan list's filters, nested routes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from lendcore.accounts.roles import Action, roles_allowed

from .probe import url_patterns
from .world import ANONYMOUS, BORROWER_A, BORROWER_B, ROLES, World, world_build

# --------------------------------------------------------------------------- the rows

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any signed-in user (their own things only)
BORROWER = "borrower"  # a borrower's portal page with no object of A's in it
OWN = "own"  # borrower A's own object in the portal (B: 404; staff: refused)
ADMIN_SITE = "admin_site"  # Django's admin: the admin role (is_staff) only
TOKEN = "token"  # answers only a request made with an API token (these clients have none)


@dataclass(frozen=True)
class Rule:
    """Who may reach a URL, per method (`GET`, and `POST`/`PUT` for a state change)."""

    get: str | Action | tuple[str, Action] | None
    write: str | Action | tuple[str, Action] | None = None


def staff(action: Action, write: Action | None = None) -> Rule:
    """Staff pages and endpoints: staff whose role holds `action` (`write` for POST)."""
    return Rule(get=action, write=write or action)


def own_or(action: Action, write: Action | str | None = None) -> Rule:
    """A's object through the API: borrower A, or staff whose role holds `action`."""
    return Rule(get=(OWN, action), write=write or (OWN, action))


R = Action
RULES: dict[str, Rule] = {
    # --- public: sign-in, sign-up, password reset, the calculator, the API's docs
    "accounts:login": Rule(PUBLIC, PUBLIC),
    "accounts:logout": Rule(PUBLIC, PUBLIC),
    "accounts:signup": Rule(PUBLIC, PUBLIC),
    "accounts:signup-confirm": Rule(PUBLIC, PUBLIC),
    "accounts:password_reset": Rule(PUBLIC, PUBLIC),
    "accounts:password_reset_done": Rule(PUBLIC),
    "accounts:password_reset_confirm": Rule(PUBLIC, PUBLIC),
    "accounts:password_reset_complete": Rule(PUBLIC),
    "web:portal-home": Rule(PUBLIC),
    "web:calculator": Rule(PUBLIC, PUBLIC),
    "web:calculator-result": Rule(PUBLIC, PUBLIC),
    "api:quotes": Rule(PUBLIC, PUBLIC),
    "api:apr": Rule(PUBLIC, PUBLIC),
    "api:auth-token": Rule(PUBLIC, PUBLIC),
    "api-schema": Rule(PUBLIC),
    "api-docs": Rule(PUBLIC),
    "healthz": Rule(PUBLIC),
    "readyz": Rule(PUBLIC),
    # --- any signed-in user: their own tokens, two-factor, where to go after login
    "web:after-login": Rule(SIGNED_IN),
    "accounts:api-tokens": Rule(SIGNED_IN, SIGNED_IN),
    "accounts:api-tokens-revoke-all": Rule(SIGNED_IN, SIGNED_IN),
    "accounts:api-token-revoke": Rule(OWN, OWN),  # A's token: B and staff get 404
    "accounts:two-factor-setup": Rule(R.STAFF_UI, R.STAFF_UI),
    "accounts:two-factor-verify": Rule(SIGNED_IN, SIGNED_IN),
    "api:auth-token-revoke": Rule(TOKEN, TOKEN),
    # --- staff shell
    "web:staff-dashboard": staff(R.STAFF_UI),
    "web:staff-collections": staff(R.WORK_COLLECTIONS),
    "web:staff-reports": staff(R.VIEW_REPORTS),
    "web:staff-report": staff(R.EXPORT_GL),  # probed with the trial balance
    "web:staff-audit": staff(R.VIEW_AUDIT),
    "web:staff-audit-export": staff(R.VIEW_AUDIT),
    # --- origination: staff pages
    "origination:staff-applications": staff(R.WORK_APPLICATIONS),
    "origination:staff-application": staff(R.WORK_APPLICATIONS),
    "origination:staff-reveal-ssn": staff(R.REVEAL_PII),
    "origination:staff-approve": staff(R.UNDERWRITE),
    "origination:staff-decline": staff(R.UNDERWRITE),
    "origination:staff-accept-offer": staff(R.WORK_APPLICATIONS),
    "origination:staff-request-documents": staff(R.WORK_APPLICATIONS),
    "origination:staff-disburse": staff(R.DISBURSE),
    "origination:staff-disbursement-account": staff(R.WORK_APPLICATIONS),
    "origination:staff-document-review": staff(R.WORK_APPLICATIONS),
    "origination:staff-document-preview": staff(R.WORK_APPLICATIONS),
    "origination:staff-rule-sets": staff(R.MANAGE_PRODUCTS),
    "origination:staff-rule-set": staff(R.MANAGE_PRODUCTS),
    "origination:staff-rule-set-edit": staff(R.MANAGE_PRODUCTS),
    "origination:staff-rule-set-activate": staff(R.MANAGE_PRODUCTS),
    # the application's documents are also the disbursed loan's (its servicing staff)
    "origination:document-download": own_or((R.WORK_APPLICATIONS, R.READ_LOAN)),
    # --- origination: the portal
    "origination:portal-apply": Rule(BORROWER, BORROWER),
    "origination:portal-apply-new": Rule(BORROWER, BORROWER),
    "origination:portal-apply-quote": Rule(BORROWER, BORROWER),
    "origination:portal-apply-details": Rule(BORROWER, BORROWER),
    "origination:portal-apply-review": Rule(BORROWER, BORROWER),
    "origination:portal-application": Rule(OWN, OWN),
    "origination:portal-upload": Rule(OWN, OWN),
    "origination:portal-submit": Rule(OWN, OWN),
    "origination:portal-offer": Rule(OWN, OWN),
    "origination:portal-disbursement-account": Rule(OWN, OWN),
    # staff's invitation to an application in A's name: A answers it, nobody else sees it
    "origination:portal-invitation": Rule(OWN, OWN),
    "origination:portal-invitation-accept": Rule(OWN, OWN),
    "origination:portal-invitation-decline": Rule(OWN, OWN),
    "origination:portal-invitation-token": Rule(OWN),
    # --- origination: the API
    "api:products": Rule(SIGNED_IN, R.MANAGE_PRODUCTS),
    "api:product-detail": Rule(SIGNED_IN, R.MANAGE_PRODUCTS),
    "api:applicants": Rule(None, (BORROWER, R.WORK_APPLICATIONS)),
    "api:applicant-detail": own_or(R.WORK_APPLICATIONS),
    "api:applicant-by-external-id": own_or(R.WORK_APPLICATIONS),
    "api:applicant-reveal-ssn": Rule(R.REVEAL_PII, R.REVEAL_PII),
    "api:applications": Rule((BORROWER, R.WORK_APPLICATIONS), (BORROWER, R.WORK_APPLICATIONS)),
    "api:application-detail": own_or(R.WORK_APPLICATIONS),
    "api:application-by-external-id": own_or(R.WORK_APPLICATIONS),
    "api:application-events": own_or(R.WORK_APPLICATIONS),
    "api:application-documents": own_or(R.WORK_APPLICATIONS),
    "api:application-request-documents": staff(R.WORK_APPLICATIONS),
    "api:application-submit": own_or(R.WORK_APPLICATIONS),
    "api:application-approve": staff(R.UNDERWRITE),
    "api:application-decline": staff(R.UNDERWRITE),
    "api:application-withdraw": own_or(R.WORK_APPLICATIONS),
    "api:application-accept-offer": own_or(R.WORK_APPLICATIONS),
    "api:application-disburse": staff(R.DISBURSE),
    "api:application-disbursement-account": own_or(R.WORK_APPLICATIONS),
    "api:application-decision": own_or(R.WORK_APPLICATIONS),
    "api:application-offer": own_or(R.WORK_APPLICATIONS),
    "api:document-download": own_or((R.WORK_APPLICATIONS, R.READ_LOAN)),
    "api:document-review": staff(R.WORK_APPLICATIONS),
    "api:rule-sets": staff(R.MANAGE_PRODUCTS),
    "api:rule-set-detail": staff(R.MANAGE_PRODUCTS),
    "api:rule-set-backtest": staff(R.MANAGE_PRODUCTS),
    "api:rule-set-activate": staff(R.MANAGE_PRODUCTS),
    # --- servicing: staff pages
    "servicing:staff-loan-list": staff(R.READ_LOAN),
    "servicing:staff-loan-tape": staff(R.READ_LOAN),
    "servicing:staff-loan-detail": staff(R.READ_LOAN),
    "servicing:staff-loan-journal": staff(R.READ_LOAN),
    "servicing:staff-loan-timeline": staff(R.READ_LOAN),
    "servicing:staff-loan-payment": staff(R.POST_PAYMENT),
    "servicing:staff-loan-prepayment": staff(R.POST_PAYMENT),
    "servicing:staff-loan-reverse": staff(R.REVERSE_PAYMENT),
    "servicing:staff-loan-fee": staff(R.MANAGE_FEES),
    "servicing:staff-loan-waive": staff(R.MANAGE_FEES),
    "servicing:staff-loan-payoff": staff(R.READ_LOAN),
    "servicing:staff-loan-modify": staff(R.MODIFY_LOAN),
    "servicing:staff-loan-modify-decide": staff(R.APPROVE_MODIFICATION),
    "servicing:staff-loan-charge-off": staff(R.CHARGE_OFF),
    "servicing:staff-loan-charge-off-decide": staff(R.APPROVE_CHARGE_OFF),
    "servicing:staff-loan-charge-off-undo": staff(R.APPROVE_CHARGE_OFF),
    "servicing:staff-loan-refund": staff(R.POST_PAYMENT),
    "servicing:staff-statement-download": staff(R.READ_LOAN),
    "servicing:staff-loan-delinquency": staff(R.READ_LOAN),
    "servicing:staff-loan-notices": staff(R.READ_LOAN),
    "servicing:staff-loan-autopay-debits": staff(R.READ_LOAN),
    "servicing:staff-loan-autopay-enrolments": staff(R.READ_LOAN),
    "servicing:staff-loan-autopay": staff(R.POST_PAYMENT),
    "servicing:staff-loan-autopay-cancel": staff(R.POST_PAYMENT),
    "servicing:staff-cob": staff(R.RUN_COB),
    "servicing:staff-cob-run": staff(R.RUN_COB),
    "servicing:staff-cob-progress": staff(R.RUN_COB),
    # --- servicing: the portal
    "servicing:portal-loan-list": Rule(BORROWER),
    "servicing:portal-loan-detail": Rule(OWN),
    "servicing:portal-loan-pay": Rule(OWN, OWN),
    "servicing:portal-payment-cancel": Rule(OWN, OWN),
    "servicing:portal-loan-autopay": Rule(OWN, OWN),
    "servicing:portal-loan-autopay-cancel": Rule(OWN, OWN),
    "servicing:portal-loan-payoff": Rule(OWN),
    "servicing:portal-statement-download": Rule(OWN),
    # --- servicing: the API
    "api:business-date": Rule(SIGNED_IN, R.SET_BUSINESS_DATE),
    "api:loan-list": Rule((BORROWER, R.READ_LOAN)),
    "api:loan-detail": own_or(R.READ_LOAN),
    "api:loan-by-external-id": own_or(R.READ_LOAN),
    "api:loan-external-id": staff(R.POST_PAYMENT),
    "api:loan-schedule": own_or(R.READ_LOAN),
    "api:loan-transactions": own_or(R.READ_LOAN),
    "api:loan-journal": staff(R.READ_LOAN),
    "api:loan-payments": own_or(R.READ_LOAN, write=(OWN, R.POST_PAYMENT)),
    "api:loan-pending-payments": own_or(R.READ_LOAN),
    "api:loan-autopay": own_or(R.READ_LOAN, write=(OWN, R.POST_PAYMENT)),
    "api:pending-payment-cancel": own_or(R.POST_PAYMENT),
    "api:payment-reverse": staff(R.REVERSE_PAYMENT),
    "api:payment-by-external-id": own_or(R.READ_LOAN),
    "api:loan-payoff-quote": own_or(R.READ_LOAN),
    "api:loan-fees": own_or(R.READ_LOAN, write=R.MANAGE_FEES),
    "api:fee-waive": staff(R.MANAGE_FEES),
    "api:loan-modifications": staff(R.MODIFY_LOAN),
    "api:loan-modification-approve": staff(R.APPROVE_MODIFICATION),
    "api:loan-modification-reject": staff(R.APPROVE_MODIFICATION),
    "api:loan-charge-off-request": staff(R.CHARGE_OFF),
    "api:loan-charge-off-approve": staff(R.APPROVE_CHARGE_OFF),
    "api:loan-charge-off-reject": staff(R.APPROVE_CHARGE_OFF),
    "api:loan-charge-off-undo": staff(R.APPROVE_CHARGE_OFF),
    "api:loan-statements": own_or(R.READ_LOAN),
    "api:statement-download": own_or(R.READ_LOAN),
    "api:gl-export": staff(R.EXPORT_GL),
    "api:report": staff(R.EXPORT_GL),  # probed with the trial balance
    "api:loan-tape": staff(R.READ_LOAN),
    "api:cob-run-list": staff(R.RUN_COB),
    "api:cob-run-detail": staff(R.RUN_COB),
    # --- collections: the queue is web:staff-collections; reassignment is a manager's
    "collections:staff-case-assign": staff(R.MANAGE_COLLECTIONS),
    "api:collection-cases": staff(R.WORK_COLLECTIONS),
    "api:collection-case-detail": staff(R.WORK_COLLECTIONS),
    "api:collection-case-assign": staff(R.MANAGE_COLLECTIONS),
    "api:collection-case-by-external-id": staff(R.WORK_COLLECTIONS),
    "api:collection-case-external-id": staff(R.WORK_COLLECTIONS),
    # the case page and its forms (a phone payment also needs service_loans: the service
    # refuses others with a form error, after the gate)
    "collections:staff-case": staff(R.WORK_COLLECTIONS),
    "collections:staff-case-contact": staff(R.WORK_COLLECTIONS),
    "collections:staff-case-follow-up": staff(R.WORK_COLLECTIONS),
    "collections:staff-case-promise": staff(R.WORK_COLLECTIONS),
    "collections:staff-case-payment": staff(R.WORK_COLLECTIONS),
    "collections:staff-case-dispute": staff(R.WORK_COLLECTIONS),
    "collections:staff-case-dispute-resolve": staff(R.WORK_COLLECTIONS),
    "api:collection-case-contacts": staff(R.WORK_COLLECTIONS),
    "api:collection-case-promises": staff(R.WORK_COLLECTIONS),
    # the borrower's own contact preferences (portal)
    "collections:portal-contact-preferences": Rule(BORROWER, BORROWER),
    # --- collections workouts: collectors request and recommend, a second person decides;
    # borrowers ask for a hardship plan in the portal only (the API is staff's)
    "collections:staff-workouts": staff(R.MANAGE_COLLECTIONS),
    "collections:staff-placement": staff(R.MANAGE_COLLECTIONS),
    "collections:staff-plan-decide": staff(R.APPROVE_MODIFICATION),
    "collections:staff-recommendation-decide": staff(R.APPROVE_CHARGE_OFF),
    "collections:staff-case-workouts": staff(R.WORK_COLLECTIONS),
    "collections:staff-case-hardship": staff(R.WORK_COLLECTIONS),
    # work_collections and charge_off_loans: the roles holding one hold both
    "collections:staff-case-recommend": staff(R.WORK_COLLECTIONS),
    "collections:portal-hardship": Rule(OWN, OWN),
    "api:loan-hardship-plans": staff(R.WORK_COLLECTIONS),
    "api:hardship-plans": staff(R.WORK_COLLECTIONS),
    "api:hardship-plan-approve": staff(R.APPROVE_MODIFICATION),
    "api:hardship-plan-reject": staff(R.APPROVE_MODIFICATION),
    "api:collection-case-recommend-charge-off": staff(R.WORK_COLLECTIONS),
    "api:charge-off-recommendations": staff(R.WORK_COLLECTIONS),
    "api:charge-off-recommendation-approve": staff(R.APPROVE_CHARGE_OFF),
    "api:charge-off-recommendation-reject": staff(R.APPROVE_CHARGE_OFF),
    # --- webhooks: subscriptions, deliveries and redelivery are the admin's
    "api:webhook-subscriptions": staff(R.MANAGE_WEBHOOKS),
    "api:webhook-subscription-detail": staff(R.MANAGE_WEBHOOKS),
    "api:webhook-subscription-rotate-secret": staff(R.MANAGE_WEBHOOKS),
    "api:webhook-deliveries": staff(R.MANAGE_WEBHOOKS),
    "api:webhook-delivery-detail": staff(R.MANAGE_WEBHOOKS),
    "api:webhook-delivery-redeliver": staff(R.MANAGE_WEBHOOKS),
    "webhooks:staff-deliveries": staff(R.MANAGE_WEBHOOKS),
    "webhooks:staff-delivery": staff(R.MANAGE_WEBHOOKS),
    # --- portfolio import: the admin's
    "api:loan-imports": staff(R.IMPORT_LOANS),
    "api:loan-import-detail": staff(R.IMPORT_LOANS),
    "api:loan-import-retry": staff(R.IMPORT_LOANS),
    "origination:staff-loan-imports": staff(R.IMPORT_LOANS),
    "origination:staff-loan-import": staff(R.IMPORT_LOANS),
}
# The admin site's own pages: its login page is public; the rest (every model's pages,
# covered by each registered model's list, add and change page) is the admin role's.
ADMIN_PUBLIC = {"admin:login"}

# The least number of URL × role × method answers checked: the matrix cannot silently shrink.
MIN_PAIRS = 1800

# --------------------------------------------------------------------------- expectations

ALLOW = "allow"
LOGIN = "login"  # anonymous: sent to log in (pages) or 401/403 (API)
DENY = "deny"  # 403
HIDDEN = "hidden"  # 404
REFUSED = "refused"  # 403 or 404: a staff member on a borrower's portal page


def _staff_allows(role: str, action: Action | tuple[Action, ...]) -> bool:
    actions = action if isinstance(action, tuple) else (action,)
    return any(role in roles_allowed(a) for a in actions)


def expected(rule: str | Action | tuple | None, role: str) -> str:
    """What `role` should get from a URL of this rule."""
    if rule == PUBLIC:
        return ALLOW
    if role == ANONYMOUS:
        return LOGIN
    is_borrower = role in (BORROWER_A, BORROWER_B)
    if rule == SIGNED_IN:
        return ALLOW
    if rule == TOKEN:
        return LOGIN
    if rule == ADMIN_SITE:
        return ALLOW if role == "admin" else LOGIN
    if rule == BORROWER:
        return ALLOW if is_borrower else REFUSED
    if rule == OWN:
        return {BORROWER_A: ALLOW, BORROWER_B: HIDDEN}.get(role, REFUSED)
    if isinstance(rule, Action):
        if is_borrower:
            return DENY
        return ALLOW if _staff_allows(role, rule) else DENY
    assert isinstance(rule, tuple), rule
    who, action = rule
    if is_borrower:
        if who == BORROWER:
            return ALLOW
        return ALLOW if role == BORROWER_A else HIDDEN
    return ALLOW if _staff_allows(role, action) else DENY


def answer(response, *, api: bool) -> str:
    status = response.status_code
    if status >= 500:
        return f"error {status}"
    if status in (401, 403):
        return DENY
    if status == 404:
        return HIDDEN
    if status in (301, 302) and (
        response["Location"].startswith(reverse("accounts:login"))
        or response["Location"].startswith(reverse("admin:login"))
    ):
        return LOGIN
    return ALLOW


def matches(expect: str, got: str, *, role: str, api: bool) -> bool:
    if expect == got:
        return True
    if expect == LOGIN and got == DENY and (api or role != ANONYMOUS):
        # the API answers 401/403 for anonymous; the admin sends signed-in non-staff to
        # its own login page (LOGIN), everyone else's pages answer 403
        return True
    if expect == LOGIN and got == LOGIN:
        return True
    return expect == REFUSED and got in (DENY, HIDDEN)


# --------------------------------------------------------------------------- the probes


def _rule_of(name: str) -> Rule | None:
    if name.startswith("admin:"):
        if name in ADMIN_PUBLIC:
            return Rule(PUBLIC, PUBLIC)
        return Rule(ADMIN_SITE)
    return RULES.get(name)


def _methods(pattern) -> tuple[bool, str | None]:
    """Whether the view answers GET, and its state-changing method (POST or PUT) if any."""
    view = getattr(pattern.callback, "view_class", None)
    if view is None:
        return True, None
    write = next((m for m in ("post", "put") if hasattr(view, m)), None)
    return hasattr(view, "get"), write


def _admin_urls() -> list[tuple[str, str]]:
    """Each registered model's list and change page (of its first row, if any)."""
    urls = [("admin:index", reverse("admin:index"))]
    for model in admin.site._registry:
        meta = model._meta
        base = f"admin:{meta.app_label}_{meta.model_name}"
        urls.append((f"{base}_changelist", reverse(f"{base}_changelist")))
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            urls.append((f"{base}_change", reverse(f"{base}_change", args=[first])))
    return urls


def _probes(world: World) -> tuple[list[tuple[str, str, str, Rule]], list[str]]:
    """(name, url, method, rule) for every URL pattern; and the names without a row."""
    probes: list[tuple[str, str, str, Rule]] = []
    missing: list[str] = []
    for route, name, pattern in url_patterns():
        if route.startswith("admin/"):
            continue
        rule = _rule_of(name)
        if rule is None:
            missing.append(f"{name or '(unnamed)'} {route}")
            continue
        kwargs = {
            key: world.kwargs.get(f"{name}:{key}", world.kwargs[key])
            for key in pattern.pattern.converters
        }
        url = reverse(name, kwargs=kwargs)
        reads, method = _methods(pattern)
        if reads and rule.get is not None:
            probes.append((name, url, "get", rule))
        if method and rule.write is not None:
            probes.append((name, url, method, rule))
    for name, url in _admin_urls():
        rule = _rule_of(name)
        assert rule is not None
        probes.append((name, url, "get", rule))
    return probes, missing


@pytest.fixture
def world(db, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.IDENTITY_BACKEND = "origination.adapters.identity.SandboxIdentity"
    settings.BUREAU_BACKEND = "origination.adapters.bureau.SandboxBureau"
    return world_build()


def _clients(world: World) -> dict[str, tuple[Client, str | None]]:
    clients: dict[str, tuple[Client, str | None]] = {}
    for role in ROLES:
        client = Client(HTTP_ACCEPT="text/html")
        key = None
        if role != ANONYMOUS:
            client.force_login(world.users[role])
            key = client.cookies[settings.SESSION_COOKIE_NAME].value
        clients[role] = (client, key)
    return clients


def _ask(client: Client, key: str | None, url: str, method: str):
    """One request, undone afterwards: a savepoint rolled back (marked as the test case's
    own, so that the services' durable blocks run inside it), the session restored, the
    cache (throttles, lockout) emptied."""
    if key is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = key
    cache.clear()
    block = transaction.atomic()
    block._from_testcase = True  # type: ignore[attr-defined]
    with block:
        if method == "get":
            response = client.get(url)
        else:
            response = getattr(client, method)(url, data={}, content_type="application/json")
        transaction.set_rollback(True)
    return response


def test_every_url_has_a_row(world):
    _probes_list, missing = _probes(world)
    assert not missing, "new URL without a row in RULES: " + ", ".join(missing)


def test_access_matrix(world):
    probes, _ = _probes(world)
    clients = _clients(world)
    mismatches: list[str] = []
    checked = 0
    started = time.monotonic()
    for name, url, method, rule in probes:
        api = url.startswith("/api/")
        for role in ROLES:
            client, key = clients[role]
            rule_of_method = rule.get if method == "get" else rule.write
            expect = expected(rule_of_method, role)
            got = answer(_ask(client, key, url, method), api=api)
            checked += 1
            if not matches(expect, got, role=role, api=api):
                mismatches.append(
                    f"{method.upper()} {url} ({name}) as {role}: expected {expect}, got {got}"
                )
    elapsed = time.monotonic() - started
    print(f"access matrix: {checked} URL × role × method answers checked in {elapsed:.0f}s")
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches)
    assert checked >= MIN_PAIRS, f"only {checked} answers checked (at least {MIN_PAIRS})"


def test_borrower_b_finds_none_of_a_s_objects_by_filters(world):
    client = Client()
    client.force_login(world.users[BORROWER_B])
    loan, kw = world.loan, world.kwargs
    for query in (
        f"borrower={world.borrower_a.pk}",
        f"q={loan.loan_number}",
        "q=Adams",
        "status=active",
        "",
    ):
        listed = client.get(f"/api/v1/loans/?{query}")
        assert (listed.status_code, listed.json()["count"]) == (200, 0), query
    for query in (f"applicant={kw['applicant_id']}", "status=disbursed", ""):
        listed = client.get(f"/api/v1/applications/?{query}")
        assert (listed.status_code, listed.json()["count"]) == (200, 0), query
    # A's loan under B's own nested portal route
    own = client.post(f"/my-loans/{loan.pk}/payments/{kw['transfer_id']}/cancel/")
    assert own.status_code == 404
