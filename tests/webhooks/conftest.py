"""A real HTTP receiver on loopback, started by the test: it records each request and
answers from a script (a status per request, or a delay that outlasts the sender's timeout)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """`script`: what to answer, in order (an int status, or ("sleep", seconds)); once it is
    used up every request gets `default`."""

    server: ThreadingHTTPServer
    script: list = field(default_factory=list)
    default: int = 200
    # answer 500 to the first `fail_times` requests whose body holds `fail_body`
    fail_body: bytes | None = None
    fail_times: int = 0
    received: list[Received] = field(default_factory=list)
    # kept-alive receivers: connections accepted, and whether to close each after its answer
    # (without saying so: the sender finds out on its next POST)
    connections: int = 0
    drop_after_answer: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def next_answer(self):
        with self.lock:
            return self.script.pop(0) if self.script else self.default


def _handler(receiver_ref: list[Receiver]):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            receiver = receiver_ref[0]
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            answer = receiver.next_answer()
            with receiver.lock:
                failing = receiver.fail_body is not None and receiver.fail_body in body
                if failing and receiver.fail_times > 0:
                    receiver.fail_times -= 1
                    answer = 500
            if isinstance(answer, tuple):
                time.sleep(answer[1])
                answer = 200
            payload = b'{"ok": true}' if answer < 400 else b"x" * 5000
            try:
                self.send_response(answer)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the sender gave up (timeout)

        def log_message(self, *args):
            pass

    return Handler


def _keepalive_handler(receiver_ref: list[Receiver]):
    class KeepAlive(_handler(receiver_ref)):  # type: ignore[misc]
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def setup(self):
            super().setup()
            with receiver_ref[0].lock:
                receiver_ref[0].connections += 1

        def do_POST(self):
            super().do_POST()
            if receiver_ref[0].drop_after_answer:
                self.close_connection = True

    return KeepAlive


def _serve(handler_for) -> Iterator[Receiver]:
    ref: list[Receiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(ref))
    server.daemon_threads = True
    found = Receiver(server=server)
    ref.append(found)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """HTTP/1.0: a connection per request."""
    yield from _serve(_handler)


@pytest.fixture
def keepalive_receiver() -> Iterator[Receiver]:
    """HTTP/1.1: connections kept alive (counted)."""
    yield from _serve(_keepalive_handler)
