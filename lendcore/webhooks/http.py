"""One signed POST: Standard Webhooks headers, a timeout, the connection pinned to the
address the SSRF guard checked, no redirects followed."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from .safety import UnsafeUrl, addresses_checked, url_parts

USER_AGENT = "LendCore-Webhooks/1.0"
READ_LIMIT = 64 * 1024  # bytes of a response read at most (only the start is kept)


@dataclass(frozen=True)
class Answer:
    """What one attempt got back: a status and the start of the body, or an error."""

    status_code: int | None
    body: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signature_header(*, secrets: list[str], msg_id: str, timestamp: datetime, body: bytes) -> str:
    """`webhook-signature`: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` under each secret,
    space-separated (two during a secret rotation's overlap)."""
    return " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(*, url: str, headers: dict[str, str], body: bytes, timeout: float, keep: int) -> Answer:
    """POST `body` to `url`; `keep` characters of the answer's body are kept."""
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        scheme, host, port = url_parts(url)
        address = addresses_checked(host, port)[0]
    except UnsafeUrl as exc:
        return Answer(None, "", f"refused: {exc}"[:500], took())
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = cls(host, port, address=address, timeout=timeout)
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={"content-type": "application/json", "user-agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        raw = response.read(READ_LIMIT)
        return Answer(response.status, raw.decode("utf-8", "replace")[:keep], "", took())
    except (OSError, http.client.HTTPException) as exc:
        kind = "timeout" if isinstance(exc, TimeoutError | socket.timeout) else "error"
        return Answer(None, "", f"{kind}: {exc.__class__.__name__}: {exc}"[:500], took())
    finally:
        connection.close()
