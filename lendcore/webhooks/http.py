"""One signed POST: Standard Webhooks headers, a timeout, the connection pinned to the
address the SSRF guard checked (and kept alive for the next POST to it), no redirects
followed."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
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


def _socket(address: str, port: int, timeout: float | None) -> socket.socket:
    """A connection to the checked address; no Nagle delay (the headers and the body go in
    separate writes, and a kept-alive connection would wait for the receiver's delayed ACK)."""
    sock = socket.create_connection((address, port), timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = _socket(self._address, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = _socket(self._address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _Idle:
    """Kept-alive connections waiting for their next POST, by (scheme, host, port, checked
    address, timeout): one receiver's subscription reuses them instead of a TCP (and TLS)
    handshake per delivery. Thread-safe; at most PER_KEY idle per key (the rest are closed)."""

    PER_KEY = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple, list[http.client.HTTPConnection]] = {}

    def take(self, key: tuple) -> http.client.HTTPConnection | None:
        with self._lock:
            found = self._by_key.get(key)
            return found.pop() if found else None

    def give(self, key: tuple, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            found = self._by_key.setdefault(key, [])
            if len(found) < self.PER_KEY:
                found.append(connection)
                return
        connection.close()

    def clear(self) -> None:
        with self._lock:
            everything = [c for found in self._by_key.values() for c in found]
            self._by_key.clear()
        for connection in everything:
            connection.close()


IDLE = _Idle()
# a kept-alive connection the receiver closed meanwhile fails before any answer: post again
# on a new connection (once; the same `webhook-id`, so a receiver that did see it dedupes)
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


def _exchange(
    connection: http.client.HTTPConnection, target: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes, bool]:
    """(status, the start of the body, whether the connection may be used again)."""
    connection.request("POST", target, body=body, headers=headers)
    response = connection.getresponse()
    raw = response.read(READ_LIMIT)
    # reusable when the receiver keeps it open and the whole body was read
    return response.status, raw, not response.will_close and response.isclosed()


def post(*, url: str, headers: dict[str, str], body: bytes, timeout: float, keep: int) -> Answer:
    """POST `body` to `url` on a kept-alive connection when one is idle; `keep` characters
    of the answer's body are kept."""
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
    headers = {"content-type": "application/json", "user-agent": USER_AGENT, **headers}
    key = (scheme, host, port, address, timeout)
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = IDLE.take(key)
    reused = connection is not None
    reusable = False
    try:
        while True:
            if connection is None:
                connection = cls(host, port, address=address, timeout=timeout)
            try:
                status, raw, reusable = _exchange(connection, target, headers, body)
                break
            except _STALE:
                if not reused:
                    raise
                connection.close()
                connection, reused = None, False
        return Answer(status, raw.decode("utf-8", "replace")[:keep], "", took())
    except (OSError, http.client.HTTPException) as exc:
        kind = "timeout" if isinstance(exc, TimeoutError | socket.timeout) else "error"
        return Answer(None, "", f"{kind}: {exc.__class__.__name__}: {exc}"[:500], took())
    finally:
        if connection is not None:
            if reusable:
                IDLE.give(key, connection)
            else:
                connection.close()
