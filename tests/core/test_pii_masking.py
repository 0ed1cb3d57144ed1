"""Personal data is masked everywhere (issue 10, point 10): an applicant with a loan on
autopay and known SSN, date of birth, bank account and routing numbers; every page, API
answer, export and PDF reachable for them (as the admin and as the borrower), every e-mail
sent, every log record and every row the database keeps must show none of the clear values.
The one exception is the answer of the permissioned, audited reveal itself."""

from __future__ import annotations

import html
import io
import logging
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from pypdf import PdfReader

from origination import services
from origination.models import Application
from servicing.autopay import autopay_enrol
from servicing.cob.runner import cob_run_start
from servicing.models import Loan, Payment, RailTransfer, Statement
from servicing.rail_payments import payment_request_create
from servicing.selectors import business_date_get
from servicing.services import business_date_set
from servicing.statements import statement_generate
from tests.origination.conftest import _media  # noqa: F401  (fixture: sandbox bureau, media)
from tests.origination.factories import ApplicantFactory, ApplicationFactory

SSN = "318-62-9999"  # last four 9999: the sandbox bureau approves
BORN = date(1984, 7, 19)
ACCOUNT = "000987654321"
ROUTING = "011000015"

CLEAR = {
    "SSN": ["318629999", "318-62-9999", "318 62 9999", "318-62"],
    "date of birth": [
        "1984-07-19",
        "19840719",
        "19 Jul 1984",
        "19 July 1984",
        "July 19, 1984",
        "Jul. 19, 1984",
        "Jul 19, 1984",
        "07/19/1984",
        "7/19/1984",
        "19/07/1984",
        "19.07.1984",
    ],
    "account number": [ACCOUNT, "987654321", "0009876"],
    "routing number": [ROUTING],
}

# The ids a URL pattern's arguments take, by argument name (filled in by the scenario).
SKIPPED_ARGUMENTS = {"token", "uidb64"}  # sign-up and password-reset links: no PII behind them
QUERIES = {
    "api:gl-export": "?from=2020-01-01&to=2020-12-31",
    "servicing:staff-loan-list": "?q=Clark",
    "origination:staff-applications": "?q=Clark",
}
REVEALS = {"api:applicant-reveal-ssn", "origination:staff-reveal-ssn"}
SIGN_OUT = {"accounts:logout", "api:auth-token-revoke", "accounts:api-tokens-revoke-all"}


def leaks(text: str) -> list[str]:
    """The clear values found in `text` (HTML entities decoded first)."""
    text = html.unescape(text)
    return [f"{what}: {needle}" for what, ns in CLEAR.items() for needle in ns if needle in text]


def body_text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else bytes(response.content)
    if body.startswith(b"%PDF"):
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
    return body.decode("utf-8", "replace")


def url_patterns(resolver=None, namespace: str = "") -> Iterator[tuple[str, set[str]]]:
    """Every named URL (namespaced) and the names of its arguments, admin apart."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            for name, arguments in url_patterns(entry, inner):
                yield name, arguments | set(entry.pattern.converters)
        elif isinstance(entry, URLPattern) and entry.name:
            yield (
                f"{namespace}{entry.name}",
                set(entry.pattern.converters)
                | set(re.findall(r"<(?:\w+:)?(\w+)>", str(entry.pattern))),
            )


@pytest.fixture
def scenario(
    db,
    _media,  # noqa: F811
    borrower,
    loan_officer,
    admin_user,
    django_capture_on_commit_callbacks,
    caplog,
):
    """Carol's application (known SSN and date of birth), disbursed, her loan on autopay
    from a known account, a one-time ACH payment pending, a statement and a closed day on
    which autopay debited her account. Every log record is kept (`caplog`, setup included)."""
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        applicant = ApplicantFactory(
            ssn=SSN,
            date_of_birth=BORN,
            borrower=borrower,
            acting_user=borrower.user,
            first_name=borrower.first_name,
            last_name=borrower.last_name,
        )
        application = ApplicationFactory(
            applicant=applicant, acting_user=loan_officer, with_documents=True
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.application_submit(application=application, acting_user=loan_officer)
    application = Application.objects.get(pk=application.pk)
    assert application.status == Application.Status.APPROVED
    with django_capture_on_commit_callbacks(execute=True):
        services.offer_accept(
            application=application,
            acting_user=borrower.user,
            signature_name=borrower.full_name,
            ip_address="203.0.113.7",
        )
    with django_capture_on_commit_callbacks(execute=True):
        application = services.application_disburse(
            application=Application.objects.get(pk=application.pk),
            acting_user=loan_officer,
            method="ach",
            reference="ACH-PII-1",
        )
    loan = Loan.objects.get(pk=application.loan_id)
    autopay_enrol(
        loan=loan,
        account_number=ACCOUNT,
        routing_number=ROUTING,
        acting_user=admin_user,
        authorized=True,
    )
    # The first due date: close of business debits the installment through autopay.
    first_due = loan.first_due_date
    business_date_set(business_date=first_due, acting_user=None)
    with django_capture_on_commit_callbacks(execute=True):
        statement_generate(loan=loan, period_end=first_due, acting_user=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        run = cob_run_start(trigger="test")
    assert run.status == "succeeded", run.error
    assert RailTransfer.objects.filter(loan=loan, kind="autopay").exists()
    # The next day Carol asks for a one-time payment from the same account (pending).
    with django_capture_on_commit_callbacks(execute=True):
        payment_request_create(
            loan=loan,
            amount=Decimal("25.00"),
            method="ach",
            account_number=ACCOUNT,
            routing_number=ROUTING,
            acting_user=borrower.user,
        )
    return {
        "application_id": application.pk,
        "applicant_id": applicant.pk,
        "loan_id": loan.pk,
        "document_id": application.documents.order_by("id").first().pk,
        "transfer_id": RailTransfer.objects.filter(loan=loan).order_by("id").first().pk,
        "payment_id": Payment.objects.filter(loan=loan).order_by("id").first().pk,
        "statement_id": Statement.objects.get(loan=loan).pk,
        "product_id": application.product_version.product_id,
    }


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _crawl(client: Client, ids: dict[str, int], *, seen: dict[str, int]) -> list[str]:
    """GET every URL whose arguments the scenario fills; the leaks found, by URL."""
    found = []
    for name, arguments in sorted(url_patterns()):
        if arguments & SKIPPED_ARGUMENTS or not arguments <= set(ids) or name in REVEALS | SIGN_OUT:
            continue
        url = reverse(name, kwargs={a: ids[a] for a in arguments}) + QUERIES.get(name, "")
        response = client.get(url)
        seen[name] = response.status_code
        found += [
            f"GET {url} ({response.status_code}) {leak}" for leak in leaks(body_text(response))
        ]
    return found


def _crawl_admin(client: Client, *, seen: dict[str, int]) -> list[str]:
    found = []
    for model in admin.site._registry:
        opts = model._meta
        urls = [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")]
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            )
        for url in urls:
            response = client.get(url)
            seen[url] = response.status_code
            found += [f"GET {url} ({response.status_code}) {x}" for x in leaks(body_text(response))]
    return found


def _database_rows() -> Iterator[tuple[str, str]]:
    """Every row of every table as text (sessions decoded: their payload is base64)."""
    for model in apps.get_models():
        if not model._meta.managed:
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        for row in model._default_manager.values_list(*names):
            yield model._meta.label, " ".join(map(str, row))
    for session in Session.objects.all():
        yield "session", str(session.get_decoded())


def test_no_clear_pii_in_any_page_api_export_pdf_email_log_or_row(
    scenario, borrower, admin_user, caplog
):
    admin_client, borrower_client = _client(admin_user), _client(borrower.user)
    # Given the SSN revealed once, through each audited reveal (their answers alone show it)
    revealed = admin_client.post(
        reverse("origination:staff-reveal-ssn", args=[scenario["application_id"]])
    )
    assert "318-62-9999" in revealed.content.decode()
    api_revealed = admin_client.post(
        reverse("api:applicant-reveal-ssn", args=[scenario["applicant_id"]])
    )
    assert api_revealed.json() == {"ssn": "318629999"}

    # When the admin and the borrower open everything reachable for Carol's objects
    seen_admin: dict[str, int] = {}
    seen_borrower: dict[str, int] = {}
    found = _crawl(admin_client, scenario, seen=seen_admin)
    found += _crawl(borrower_client, scenario, seen=seen_borrower)
    found += _crawl_admin(admin_client, seen=seen_admin)
    # and Carol reviews another payment from her account (the page she confirms)
    review = borrower_client.post(
        reverse("servicing:portal-loan-pay", args=[scenario["loan_id"]]),
        {
            "amount": "10.00",
            "method": "ach",
            "account_number": ACCOUNT,
            "routing_number": ROUTING,
            "idempotency_key": "0b6f3f9e-8a57-4c53-9d38-2f0e9c0d7a11",
            "step": "review",
        },
    )
    assert "Confirm your payment" in review.content.decode()
    found += [f"POST pay review {x}" for x in leaks(body_text(review))]
    # and asks for one through the API (its answer is kept for replays: a row scanned below)
    asked = borrower_client.post(
        reverse("api:loan-payments", args=[scenario["loan_id"]]),
        {"amount": "10.00", "method": "ach", "account_number": ACCOUNT, "routing_number": ROUTING},
        content_type="application/json",
        headers={"Idempotency-Key": "pii-api-1"},
    )
    assert asked.status_code == 202, asked.content
    found += [f"POST API payment {x}" for x in leaks(body_text(asked))]
    found += [
        f"e-mail {m.subject!r} {x}"
        for m in mail.outbox
        for part in [m.subject, m.body, *(a[0] for a in getattr(m, "alternatives", []))]
        for x in leaks(str(part))
    ]
    found += [
        f"e-mail attachment {name} {x}"
        for m in mail.outbox
        for name, content, _ in (a for a in m.attachments if isinstance(a, tuple))
        for x in leaks(body_text(_Bytes(content)) if isinstance(content, bytes) else str(content))
    ]
    found += [
        f"log {r.name} {x}"
        for r in caplog.get_records("setup") + caplog.get_records("call")
        for x in leaks(r.getMessage() + (r.exc_text or "") + str(getattr(r, "args", "")))
    ]
    found += [f"row {label} {x}" for label, text in _database_rows() for x in leaks(text)]

    # Then no clear value anywhere
    assert not found, "\n".join(found)
    # and the crawl really saw the pages that show Carol's personal data
    for name in (
        "origination:staff-application",
        "api:applicant-detail",
        "api:application-detail",
        "servicing:staff-loan-detail",
        "api:loan-detail",
        "api:loan-pending-payments",
        "api:gl-export",
        "servicing:staff-statement-download",
        "web:staff-audit",
        "web:staff-audit-export",
    ):
        assert seen_admin.get(name) == 200, (name, seen_admin.get(name))
    for name in (
        "origination:portal-application",
        "api:applicant-detail",
        "servicing:portal-loan-detail",
        "servicing:portal-statement-download",
        "api:loan-pending-payments",
    ):
        assert seen_borrower.get(name) == 200, (name, seen_borrower.get(name))
    assert any(url.endswith("/change/") and code == 200 for url, code in seen_admin.items())
    assert mail.outbox


class _Bytes:
    """An e-mail attachment read like a response body."""

    streaming = False

    def __init__(self, content: bytes) -> None:
        self.content = content


def test_the_masked_forms_are_shown_instead(scenario, borrower, admin_user):
    admin_client = _client(admin_user)
    page = admin_client.get(
        reverse("origination:staff-application", args=[scenario["application_id"]])
    ).content.decode()
    assert "***-**-9999" in page
    assert "••/••/1984" in page
    api = admin_client.get(reverse("api:applicant-detail", args=[scenario["applicant_id"]])).json()
    assert (api["ssn_last4"], api["date_of_birth_masked"]) == ("9999", "••/••/1984")
    assert "date_of_birth" not in api
    loan_page = _client(borrower.user).get(
        reverse("servicing:portal-loan-detail", args=[scenario["loan_id"]])
    )
    assert "****4321" in loan_page.content.decode()
    assert business_date_get()
