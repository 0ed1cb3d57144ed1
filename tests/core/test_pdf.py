from django.template import engines

from lendcore.core import pdf


def test_html_to_pdf_prints_a_pdf():
    assert pdf.html_to_pdf("<p>Hello</p>").startswith(b"%PDF-")


def test_render_pdf_renders_the_template_then_prints_it(monkeypatch):
    # given a template that says hello to whoever the context names
    template = engines["django"].from_string("<p>Hello {{ name }}</p>")
    monkeypatch.setattr(pdf, "render_to_string", lambda name, context: template.render(context))
    printed = []
    monkeypatch.setattr(pdf, "html_to_pdf", lambda html, base_url=None: printed.append(html))

    # when it is printed
    pdf.render_pdf("any.html", {"name": "Carol"})

    # then the rendered HTML is what is printed
    assert printed == ["<p>Hello Carol</p>"]
