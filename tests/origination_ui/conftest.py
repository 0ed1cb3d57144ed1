"""Fixtures for the origination pages: the core's product, applicants and decided applications
(reused from tests/origination/conftest.py), plus logged-in test clients."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.origination.conftest import (  # noqa: F401  (fixtures, re-exported)
    _media,
    accepted,
    borrower_applicant,
    decided,
    make_applicant,
    make_application,
    product,
)
from tests.origination.factories import PNG  # noqa: F401  (a real image, for the page tests)


@pytest.fixture
def client_for():
    """A Django test client logged in as `user` (or anonymous for None)."""

    def _as(user) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return _as
