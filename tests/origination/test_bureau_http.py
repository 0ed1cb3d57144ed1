"""HttpJsonBureau against a local HTTP server started by the test."""

from __future__ import annotations

import json
import threading
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from origination.adapters import bureau_backend
from origination.adapters.bureau import HttpJsonBureau, Subject
from origination.errors import BureauUnavailable

SUBJECT = Subject(
    first_name="Pat", last_name="Tester", date_of_birth=date(1985, 1, 1), ssn="123459999"
)


class FakeBureau:
    """Answers each POST /reports from a script of (status, body) replies."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                status, body = fake.replies.pop(0) if fake.replies else (500, {})
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


REPORT = {
    "file_found": True,
    "score": 712,
    "score_model": "FICO 8",
    "score_range": [300, 850],
    "key_factors": ["Length of credit history"],
    "monthly_debts": "410.50",
    "delinquencies_24m": 1,
    "inquiries_6m": 2,
    "bankruptcies": 0,
}


def test_pulls_a_report_with_the_api_key():
    with FakeBureau([(200, REPORT)]) as fake:
        result = HttpJsonBureau(base_url=fake.url, api_key="secret", retries=0).pull(SUBJECT)
    assert result.score == 712
    assert result.monthly_debts == Decimal("410.50")
    assert (result.delinquencies_24m, result.inquiries_6m) == (1, 2)
    assert result.raw == REPORT
    assert fake.requests[0]["path"] == "/v1/reports"
    assert fake.requests[0]["auth"] == "Bearer secret"
    assert fake.requests[0]["body"]["ssn"] == "123459999"


def test_retries_server_errors_with_backoff_then_succeeds():
    with FakeBureau([(503, {}), (500, {}), (200, REPORT)]) as fake:
        result = HttpJsonBureau(base_url=fake.url, retries=2, backoff=0.01).pull(SUBJECT)
    assert result.score == 712
    assert len(fake.requests) == 3


def test_gives_up_after_the_retries():
    with FakeBureau([(500, {})] * 5) as fake, pytest.raises(BureauUnavailable):
        HttpJsonBureau(base_url=fake.url, retries=1, backoff=0.01).pull(SUBJECT)
    assert len(fake.requests) == 2


def test_a_client_error_is_not_retried():
    with FakeBureau([(400, {"error": "bad"})]) as fake, pytest.raises(BureauUnavailable):
        HttpJsonBureau(base_url=fake.url, retries=3, backoff=0.01).pull(SUBJECT)
    assert len(fake.requests) == 1


def test_no_file():
    with FakeBureau([(200, {"file_found": False})]) as fake:
        result = HttpJsonBureau(base_url=fake.url, retries=0).pull(SUBJECT)
    assert not result.has_file
    assert result.score is None


def test_connection_refused_is_unavailable():
    bureau = HttpJsonBureau(base_url="http://127.0.0.1:9", retries=1, backoff=0.01, timeout=1)
    with pytest.raises(BureauUnavailable):
        bureau.pull(SUBJECT)


def test_backend_is_chosen_by_setting(settings):
    settings.BUREAU_BACKEND = "origination.adapters.bureau.HttpJsonBureau"
    settings.BUREAU_HTTP_BASE_URL = "http://127.0.0.1:1/x"
    assert isinstance(bureau_backend(), HttpJsonBureau)


@pytest.mark.django_db
def test_decision_through_the_http_bureau(settings, decided):
    with FakeBureau([(200, REPORT)]) as fake:
        settings.BUREAU_BACKEND = "origination.adapters.bureau.HttpJsonBureau"
        settings.BUREAU_HTTP_BASE_URL = fake.url
        settings.BUREAU_HTTP_RETRIES = 0
        application = decided("9999")
    assert application.status == "approved"
    assert application.decisions.get().score == 712
