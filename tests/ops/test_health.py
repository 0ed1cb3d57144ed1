"""`/healthz` (the process answers) and `/readyz` (database, broker and schema), each failing
check named in a 503: a database on a closed port, a broker on a closed port, a migration the
database has not applied."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import ConnectionHandler
from django.test import Client

from lendcore.core import health
from tests.ops.services import REDIS_URL, redis_or_skip

CLOSED_BROKER = "redis://127.0.0.1:1/0"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client() -> Client:
    return Client()


def test_healthz_answers_without_the_database(client):
    """No `db` fixture: pytest-django fails any query, so this proves none is made."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_probes_answer_get_and_head_only(client, db):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_readyz_is_ok_in_the_embedded_mode(client, db, settings):
    """No broker configured: tasks run in-process, so there is nothing to reach."""
    settings.CELERY_BROKER_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "migrations": "ok"},
        "failed": [],
    }


def test_readyz_is_ok_with_a_live_broker(client, db, settings):
    redis_or_skip()
    settings.CELERY_BROKER_URL = REDIS_URL
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()


def test_readyz_names_a_broker_it_cannot_reach(client, db, settings):
    settings.CELERY_BROKER_URL = CLOSED_BROKER
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"].startswith("broker unreachable")
    assert body["checks"]["database"] == "ok"
    assert "127.0.0.1" not in response.content.decode()  # no address to an anonymous caller


def _unreachable_database() -> ConnectionHandler:
    """The test database's settings with a server nobody listens on (PostgreSQL) or a file
    in a folder that does not exist (SQLite): a real failed connection."""
    broken = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        broken["NAME"] = "/nonexistent-lendcore-folder/db.sqlite3"
    else:
        broken.update(HOST="127.0.0.1", PORT=1)
    return ConnectionHandler({"default": broken})


def test_readyz_names_a_database_it_cannot_reach(client, db, settings, monkeypatch):
    settings.CELERY_BROKER_URL = ""
    unreachable = _unreachable_database()
    monkeypatch.setattr(health, "connections", unreachable)
    try:
        response = client.get("/readyz")
    finally:
        unreachable.close_all()
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["database", "migrations"]
    assert body["checks"]["database"].startswith("database unreachable")
    assert body["checks"]["migrations"] == "not checked (database unreachable)"
    # liveness does not depend on the database
    assert client.get("/healthz").status_code == 200


def _forget_the_latest_migration() -> None:
    """The database forgets the core app's newest migration (only a leaf counts as unapplied:
    Django plans to a target, not through the history)."""
    (leaf,) = MigrationLoader(connection).graph.leaf_nodes("core")
    MigrationRecorder(connection).record_unapplied(*leaf)


def test_readyz_names_an_unapplied_migration(client, db, settings):
    """The database forgets one applied migration (inside the test's transaction): the code
    is then newer than the schema, as between a release and its `migrate`."""
    settings.CELERY_BROKER_URL = ""
    _forget_the_latest_migration()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"] == "1 unapplied migration(s)"


def test_readyz_names_every_failed_check_at_once(client, db, settings):
    settings.CELERY_BROKER_URL = CLOSED_BROKER
    _forget_the_latest_migration()
    body = client.get("/readyz").json()
    assert body["failed"] == ["broker", "migrations"]


def test_docker_compose_waits_on_the_probes():
    """web is healthy when /readyz is; the worker and beat start only after it (migrated)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"] == {"condition": "service_healthy"}
