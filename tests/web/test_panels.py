from django.test import RequestFactory

from lendcore.core import panels


def test_panels_for_draws_registered_panels_in_order():
    # given two panels on a page of their own
    panels.register("test-page", name="a", title="A", render=lambda obj, request: f"<p>{obj}</p>")
    panels.register("test-page", name="b", title="B", render=lambda obj, request: "<p>b</p>")
    try:
        # when the page asks for its panels
        drawn = panels.panels_for("test-page", "x", RequestFactory().get("/"))
        # then each is drawn once, in registration order
        assert [(p.name, p.title, str(p.html)) for p in drawn] == [
            ("a", "A", "<p>x</p>"),
            ("b", "B", "<p>b</p>"),
        ]
    finally:
        panels.unregister("test-page", name="a")
        panels.unregister("test-page", name="b")


def test_origination_registers_the_loan_documents_panel():
    assert [spec.name for spec in panels.registered("loan")] == ["documents"]
