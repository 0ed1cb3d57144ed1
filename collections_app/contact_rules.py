"""Regulation F (12 CFR 1006) and FDCPA limits on contacting a borrower: the one place they
are written. Pure: no ORM, no settings; the callers (the contact and follow-up services,
hence the staff page and the API, and close of business's dunning) read the facts and ask
here. A refusal carries a code and a sentence the collector can act on.

- 1006.6(b)(1)(i): no communication at a time the collector should know is inconvenient:
  before 08:00 or after 21:00 in the borrower's local time. Calls, text messages and
  visits are held to it (e-mail and letters are read when the borrower chooses).
- 1006.14(b)(2): more than 7 call attempts within 7 consecutive days is harassment: the
  eighth outbound call to a loan within 7 days is refused.
- FDCPA 805(c): after the borrower asks in writing to cease communication, nothing
  outbound but the notices the law requires.
- The borrower's per-channel opt-outs (1006.6(e) for electronic ones) are honoured.
- FDCPA 809(b): while the debt is disputed, collection (dunning) pauses until resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WINDOW_START = time(8, 0)
WINDOW_END = time(21, 0)
CALL_CAP = 7  # call attempts
CAP_PERIOD = timedelta(days=7)
WINDOW_CHANNELS = frozenset({"call", "sms", "visit"})  # held to the 08:00-21:00 window
DEFAULT_TIME_ZONE = "America/New_York"

# refusal codes
CEASE = "cease_communication"
OPTED_OUT = "opted_out"
OUTSIDE_WINDOW = "outside_call_window"
CALL_CAP_REACHED = "call_cap_reached"
DISPUTED = "disputed"
NO_ADDRESS = "no_address"


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def time_zone_valid(name: str) -> bool:
    """Whether `name` is an IANA time zone of a place (`America/Chicago`), or UTC; not a
    legacy abbreviation (`EST`, `CST6CDT`): those say nothing of where the borrower is."""
    if not name or name != name.strip() or name not in available_timezones():
        return False
    if "/" not in name and name != "UTC":
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local_time(at: datetime, time_zone: str) -> datetime:
    """`at` (aware) in the borrower's time zone."""
    return at.astimezone(ZoneInfo(time_zone))


def in_window(at: datetime, time_zone: str) -> bool:
    """Whether `at` falls between 08:00 and 21:00 in `time_zone` (21:00 itself is late)."""
    clock = local_time(at, time_zone).time()
    return WINDOW_START <= clock < WINDOW_END


def calls_within_cap(at: datetime, calls: Sequence[datetime]) -> list[datetime]:
    """The outbound calls of `calls` in the 7 days up to `at`."""
    return sorted(c for c in calls if at - CAP_PERIOD < c <= at)


def next_call_from(at: datetime, calls: Sequence[datetime]) -> datetime | None:
    """When the cap is reached at `at`: the moment the oldest of the last 7 calls leaves the
    7-day window (the next call allowed), else None."""
    within = calls_within_cap(at, calls)
    if len(within) < CALL_CAP:
        return None
    return within[-CALL_CAP] + CAP_PERIOD


def outbound_refusal(
    *,
    channel: str,
    at: datetime,
    time_zone: str,
    recent_calls: Sequence[datetime],
    cease_communication: bool,
    opted_out: bool,
    scheduling: bool = False,
) -> Refusal | None:
    """Why an outbound contact on `channel` at `at` is not allowed, or None.

    `recent_calls`: the loan's outbound calls (any case) around `at`; `opted_out`: the
    borrower opted out of `channel`; `scheduling`: a follow-up planned for `at`."""
    verb = "scheduled" if scheduling else "made"
    if cease_communication:
        return Refusal(
            CEASE,
            "The borrower asked us in writing to cease communication (FDCPA 805(c)): no "
            f"outbound contact may be {verb}, only the notices the law requires.",
        )
    if opted_out:
        return Refusal(
            OPTED_OUT,
            f"The borrower opted out of {channel} contact (their contact preferences): "
            "use another channel.",
        )
    if channel in WINDOW_CHANNELS and not in_window(at, time_zone):
        local = local_time(at, time_zone)
        return Refusal(
            OUTSIDE_WINDOW,
            f"It is {local:%H:%M} on {local:%Y-%m-%d} in the borrower's time zone "
            f"({time_zone}): a {channel} may only be {verb} between 08:00 and 21:00 their "
            "time (Regulation F, 12 CFR 1006.6(b)(1)).",
        )
    if channel == "call":
        allowed_from = next_call_from(at, recent_calls)
        if allowed_from is not None:
            within = calls_within_cap(at, recent_calls)
            local = local_time(allowed_from, time_zone)
            return Refusal(
                CALL_CAP_REACHED,
                f"This loan already had {len(within)} call attempts in the 7 days up to this "
                f"one: an eighth is refused (Regulation F, 12 CFR 1006.14(b): at most "
                f"{CALL_CAP} calls in 7 days). The next call is allowed from "
                f"{local:%Y-%m-%d %H:%M} ({time_zone}).",
            )
    return None


def dunning_refusal(
    *,
    channel: str,
    disputed: bool,
    cease_communication: bool,
    required_notice: bool,
    opted_out: bool,
    recipient: str,
) -> str | None:
    """Why close of business must not send a dunning notice, as a code, or None."""
    if disputed:
        return DISPUTED
    if cease_communication and not required_notice:
        return CEASE
    if opted_out:
        return OPTED_OUT
    if channel != "letter" and not recipient:
        return NO_ADDRESS
    return None


REASON_TEXT = {
    DISPUTED: "the debt is disputed: dunning pauses until the dispute is resolved",
    CEASE: "the borrower asked to cease communication",
    OPTED_OUT: "the borrower opted out of this channel",
    NO_ADDRESS: "no e-mail address or phone number on file",
}
