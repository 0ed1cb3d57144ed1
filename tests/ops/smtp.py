"""A small SMTP server on loopback (the outside world of e-mail), started by a test: it keeps
the messages it accepted, and can hang on chosen connections (say nothing, as a server that
stopped answering), so that a worker is caught mid-send."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class SmtpServer:
    hang_connections: set[int] = field(default_factory=set)  # 1-based, in order of arrival
    connections: int = 0
    messages: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def connection_opened(self) -> int:
        with self.lock:
            self.connections += 1
            return self.connections


def _handler(server: SmtpServer):
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(f"{line}\r\n".encode())

        def data(self) -> bytes | None:
            lines = []
            while (line := self.rfile.readline()) != b".\r\n":
                if not line:
                    return None
                lines.append(line)
            return b"".join(lines)

        def handle(self) -> None:
            number = server.connection_opened()
            if number in server.hang_connections:
                server.release.wait(120)  # no greeting: the client waits for it
                return
            self.reply("220 test ESMTP")
            while line := self.rfile.readline():
                verb = line.strip().split(b" ", 1)[0].upper()
                if verb in (b"EHLO", b"HELO"):
                    self.reply("250 test")
                elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    self.reply("250 ok")
                elif verb == b"DATA":
                    self.reply("354 go on")
                    body = self.data()
                    if body is None:
                        return  # the client went away mid-message: nothing accepted
                    with server.lock:
                        server.messages.append(body)
                    self.reply("250 queued")
                elif verb == b"QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 not here")

    return Handler


@contextmanager
def smtp_server(*, hang_connections: set[int] | None = None) -> Iterator[SmtpServer]:
    state = SmtpServer(hang_connections=hang_connections or set())
    tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler(state))
    tcp.daemon_threads = True
    state.port = tcp.server_address[1]
    thread = threading.Thread(target=tcp.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        tcp.shutdown()
        tcp.server_close()
