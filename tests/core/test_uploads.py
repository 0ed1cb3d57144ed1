"""Uploads are parsed for real (issue 10, point 8): polyglots, encrypted PDFs, active content,
trailing data and oversized images are refused with a message for the uploader."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from lendcore.core.uploads import UploadKind, UploadRefused, inspect_upload


def _pdf(*, password: str | None = None, javascript: bool = False) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    if javascript:
        action = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert('hi');"),
            }
        )
        writer._root_object[NameObject("/OpenAction")] = action
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _image(fmt: str, size=(40, 30), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "white").save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (_pdf(), UploadKind("application/pdf", "pdf")),
        (_image("PNG"), UploadKind("image/png", "png")),
        (_image("JPEG"), UploadKind("image/jpeg", "jpg")),
    ],
)
def test_real_pdfs_and_images_are_accepted(data, kind):
    assert inspect_upload(data) == kind


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Only PDF, JPEG and PNG"),
        (b"<html><script>alert(1)</script></html>", "Only PDF, JPEG and PNG"),
        (b"GIF89a\x01\x00\x01\x00", "Only PDF, JPEG and PNG"),
        # The audit's polyglot: a PDF header followed by HTML.
        (b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>", "markup"),
        (_pdf() + b"\n<svg onload=alert(1)>", "markup"),
        (_pdf() + b"\nMZ\x90\x00 trailing payload", "after its end"),
        (b"%PDF-1.4\n% not really a PDF\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n", "read"),
        (_pdf(password="secret"), "Encrypted"),
        (_pdf(javascript=True), "scripts"),
        (_image("PNG") + b"<?php system($_GET['c']); ?>", "after its end"),
        (_image("JPEG") + b"PK\x03\x04 zip inside", "after its end"),
        (_image("PNG")[:-30], "could not be read"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "could not be read"),
        (b"\xff\xd8\xff" + _image("PNG")[3:], "could not be read"),
    ],
)
def test_what_is_not_a_plain_pdf_or_image_is_refused_with_the_reason(data, message):
    with pytest.raises(UploadRefused, match=message):
        inspect_upload(data)


def test_an_image_past_the_pixel_cap_is_refused_before_it_is_decoded(settings):
    settings.LENDCORE_UPLOAD_MAX_PIXELS = 1_000_000
    big = _image("PNG", size=(2000, 1000), mode="1")
    with pytest.raises(UploadRefused, match=r"2000 × 1000 pixels; at most 1,000,000"):
        inspect_upload(big)
    assert inspect_upload(_image("PNG", size=(1000, 1000), mode="1")).extension == "png"
