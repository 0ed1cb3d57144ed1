"""URL path converters of the project.

`<id:name>`: a row's id in a path, a whole number from 0 to 2**63 - 1 (a database's bigint).
Django's `<int:...>` takes any length of digits and hands the database a number it cannot
bind (an OverflowError, a 500); a larger number here does not match, so the URL is a 404 like
any id that names nothing.
"""

from __future__ import annotations

from lendcore.core.external_ids import PATTERN as EXTERNAL_ID_PATTERN

MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("beyond a bigint")  # no match: 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)


class ExternalIdConverter:
    """`<extid:name>`: an integrator's own id (`lendcore.core.external_ids`); anything else
    does not match (404)."""

    regex = EXTERNAL_ID_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
