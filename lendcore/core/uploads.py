"""What an uploaded file really is. A magic number is not enough (a PDF header followed by HTML
passed it): PDFs are parsed with pypdf, images decoded with Pillow, and a file is refused when it
is also something else (markup or active content inside, bytes after its end), encrypted, or an
image past the pixel cap. The caller stores the bytes under a generated name and serves them
under a name the server builds from `UploadKind.extension`."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

__all__ = ["UploadKind", "UploadRefused", "inspect_upload"]

# 40 megapixels: a phone photo is 12-50; a page scanned at 600 dpi is about 35.
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000

_SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
# Markup a browser would run if it were ever served as HTML: a polyglot, whatever it claims.
_MARKUP = re.compile(rb"<\s*(?:script|html|body|svg|iframe|object|embed)\b|<!doctype\s+html", re.I)
# PDF features that act on opening rather than show a page.
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|SubmitForm)\b")
_PDF_END = re.compile(rb"%%EOF")
_PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG"}

# pypdf logs every repair it makes; a refused upload is the answer, not a log line.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class UploadRefused(ValueError):
    """The message is for the uploader (it names no internals)."""


@dataclass(frozen=True)
class UploadKind:
    content_type: str
    extension: str


def inspect_upload(data: bytes) -> UploadKind:
    """The file's real type, or UploadRefused saying why it is not accepted."""
    kind = _sniff(data)
    if kind is None:
        raise UploadRefused("Only PDF, JPEG and PNG files are accepted (checked by content).")
    if _MARKUP.search(data):
        raise UploadRefused("The file also holds web page markup; upload a plain PDF or image.")
    if kind.content_type == "application/pdf":
        _check_pdf(data)
    else:
        _check_image(data, kind)
    return kind


def _sniff(data: bytes) -> UploadKind | None:
    for magic, content_type, extension in _SIGNATURES:
        if data.startswith(magic):
            return UploadKind(content_type, extension)
    return None


def _check_pdf(data: bytes) -> None:
    ends = list(_PDF_END.finditer(data))
    if not ends or data[ends[-1].end() :].strip():
        raise UploadRefused("The PDF is damaged or has other data after its end.")
    if _PDF_ACTIVE.search(data):
        raise UploadRefused("PDFs with scripts, attachments or forms that act are not accepted.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted:
            raise UploadRefused("Encrypted or password-protected PDFs are not accepted.")
        if len(reader.pages) == 0:
            raise UploadRefused("The PDF has no pages.")
        for page in reader.pages:
            page.mediabox  # noqa: B018 - reading each page's box parses the page tree for real
    except UploadRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise UploadRefused("The PDF could not be read; export it again and upload it.") from None


def _check_image(data: bytes, kind: UploadKind) -> None:
    cap = int(getattr(settings, "LENDCORE_UPLOAD_MAX_PIXELS", DEFAULT_MAX_IMAGE_PIXELS))
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != _PIL_FORMAT[kind.content_type]:
                raise UploadRefused("The image is not the type its content starts as.")
            width, height = image.size  # from the header: nothing is decoded yet
            if width * height > cap:
                raise UploadRefused(
                    f"The image is {width} × {height} pixels; at most {cap:,} pixels are accepted."
                )
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decode it all: a truncated or corrupt image fails here
    except UploadRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UploadRefused("The image could not be read; upload it again.") from None
    if not _ends_cleanly(data, kind):
        raise UploadRefused("The image has other data after its end.")


def _ends_cleanly(data: bytes, kind: UploadKind) -> bool:
    if kind.content_type == "image/png":
        # The IEND chunk (length 0, type, CRC) closes a PNG: nothing may follow it.
        return data.endswith(b"\x00\x00\x00\x00IEND\xaeB`\x82")
    return data.rstrip(b"\x00").endswith(b"\xff\xd9")
