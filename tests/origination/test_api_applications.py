"""HTTP contract of the origination API: bodies, errors, permissions, visibility, queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from origination.models import Applicant, Application, AuditEntry, Document

from .factories import PDF, ApplicantFactory, ApplicationFactory
from .test_api_flow import APPLICANT

pytestmark = pytest.mark.django_db


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client


def error_fields(response) -> dict:
    body = response.json()
    assert set(body) == {"message", "code", "extra"}
    return body["extra"].get("fields", {})


# --- products ----------------------------------------------------------------------------------


def test_products_list_and_detail(product, borrower):
    me = client_for(borrower.user)
    listed = me.get("/api/v1/products/").json()
    assert [p["code"] for p in listed] == ["PERSONAL"]
    detail = me.get(f"/api/v1/products/{product.pk}/").json()
    assert detail["min_amount"] == "1000.00"
    assert detail["required_document_types"] == ["id_proof", "proof_of_income"]
    assert detail["four_eyes_limit"] == "25000.00"


def test_creating_a_product_needs_manage_products(loan_officer, admin_user):
    body = {
        "code": "AUTO",
        "name": "Auto",
        "min_amount": "1000.00",
        "max_amount": "20000.00",
        "min_term": 12,
        "max_term": 72,
        "frequencies": ["monthly"],
        "base_rate": "6.5",
    }
    assert (
        client_for(loan_officer).post("/api/v1/products/", body, format="json").status_code == 403
    )
    response = client_for(admin_user).post("/api/v1/products/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["code"] == "AUTO"
    assert response.json()["version"] == 1


def test_anonymous_is_refused(product):
    # Session authentication comes first: DRF answers 403 (no WWW-Authenticate challenge).
    assert client_for().get("/api/v1/applications/").status_code == 403


# --- applicants --------------------------------------------------------------------------------


def test_borrower_creates_own_applicant_ssn_write_only(borrower, other_borrower):
    response = client_for(borrower.user).post("/api/v1/applicants/", APPLICANT, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["ssn_last4"] == "5555"
    assert "ssn" not in body
    assert body["borrower"] == borrower.pk
    url = f"/api/v1/applicants/{body['id']}/"
    assert client_for(borrower.user).get(url).status_code == 200
    assert client_for(other_borrower.user).get(url).status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ssn", "12345"),
        ("ssn", "abcdefghi"),
        ("date_of_birth", "2015-01-01"),
        ("monthly_income", "0"),
        ("monthly_income", "-1"),
        ("first_name", None),
        ("email", "not-an-email"),
    ],
)
def test_bad_applicant_input_is_400_naming_the_field(borrower, field, value):
    body = dict(APPLICANT)
    if value is None:
        body.pop(field)
    else:
        body[field] = value
    response = client_for(borrower.user).post("/api/v1/applicants/", body, format="json")
    assert response.status_code == 400
    assert field in error_fields(response)
    assert Applicant.objects.count() == 0


def test_ssn_reveal_needs_the_permission_and_is_audited(loan_officer, underwriter):
    applicant = ApplicantFactory(last4="2468")
    url = f"/api/v1/applicants/{applicant.pk}/reveal-ssn/"
    assert client_for(loan_officer).post(url).status_code == 403
    response = client_for(underwriter).post(url)
    assert response.json() == {"ssn": "123452468"}
    assert AuditEntry.objects.filter(action="ssn_revealed", actor=underwriter).count() == 1


# --- applications ------------------------------------------------------------------------------


def _app_body(applicant_id, product_id, **changes):
    body = {
        "applicant": applicant_id,
        "product": product_id,
        "amount": "10000.00",
        "term": 36,
        "frequency": "monthly",
        "purpose": "Car",
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("amount", {"amount": "500.00"}),
        ("amount", {"amount": "75000.00"}),
        ("term", {"term": 6}),
        ("frequency", {"frequency": "weekly"}),
        ("frequency", {"frequency": "fortnightly-ish"}),
        ("amount", {"amount": None}),
    ],
)
def test_bad_application_input_is_400_and_creates_nothing(
    product, borrower, borrower_applicant, field, changes
):
    body = _app_body(borrower_applicant.pk, product.pk, **changes)
    body = {k: v for k, v in body.items() if v is not None}
    response = client_for(borrower.user).post("/api/v1/applications/", body, format="json")
    assert response.status_code == 400
    assert field in error_fields(response)
    assert Application.objects.count() == 0


def test_borrower_cannot_apply_for_someone_elses_applicant(
    product, other_borrower, borrower_applicant
):
    response = client_for(other_borrower.user).post(
        "/api/v1/applications/", _app_body(borrower_applicant.pk, product.pk), format="json"
    )
    assert response.status_code == 400
    assert "applicant" in error_fields(response)


def test_channel_follows_the_caller(product, borrower, borrower_applicant, loan_officer):
    portal = client_for(borrower.user).post(
        "/api/v1/applications/", _app_body(borrower_applicant.pk, product.pk), format="json"
    )
    staff = client_for(loan_officer).post(
        "/api/v1/applications/", _app_body(borrower_applicant.pk, product.pk), format="json"
    )
    assert portal.json()["channel"] == "portal"
    assert staff.json()["channel"] == "staff"


def test_submit_without_documents_is_409_naming_the_missing_types(make_application, loan_officer):
    application = make_application(with_documents=False)
    response = client_for(loan_officer).post(f"/api/v1/applications/{application.pk}/submit/")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "missing_documents"
    assert "id_proof" in body["message"]
    assert "proof_of_income" in body["message"]
    assert body["extra"]["missing"] == ["id_proof", "proof_of_income"]
    application.refresh_from_db()
    assert application.status == "draft"


def test_submit_twice_is_409(decided, loan_officer):
    application = decided("9999")
    response = client_for(loan_officer).post(f"/api/v1/applications/{application.pk}/submit/")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_detail_has_status_decision_offer_and_loan(decided, loan_officer):
    application = decided("9999")
    body = client_for(loan_officer).get(f"/api/v1/applications/{application.pk}/").json()
    assert body["status"] == "approved"
    assert body["loan"] is None
    assert body["decision"]["outcome"] == "approve"
    assert {"outcome", "score", "dti", "reasons", "rules"} <= set(body["decision"])
    assert body["offer"]["apr"]
    assert body["checklist"] == [
        {"doc_type": "id_proof", "status": "pending", "document": body["checklist"][0]["document"]},
        {
            "doc_type": "proof_of_income",
            "status": "pending",
            "document": body["checklist"][1]["document"],
        },
    ]


def test_approve_needs_underwriting_and_a_referred_application(decided, loan_officer, underwriter):
    referred = decided("5555")
    declined = decided("1111")
    url = f"/api/v1/applications/{referred.pk}/approve/"
    assert client_for(loan_officer).post(url, {}, format="json").status_code == 403
    response = client_for(underwriter).post(
        f"/api/v1/applications/{declined.pk}/approve/", {}, format="json"
    )
    assert response.status_code == 409
    response = client_for(underwriter).post(url, {"amount": "99999.00"}, format="json")
    assert response.status_code == 400
    assert "amount" in error_fields(response)
    referred.refresh_from_db()
    assert referred.status == "referred"


def test_self_approval_is_409(make_application, underwriter, django_capture_on_commit_callbacks):
    application = make_application("5555", acting_user=underwriter)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(underwriter).post(f"/api/v1/applications/{application.pk}/submit/")
    response = client_for(underwriter).post(
        f"/api/v1/applications/{application.pk}/approve/", {}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "self_approval"


def test_decline_and_decision_endpoints(decided, underwriter, django_capture_on_commit_callbacks):
    application = decided("5555")
    url = f"/api/v1/applications/{application.pk}/decline/"
    assert client_for(underwriter).post(url, {"reasons": []}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(underwriter).post(
            url, {"reasons": ["Unable to verify income"]}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    docs = client_for(underwriter).get(f"/api/v1/applications/{application.pk}/documents/").json()
    assert "adverse_action_notice" in [d["doc_type"] for d in docs]


def test_withdraw(decided, borrower, borrower_applicant, other_borrower):
    application = decided(applicant=borrower_applicant)
    url = f"/api/v1/applications/{application.pk}/withdraw/"
    assert client_for(other_borrower.user).post(url).status_code == 404
    response = client_for(borrower.user).post(url, {"reason": "found cheaper"}, format="json")
    assert response.json()["status"] == "withdrawn"
    assert client_for(borrower.user).post(url).status_code == 409


def test_accept_offer_by_the_borrower_records_the_ip(
    decided, borrower, borrower_applicant, other_borrower
):
    application = decided(applicant=borrower_applicant)
    url = f"/api/v1/applications/{application.pk}/accept-offer/"
    assert (
        client_for(other_borrower.user)
        .post(url, {"signature_name": "X"}, format="json")
        .status_code
        == 404
    )
    assert client_for(borrower.user).post(url, {}, format="json").status_code == 400
    response = client_for(borrower.user).post(
        url, {"signature_name": "Carol Clark"}, format="json", REMOTE_ADDR="198.51.100.4"
    )
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.offer.signature_ip == "198.51.100.4"
    assert not application.offer.accepted_on_behalf


def test_disburse_errors(accepted, decided, loan_officer, borrower, underwriter):
    application = accepted()
    url = f"/api/v1/applications/{application.pk}/disburse/"
    body = {"method": "ach", "reference": "R-1"}
    assert (
        client_for(borrower.user)
        .post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="a")
        .status_code
        == 403
    )
    assert (
        client_for(underwriter).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="a").status_code
        == 403
    )
    missing_key = client_for(loan_officer).post(url, body, format="json")
    assert missing_key.status_code == 400
    assert "Idempotency-Key" in error_fields(missing_key)
    bad = client_for(loan_officer).post(
        url, {"method": "cash", "reference": "R"}, format="json", HTTP_IDEMPOTENCY_KEY="b"
    )
    assert bad.status_code == 400
    assert "method" in error_fields(bad)
    approved = decided("9999")
    early = client_for(loan_officer).post(
        f"/api/v1/applications/{approved.pk}/disburse/",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY="c",
    )
    assert early.status_code == 409
    approved.refresh_from_db()
    assert approved.status == "approved"
    assert approved.loan_id is None


# --- visibility, list filters, query counts --------------------------------------------------


def test_borrower_sees_only_own_applications(
    decided, borrower, borrower_applicant, other_borrower, loan_officer
):
    mine = decided(applicant=borrower_applicant)
    theirs = decided("9999")
    listed = client_for(borrower.user).get("/api/v1/applications/").json()
    assert [a["id"] for a in listed["results"]] == [mine.pk]
    assert client_for(borrower.user).get(f"/api/v1/applications/{theirs.pk}/").status_code == 404
    assert (
        client_for(other_borrower.user).get(f"/api/v1/applications/{mine.pk}/").status_code == 404
    )
    for path in ("decision", "offer", "documents"):
        url = f"/api/v1/applications/{mine.pk}/{path}/"
        assert client_for(other_borrower.user).get(url).status_code == 404
        assert client_for(borrower.user).get(url).status_code == 200
    assert client_for(loan_officer).get("/api/v1/applications/").json()["count"] == 2


def test_list_filters(decided, make_application, product, loan_officer):
    approved = decided("9999")
    referred = decided("5555")
    draft = make_application(with_documents=False)
    staff = client_for(loan_officer)

    def ids(query):
        response = staff.get(f"/api/v1/applications/{query}")
        assert response.status_code == 200, response.json()
        return {a["id"] for a in response.json()["results"]}

    assert ids("?status=approved") == {approved.pk}
    assert ids("?status=referred,draft") == {referred.pk, draft.pk}
    assert ids(f"?product={product.pk}") == {approved.pk, referred.pk, draft.pk}
    assert ids("?product=999999") == set()
    assert ids("?created_from=2000-01-01&created_to=2999-12-31") == {
        approved.pk,
        referred.pk,
        draft.pk,
    }
    assert ids("?created_to=2000-01-01") == set()
    assert staff.get("/api/v1/applications/?status=nonsense").status_code == 400


def test_list_query_count_does_not_grow_with_page_size(product, loan_officer):
    applicant = ApplicantFactory()
    for _ in range(12):
        ApplicationFactory(applicant=applicant, product=product)
    staff = client_for(loan_officer)
    staff.get("/api/v1/applications/?limit=1")  # warm the permission cache of the session
    counts = {}
    for limit in (2, 12):
        with CaptureQueriesContext(connection) as ctx:
            response = staff.get(f"/api/v1/applications/?limit={limit}")
        assert len(response.json()["results"]) == limit
        counts[limit] = len(ctx.captured_queries)
    assert counts[2] == counts[12]


def test_list_query_count_is_pinned(product, loan_officer, django_assert_num_queries):
    applicant = ApplicantFactory()
    for _ in range(5):
        ApplicationFactory(applicant=applicant, product=product)
    staff = client_for(loan_officer)
    staff.get("/api/v1/applications/")
    # count + page (the user's permissions are cached on the authenticated user object)
    with django_assert_num_queries(2):
        response = staff.get("/api/v1/applications/")
    assert response.json()["count"] == 5


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        # the products (one query) and their versions (one prefetch)
        ("/api/v1/products/", 2),
        ("/api/v1/products/{product}/", 2),
        # the rule sets and their rules (one prefetch)
        ("/api/v1/rule-sets/", 2),
        ("/api/v1/rule-sets/{rule_set}/", 2),
        # the visible application (with its decisions and events prefetched), then the rows
        ("/api/v1/applications/{application}/documents/", 4),
        ("/api/v1/applications/{application}/events/", 4),
    ],
)
def test_origination_lists_and_details_query_counts_are_pinned(
    path, queries, decided, product, admin_user, django_assert_num_queries
):
    application = decided("9999")
    rule_set = product.rule_sets.first()
    url = path.format(product=product.pk, rule_set=rule_set.pk, application=application.pk)
    staff = client_for(admin_user)
    staff.get(url)  # the user's permissions are cached on the user object from here on
    with django_assert_num_queries(queries):
        response = staff.get(url)
    assert response.status_code == 200


# --- documents ---------------------------------------------------------------------------------


def _upload(client, application_id, data, name="f.pdf", doc_type="id_proof"):
    return client.post(
        f"/api/v1/applications/{application_id}/documents/",
        {"doc_type": doc_type, "file": SimpleUploadedFile(name, data)},
        format="multipart",
    )


def test_documents_upload_list_download(
    make_application, borrower, borrower_applicant, other_borrower
):
    application = make_application(applicant=borrower_applicant, with_documents=False)
    me = client_for(borrower.user)
    response = _upload(me, application.pk, PDF)
    assert response.status_code == 201
    document = response.json()
    assert document["content_type"] == "application/pdf"
    assert len(document["sha256"]) == 64
    assert [
        d["id"] for d in me.get(f"/api/v1/applications/{application.pk}/documents/").json()
    ] == [document["id"]]
    download = me.get(f"/api/v1/documents/{document['id']}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PDF
    other = client_for(other_borrower.user)
    assert other.get(f"/api/v1/documents/{document['id']}/download/").status_code == 404
    assert _upload(other, application.pk, PDF).status_code == 404


@pytest.mark.parametrize(
    ("data", "name"),
    [(b"", "empty.pdf"), (b"MZ\x90\x00 not a pdf", "evil.pdf"), (b"GIF89a", "x.png")],
)
def test_bad_documents_are_400(make_application, loan_officer, data, name):
    application = make_application(with_documents=False)
    response = _upload(client_for(loan_officer), application.pk, data, name=name)
    assert response.status_code == 400
    assert "file" in error_fields(response)
    assert Document.objects.count() == 0


def test_document_too_big_is_400(make_application, loan_officer, settings):
    settings.ORIGINATION_DOCUMENT_MAX_BYTES = 100
    application = make_application(with_documents=False)
    response = _upload(client_for(loan_officer), application.pk, PDF + b"x" * 200)
    assert response.status_code == 400
    assert "file" in error_fields(response)
    assert Document.objects.count() == 0


def test_document_review_by_staff(make_application, loan_officer, borrower):
    application = make_application()
    document = application.documents.first()
    url = f"/api/v1/documents/{document.pk}/review/"
    assert (
        client_for(borrower.user).post(url, {"status": "accepted"}, format="json").status_code
        == 403
    )
    response = client_for(loan_officer).post(
        url, {"status": "rejected", "reason": "Expired ID"}, format="json"
    )
    assert response.json()["status"] == "rejected"
    assert response.json()["review_reason"] == "Expired ID"


# --- rule sets ---------------------------------------------------------------------------------


def test_rule_sets_api_create_backtest_activate(product, admin_user, loan_officer, decided):
    decided("9999")
    decided("0100")
    staff = client_for(admin_user)
    listed = staff.get("/api/v1/rule-sets/").json()
    assert listed[0]["status"] == "active"
    rules = listed[0]["rules"]
    for rule in rules:
        if rule["reason_code"] == "SCORE_BELOW_AUTO_APPROVAL":
            rule["threshold"] = "720"
    body = {"product": product.pk, "name": "stricter", "rules": rules}
    assert (
        client_for(loan_officer).post("/api/v1/rule-sets/", body, format="json").status_code == 403
    )
    response = staff.post("/api/v1/rule-sets/", body, format="json")
    assert response.status_code == 201, response.json()
    draft = response.json()
    assert draft["status"] == "draft"
    assert draft["version"] == 2
    backtest = staff.post(
        f"/api/v1/rule-sets/{draft['id']}/backtest/", {"limit": 50}, format="json"
    )
    assert backtest.status_code == 200
    result = backtest.json()
    assert result["compared"] == 2
    assert result["approval_rate_before"] == "1.0000"
    assert result["approval_rate_after"] == "0.5000"
    assert [f["after"] for f in result["flips"]] == ["refer"]
    assert (
        client_for(loan_officer).post(f"/api/v1/rule-sets/{draft['id']}/activate/").status_code
        == 403
    )
    activated = staff.post(f"/api/v1/rule-sets/{draft['id']}/activate/")
    assert activated.json()["status"] == "active"
    bad = staff.post(
        "/api/v1/rule-sets/",
        {
            "product": product.pk,
            "rules": [
                {
                    "feature": "x",
                    "operator": "lt",
                    "outcome": "decline",
                    "reason_code": "A",
                    "reason_text": "B",
                }
            ],
        },
        format="json",
    )
    assert bad.status_code == 400


def test_money_is_a_string(decided, loan_officer):
    application = decided("9999")
    offer = client_for(loan_officer).get(f"/api/v1/applications/{application.pk}/offer/").json()
    assert isinstance(offer["payment"], str)
    assert Decimal(offer["total_of_payments"]) == sum(
        Decimal(i["payment"]) for i in offer["installments"]
    )


def test_request_documents_endpoint(make_application, loan_officer, borrower):
    application = make_application(with_documents=False)
    url = f"/api/v1/applications/{application.pk}/request-documents/"
    body = {"doc_types": ["bank_statement"], "message": "Please"}
    # The permission check comes before visibility: a borrower is refused, not "not found".
    assert client_for(borrower.user).post(url, body, format="json").status_code == 403
    assert client_for(loan_officer).post(url, body, format="json").status_code == 200
    bad = client_for(loan_officer).post(url, {"doc_types": ["x"]}, format="json")
    assert bad.status_code == 400
    assert "doc_types" in error_fields(bad)
