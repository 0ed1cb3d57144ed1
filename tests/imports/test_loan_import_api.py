"""The portfolio import over HTTP: the API (upload, job status, retry, permissions), the staff
pages (upload form, list, progress that polls, error table) and `manage.py import_loans`."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from origination.models import LoanImport
from servicing.ledger import ledger_problems
from servicing.models import Loan

from .conftest import loan_row, to_csv

pytestmark = pytest.mark.django_db
URL = "/api/v1/loan-imports/"


def upload(client, content: bytes, **fields):
    headers = {k: fields.pop(k) for k in list(fields) if k.startswith("HTTP_")}
    return client.post(
        URL,
        {"file": SimpleUploadedFile("book.csv", content), **fields},
        format="multipart",
        **headers,
    )


def test_upload_runs_the_task_and_the_job_reports_progress(
    staff_api_client, admin_user, product, today, django_capture_on_commit_callbacks
):
    client = staff_api_client(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, to_csv([loan_row(1), loan_row(2)]))
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]

    body = client.get(f"{URL}{job_id}/").json()
    assert body["status"] == "succeeded"
    assert (body["total_rows"], body["validated_rows"], body["imported_rows"]) == (2, 2, 2)
    assert body["report"] == []
    assert Loan.objects.count() == 2
    assert client.get(URL).json()["results"][0]["id"] == job_id
    assert ledger_problems() == []


def test_a_bad_file_is_a_failed_job_with_the_report(
    staff_api_client, admin_user, product, today, django_capture_on_commit_callbacks
):
    client = staff_api_client(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, to_csv([loan_row(1), loan_row(2, principal="abc")]))
    body = client.get(f"{URL}{response.json()['id']}/").json()
    assert body["status"] == "failed"
    assert body["report"] == [
        {
            "file": "loans",
            "row": 3,
            "column": "principal",
            "code": "invalid_number",
            "message": "'abc' is not a number (e.g. 1234.56).",
        }
    ]
    assert Loan.objects.count() == 0


def test_a_request_without_a_file_is_a_400_naming_it(staff_api_client, admin_user):
    response = staff_api_client(admin_user).post(URL, {"valid_only": "maybe"}, format="multipart")
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"file", "valid_only"}


def test_retrying_a_job_that_did_not_stop_on_a_failure_is_a_409(
    staff_api_client, admin_user, product, today, django_capture_on_commit_callbacks
):
    client = staff_api_client(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = upload(client, to_csv([loan_row(1)])).json()["id"]
    response = client.post(f"{URL}{job_id}/retry/")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_a_job_that_stopped_part_way_resumes(
    staff_api_client, admin_user, product, today, django_capture_on_commit_callbacks
):
    # Given an import that failed after validation (e.g. the worker died)
    job = LoanImport.objects.create(
        content=to_csv([loan_row(1), loan_row(2)]), status="failed", created_by=admin_user
    )
    # When it is retried
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api_client(admin_user).post(f"{URL}{job.pk}/retry/")
    assert response.status_code == 202
    job.refresh_from_db()
    assert (job.status, job.imported_rows) == ("succeeded", 2)


@pytest.mark.parametrize("role", ["servicing_agent", "collector", "loan_officer", "borrower"])
def test_only_the_import_role_may_import(staff_api_client, request, role, admin_user):
    user = request.getfixturevalue(role)
    user = getattr(user, "user", user)  # the borrower fixture is a Borrower
    client = staff_api_client(user)
    assert upload(client, b"x").status_code == 403
    assert client.get(URL).status_code == 403


def test_the_command_imports_or_exits_with_the_report(tmp_path, product, today, capsys):
    good = tmp_path / "good.csv"
    good.write_bytes(to_csv([loan_row(1)]))
    call_command("import_loans", str(good))
    assert "succeeded" in capsys.readouterr().out
    assert Loan.objects.count() == 1

    bad = tmp_path / "bad.csv"
    bad.write_bytes(to_csv([loan_row(2), loan_row(3, product_code="NOPE")]))
    with pytest.raises(CommandError, match="failed"):
        call_command("import_loans", str(bad), "--json")
    report = json.loads(capsys.readouterr().out)
    assert [(e["row"], e["column"], e["code"]) for e in report] == [
        (3, "product_code", "unknown_product")
    ]
    call_command("import_loans", str(bad), "--valid-only")
    assert Loan.objects.count() == 2
    assert ledger_problems() == []


def test_the_staff_page_uploads_and_shows_progress_and_errors(
    admin_user, product, today, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(admin_user)
    page = client.get("/staff/loan-imports/")
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/staff/loan-imports/",
            {"file": SimpleUploadedFile("b.csv", to_csv([loan_row(1, product_code="X")]))},
        )
    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert b'data-status="failed"' in detail.content
    assert b"unknown_product" in detail.content
    assert b"hx-trigger" not in detail.content  # finished: no more polling
    # a running job's partial polls itself
    LoanImport.objects.update(status="running")
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 1s"' in partial.content
    assert b"<html" not in partial.content


def test_the_staff_page_is_the_import_roles(servicing_agent):
    client = Client()
    client.force_login(servicing_agent)
    assert client.get("/staff/loan-imports/").status_code == 403


def test_an_upload_replayed_with_its_key_is_one_job(
    staff_api_client, admin_user, product, today, django_capture_on_commit_callbacks
):
    client = staff_api_client(admin_user)
    content = to_csv([loan_row(1)])
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(client, content, HTTP_IDEMPOTENCY_KEY="imp-1")
        again = upload(client, content, HTTP_IDEMPOTENCY_KEY="imp-1")
    assert again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert LoanImport.objects.count() == 1
    assert Loan.objects.count() == 1
