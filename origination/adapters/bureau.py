"""Credit bureau adapters: one interface, a deterministic sandbox and an HTTP JSON client.

Sandbox table by the SSN's last four digits (a contract, documented in the README):

| last four | score | monthly debts | delinquencies 24m | note |
| --- | --- | --- | --- | --- |
| 9999 | 790 | 400 | 0 | |
| 5555 | 650 | 300 | 0 | |
| 1111 | 520 | 900 | 3 | |
| 0000 | - | - | - | no file |
| other | 600 + (last four mod 200) | 250 | 0 | |

Inquiries in 6 months and bankruptcies are 0 in every sandbox profile.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.conf import settings

from origination.errors import BureauUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subject:
    """Who is checked: what identity and bureau providers need, SSN in clear (never stored)."""

    first_name: str
    last_name: str
    date_of_birth: date
    ssn: str
    address_line1: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""


@dataclass(frozen=True)
class BureauResult:
    bureau: str
    has_file: bool
    score: int | None = None
    score_model: str = ""
    score_range_min: int = 300
    score_range_max: int = 850
    key_factors: tuple[str, ...] = ()
    monthly_debts: Decimal = Decimal("0.00")
    delinquencies_24m: int = 0
    inquiries_6m: int = 0
    bankruptcies: int = 0
    raw: dict[str, Any] = field(default_factory=dict)


class BureauBackend(Protocol):
    name: str

    def pull(self, subject: Subject) -> BureauResult:
        """Raise `origination.errors.BureauUnavailable` when the bureau cannot answer."""
        ...


SANDBOX_PROFILES: dict[str, dict[str, Any]] = {
    "9999": {"score": 790, "monthly_debts": "400.00", "delinquencies_24m": 0},
    "5555": {"score": 650, "monthly_debts": "300.00", "delinquencies_24m": 0},
    "1111": {"score": 520, "monthly_debts": "900.00", "delinquencies_24m": 3},
}


def _key_factors(score: int, delinquencies: int) -> list[str]:
    factors = []
    if delinquencies:
        factors.append("Serious delinquency")
    if score < 700:
        factors.append("Proportion of balances to credit limits is too high")
    if score < 620:
        factors.append("Too few accounts currently paid as agreed")
    if not factors:
        factors.append("Length of time accounts have been established")
    return factors


class SandboxBureau:
    name = "Sandbox Credit Bureau"

    def pull(self, subject: Subject) -> BureauResult:
        last4 = subject.ssn[-4:]
        if last4 == "0000":
            raw: dict[str, Any] = {"ssn_last4": last4, "file_found": False}
            return result_from_payload(self.name, raw)
        profile = SANDBOX_PROFILES.get(last4)
        if profile is None:
            profile = {"score": 600 + int(last4) % 200, "monthly_debts": "250.00"}
        score = int(profile["score"])
        delinquencies = int(profile.get("delinquencies_24m", 0))
        raw = {
            "ssn_last4": last4,
            "file_found": True,
            "score": score,
            "score_model": "Sandbox FICO 8",
            "score_range": [300, 850],
            "key_factors": _key_factors(score, delinquencies),
            "monthly_debts": profile["monthly_debts"],
            "delinquencies_24m": delinquencies,
            "inquiries_6m": 0,
            "bankruptcies": 0,
        }
        return result_from_payload(self.name, raw)


def result_from_payload(bureau: str, raw: dict[str, Any]) -> BureauResult:
    """A `BureauResult` from the JSON payload the sandbox and the HTTP bureau share."""
    if not raw.get("file_found", True):
        return BureauResult(bureau=bureau, has_file=False, raw=raw)
    try:
        score_range = raw.get("score_range") or [300, 850]
        return BureauResult(
            bureau=bureau,
            has_file=True,
            score=int(raw["score"]) if raw.get("score") is not None else None,
            score_model=str(raw.get("score_model", "")),
            score_range_min=int(score_range[0]),
            score_range_max=int(score_range[1]),
            key_factors=tuple(str(f) for f in raw.get("key_factors", ()))[:5],
            monthly_debts=Decimal(str(raw.get("monthly_debts", "0.00"))),
            delinquencies_24m=int(raw.get("delinquencies_24m", 0)),
            inquiries_6m=int(raw.get("inquiries_6m", 0)),
            bankruptcies=int(raw.get("bankruptcies", 0)),
            raw=raw,
        )
    except (KeyError, TypeError, ValueError, InvalidOperation, IndexError) as exc:
        raise BureauUnavailable(f"The bureau answered an unreadable report: {exc}") from exc


class HttpJsonBureau:
    """A bureau reached over HTTPS with JSON: `POST {base}/reports` -> the sandbox's payload.

    Settings: BUREAU_HTTP_BASE_URL, BUREAU_HTTP_API_KEY, BUREAU_HTTP_TIMEOUT (seconds, 5),
    BUREAU_HTTP_RETRIES (2 more attempts), BUREAU_HTTP_BACKOFF (seconds, 0.5, doubled each
    retry). Connection errors, timeouts and 5xx are retried; anything else is final.
    """

    name = "HTTP JSON Bureau"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
    ) -> None:
        self.base_url = str(base_url or getattr(settings, "BUREAU_HTTP_BASE_URL", "")).rstrip("/")
        self.api_key = (
            api_key if api_key is not None else getattr(settings, "BUREAU_HTTP_API_KEY", "")
        )
        self.timeout = (
            timeout if timeout is not None else getattr(settings, "BUREAU_HTTP_TIMEOUT", 5)
        )
        self.retries = (
            retries if retries is not None else getattr(settings, "BUREAU_HTTP_RETRIES", 2)
        )
        self.backoff = (
            backoff if backoff is not None else getattr(settings, "BUREAU_HTTP_BACKOFF", 0.5)
        )
        self.name = getattr(settings, "BUREAU_HTTP_NAME", self.name)

    def pull(self, subject: Subject) -> BureauResult:
        if not self.base_url.startswith(("http://", "https://")):
            raise BureauUnavailable("BUREAU_HTTP_BASE_URL is not configured.")
        body = json.dumps(
            {
                "ssn": subject.ssn,
                "first_name": subject.first_name,
                "last_name": subject.last_name,
                "date_of_birth": subject.date_of_birth.isoformat(),
                "address": {
                    "line1": subject.address_line1,
                    "city": subject.city,
                    "state": subject.state,
                    "postal_code": subject.postal_code,
                },
            }
        ).encode()
        last_error = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(  # noqa: S310 - scheme checked above
                f"{self.base_url}/reports",
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "Authorization": f"Bearer {self.api_key}",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    payload = json.loads(response.read().decode() or "{}")
                return result_from_payload(self.name, payload)
            except urllib.error.HTTPError as exc:
                last_error = f"HTTP {exc.code}"
                if exc.code < 500 and exc.code != 429:
                    raise BureauUnavailable(
                        f"The bureau refused the request ({last_error})."
                    ) from exc
            except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
                last_error = str(exc)
            logger.warning("bureau attempt %s failed: %s", attempt + 1, last_error)
        raise BureauUnavailable(f"The bureau is unavailable ({last_error}).")
