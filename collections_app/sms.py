"""SMS backends of dunning (COLLECTIONS_SMS_BACKEND: a class with `send(to, body)`). The
default records each message (`RecordingSms.outbox`) instead of sending it: plug a real
gateway's client in the setting."""

from __future__ import annotations


class RecordingSms:
    outbox: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> None:
        self.outbox.append((to, body))
