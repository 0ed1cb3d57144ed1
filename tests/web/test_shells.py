import io
import re

import pytest

STAFF_PAGES = [
    "/staff/",
    "/staff/applications/",
    "/staff/loans/",
    "/staff/collections/",
    "/staff/reports/",
    "/staff/cob/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_need_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_refuse_borrowers(client, borrower, url):
    client.force_login(borrower.user)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_show_navigation(client, admin_user, url):
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    for label in (
        "Dashboard",
        "Applications",
        "Loans",
        "Collections",
        "Reports",
        "Close of business",
    ):
        assert label in html


def test_every_staff_role_reaches_the_dashboard(
    client, loan_officer, underwriter, servicing_agent, collector, admin_user
):
    for user in (loan_officer, underwriter, servicing_agent, collector, admin_user):
        client.force_login(user)
        assert client.get("/staff/").status_code == 200


@pytest.mark.django_db
def test_portal_home_and_navigation(client):
    html = client.get("/").content.decode()
    for label in ("Home", "Calculator", "Apply", "My loans", "Sign in"):
        assert label in html


@pytest.mark.parametrize("url", ["/apply/", "/my-loans/"])
def test_portal_sections_need_login(client, db, url):
    assert client.get(url).status_code == 302


def test_portal_greets_the_borrower(client, borrower):
    client.force_login(borrower.user)
    assert "Welcome back, Carol" in client.get("/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/accounts/signup/", "/api/docs/"])
def test_no_asset_comes_from_another_host(client, url):
    html = client.get(url).content.decode()
    external = re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+""", html)
    assert external == []


@pytest.mark.django_db
def test_api_schema_and_docs_answer(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/quotes/" in schema.content
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_admin_login_page_answers(client):
    assert client.get("/admin/login/").status_code == 200


def test_dashboard_shows_the_portfolio_and_the_queues(
    client, admin_user, django_assert_max_num_queries
):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(admin_user)
    # a fixed number of aggregate queries, whatever the book's size: the portfolio, the
    # applications, PAR and income from the reports, the pipeline and collections figures
    with django_assert_max_num_queries(16):
        response = client.get("/staff/")
    html = response.content.decode()
    assert "Business date" in html
    assert "Active loans" in html
    summary = response.context["portfolio"]
    assert summary.active_loans >= 3  # the demo's current, paid-ahead and late loans
    assert summary.delinquent_loans <= summary.active_loans
    assert response.context["applications_waiting"]["referred to underwriting"] >= 1
