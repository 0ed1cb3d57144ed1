"""Regulation F / FDCPA in the one pure module (collections_app.contact_rules): the call
window in the borrower's time zone, the 7-in-7 cap, cease-communication, opt-outs, and the
dunning refusals (a dispute pauses everything)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from collections_app import contact_rules as rules

CHICAGO = "America/Chicago"
LA = "America/Los_Angeles"


def _at(hour: int, minute: int = 0, tz: str = CHICAGO) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=ZoneInfo(tz))


def _refusal(**kw):
    args = {
        "channel": "call",
        "at": _at(10),
        "time_zone": CHICAGO,
        "recent_calls": [],
        "cease_communication": False,
        "opted_out": False,
    } | kw
    return rules.outbound_refusal(**args)


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"),
    [(7, 59, False), (8, 0, True), (12, 0, True), (20, 59, True), (21, 0, False), (23, 0, False)],
)
def test_the_call_window_is_8_to_21_local(hour, minute, allowed):
    refusal = _refusal(at=_at(hour, minute))
    assert (refusal is None) is allowed
    if not allowed:
        assert refusal.code == rules.OUTSIDE_WINDOW
        assert "08:00 and 21:00" in refusal.message
        assert CHICAGO in refusal.message


def test_the_window_is_the_borrower_s_time_zone_not_ours():
    # 09:00 in Chicago is 07:00 in Los Angeles: fine for one borrower, too early for the other
    at = _at(9)
    assert _refusal(at=at, time_zone=CHICAGO) is None
    refusal = _refusal(at=at, time_zone=LA)
    assert refusal.code == rules.OUTSIDE_WINDOW
    assert "07:00" in refusal.message


def test_e_mail_and_letters_are_not_held_to_the_window():
    assert _refusal(channel="email", at=_at(23)) is None
    assert _refusal(channel="letter", at=_at(5)) is None
    assert _refusal(channel="sms", at=_at(23)).code == rules.OUTSIDE_WINDOW
    assert _refusal(channel="visit", at=_at(6)).code == rules.OUTSIDE_WINDOW


def test_the_eighth_call_in_seven_days_is_refused():
    at = _at(15)
    seven = [at - timedelta(days=6, hours=1) + timedelta(hours=20 * i) for i in range(7)]
    refusal = _refusal(at=at, recent_calls=seven)
    assert refusal.code == rules.CALL_CAP_REACHED
    assert "7 call attempts" in refusal.message
    # the oldest of the seven leaves the window: the next call is allowed from then
    assert (seven[0] + timedelta(days=7)).astimezone(ZoneInfo(CHICAGO)).strftime(
        "%Y-%m-%d %H:%M"
    ) in refusal.message
    assert _refusal(at=at, recent_calls=seven[1:]) is None  # six: fine
    older = [c - timedelta(days=1) for c in seven]
    assert _refusal(at=at, recent_calls=older) is None  # partly older than 7 days
    assert _refusal(channel="email", at=at, recent_calls=seven) is None  # calls only


def test_cease_communication_and_opt_outs_stop_outbound_contact():
    assert _refusal(cease_communication=True).code == rules.CEASE
    assert _refusal(channel="email", cease_communication=True).code == rules.CEASE
    assert _refusal(opted_out=True).code == rules.OPTED_OUT
    assert "scheduled" in _refusal(cease_communication=True, scheduling=True).message


def test_time_zones_are_iana_names():
    assert rules.time_zone_valid("America/Chicago")
    assert rules.time_zone_valid("Europe/Paris")
    assert rules.time_zone_valid("UTC")
    for bad in ("", "CST", "EST", "CST6CDT", "Mars/Olympus", " America/Chicago", "../etc/passwd"):
        assert not rules.time_zone_valid(bad), bad


def test_dunning_pauses_for_a_dispute_and_honours_cease_and_opt_outs():
    base = {
        "channel": "email",
        "disputed": False,
        "cease_communication": False,
        "required_notice": False,
        "opted_out": False,
        "recipient": "a@example.com",
    }
    assert rules.dunning_refusal(**base) is None
    assert rules.dunning_refusal(**base | {"disputed": True}) == rules.DISPUTED
    assert (
        rules.dunning_refusal(**base | {"disputed": True, "required_notice": True})
        == rules.DISPUTED
    )
    assert rules.dunning_refusal(**base | {"cease_communication": True}) == rules.CEASE
    assert (
        rules.dunning_refusal(**base | {"cease_communication": True, "required_notice": True})
        is None
    )
    assert rules.dunning_refusal(**base | {"opted_out": True}) == rules.OPTED_OUT
    assert rules.dunning_refusal(**base | {"recipient": ""}) == rules.NO_ADDRESS
    assert rules.dunning_refusal(**base | {"channel": "letter", "recipient": ""}) is None
