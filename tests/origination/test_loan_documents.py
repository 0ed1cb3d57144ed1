"""The staff loan page lists the documents of the application the loan came from."""

from __future__ import annotations

from origination import services
from origination.models import Document
from servicing.models import Loan
from tests.servicing.factories import board_loan


def test_staff_loan_page_lists_the_applications_documents(
    client, accepted, loan_officer, servicing_agent, admin_user
):
    application = accepted()
    services.application_disburse(
        application=application, acting_user=loan_officer, method="ach", reference="ACH-1"
    )
    loan = Loan.objects.get()
    documents = list(
        Document.objects.filter(application=application).exclude(status=Document.Status.SUPERSEDED)
    )
    assert {d.doc_type for d in documents} >= {"id_proof", "proof_of_income"}

    client.force_login(servicing_agent)
    html = client.get(f"/staff/loans/{loan.pk}/").content.decode()

    assert 'id="documents"' in html
    assert f"APP-{application.pk}" in html
    for document in documents:
        assert f"/documents/{document.pk}/download/" in html
    download = client.get(f"/documents/{documents[0].pk}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")

    # the application page is linked for those who may see applications
    assert f"/staff/applications/{application.pk}/" not in html
    client.force_login(admin_user)
    html = client.get(f"/staff/loans/{loan.pk}/").content.decode()
    assert f"/staff/applications/{application.pk}/" in html


def test_servicing_staff_see_documents_of_disbursed_applications_only(
    client, accepted, decided, loan_officer, servicing_agent
):
    disbursed = accepted()
    services.application_disburse(
        application=disbursed, acting_user=loan_officer, method="ach", reference="ACH-1"
    )
    pending = decided()
    client.force_login(servicing_agent)
    for application, status in ((disbursed, 200), (pending, 404)):
        document = Document.objects.filter(application=application).first()
        assert client.get(f"/documents/{document.pk}/download/").status_code == status


def test_a_loan_boarded_without_an_application_has_no_documents(client, borrower, servicing_agent):
    loan = board_loan(borrower=borrower, application_ref="IMPORT-77")
    client.force_login(servicing_agent)
    html = client.get(f"/staff/loans/{loan.pk}/").content.decode()
    assert "No documents for this loan." in html
