"""The pure notification rules: preferences, quiet hours across midnight and DST, the single
send decision, rendering (escaped, no header injection) and the unsubscribe token."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ripple.domain.errors import ValidationError
from ripple.domain.notifications import (
    KINDS,
    LANGUAGES,
    Preferences,
    decide,
    hour_window,
    quiet_until,
    read_unsubscribe_token,
    render,
    summary_due,
    top_names,
    unsubscribe_token,
    validate_notification_settings,
    validate_preferences,
)

KEY = b"k" * 32


def ms(text: str, zone: str = "UTC") -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp() * 1000)


def test_defaults_want_every_kind_by_email() -> None:
    prefs = Preferences()
    assert all(prefs.wants(k, "email") for k in KINDS)
    assert not prefs.wants("task.assigned", "push")
    assert prefs.to_public()["quiet_hours"] is None


def test_partial_update_changes_only_what_is_given() -> None:
    prefs = validate_preferences({"email": {"task.due": False}}, Preferences())
    prefs = validate_preferences({"quiet_hours": {"start": "22:00", "end": "07:30"}}, prefs)
    assert not prefs.wants("task.due", "email") and prefs.wants("task.assigned", "email")
    assert prefs.to_public()["quiet_hours"] == {"start": "22:00", "end": "07:30"}
    assert validate_preferences({"quiet_hours": None}, prefs).quiet_start is None


@pytest.mark.parametrize(
    "body",
    [
        {"email": {"task.nope": True}},
        {"email": {"task.due": 1}},
        {"email": []},
        {"quiet_hours": {"start": "24:00", "end": "07:00"}},
        {"quiet_hours": {"start": "7:00", "end": "08:00"}},
        {"quiet_hours": {"start": "\uff10\uff17:\uff10\uff10", "end": "08:00"}},  # fullwidth digits
        {"quiet_hours": {"start": "08:00", "end": "08:00"}},
        {"quiet_hours": {"start": "08:00"}},
        {"timezone": "Mars/Olympus"},
        {"timezone": ""},
        {"language": "fr"},
        {"sms": True},
    ],
)
def test_bad_preferences_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        validate_preferences(body, Preferences())


def test_quiet_window_wrapping_midnight_ends_next_morning_in_the_employees_zone() -> None:
    prefs = Preferences(quiet_start=22 * 60, quiet_end=8 * 60, timezone="Asia/Tokyo")
    late = ms("2026-12-03T23:30:00", "Asia/Tokyo")
    assert quiet_until(prefs, "UTC", late) == ms("2026-12-04T08:00:00", "Asia/Tokyo")
    early = ms("2026-12-04T06:00:00", "Asia/Tokyo")
    assert quiet_until(prefs, "UTC", early) == ms("2026-12-04T08:00:00", "Asia/Tokyo")
    assert quiet_until(prefs, "UTC", ms("2026-12-04T12:00:00", "Asia/Tokyo")) is None
    # no zone of their own: the tenant's
    tenant_zone = Preferences(quiet_start=22 * 60, quiet_end=8 * 60)
    assert quiet_until(tenant_zone, "Europe/Berlin", ms("2026-12-03T23:00:00", "Europe/Berlin")) is not None


def test_quiet_end_in_a_dst_gap_is_never_in_the_past() -> None:
    # 2026-03-08 02:30 does not exist in New York
    prefs = Preferences(quiet_start=1 * 60, quiet_end=2 * 60 + 30, timezone="America/New_York")
    now = ms("2026-03-08T01:59:00", "America/New_York")
    assert quiet_until(prefs, "UTC", now) is not None
    assert quiet_until(prefs, "UTC", now) > now  # type: ignore[operator]


def test_decide_is_the_single_place() -> None:
    base = {
        "kind": "task.assigned",
        "channel": "email",
        "active": True,
        "has_address": True,
        "tenant_enabled": True,
        "prefs": Preferences(),
        "zone": "UTC",
        "now_ms": ms("2026-12-03T12:00:00"),
    }
    assert decide(**base).action == "send"  # type: ignore[arg-type]
    assert decide(**{**base, "active": False}).reason == "offboarded"  # type: ignore[arg-type]
    assert decide(**{**base, "tenant_enabled": False}).reason == "channel_off"  # type: ignore[arg-type]
    off = Preferences(email=frozenset())
    assert decide(**{**base, "prefs": off}).reason == "preference"  # type: ignore[arg-type]
    assert decide(**{**base, "has_address": False}).reason == "no_address"  # type: ignore[arg-type]
    quiet = Preferences(quiet_start=11 * 60, quiet_end=13 * 60)
    later = decide(**{**base, "prefs": quiet})  # type: ignore[arg-type]
    assert (later.action, later.at) == ("later", ms("2026-12-03T13:00:00"))


def test_hour_window() -> None:
    now = ms("2026-12-03T12:34:56")
    assert hour_window(now) == (ms("2026-12-03T12:00:00"), ms("2026-12-03T13:00:00"))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_every_language(kind: str, lang: str) -> None:
    data = {"title": "<script>x</script>", "name": "Bai", "reward": "Mug", "hours": 24, "task_id": "t1"}
    out = render(
        kind, lang, data, url="https://r.example/m#/task/t1", unsubscribe_url="https://r.example/u?t=a", company="Acme"
    )
    assert out.subject and "\n" not in out.subject
    assert "https://r.example/m#/task/t1" in out.text and "https://r.example/u?t=a" in out.text
    assert "<script>" not in out.html and f'lang="{lang}"' in out.html


def test_subject_cannot_carry_a_header() -> None:
    out = render("task.assigned", "en", {"title": "x\r\nBcc: all@corp"}, url="u", unsubscribe_url="v", company="")
    assert "\r" not in out.subject and "\n" not in out.subject


def test_unsubscribe_token_round_trip_and_forgery() -> None:
    token = unsubscribe_token(KEY, "acme", "alice", "task.due")
    assert read_unsubscribe_token(KEY, token) == ("acme", "alice", "task.due")
    assert read_unsubscribe_token(KEY, unsubscribe_token(KEY, "acme", "alice", "*"))[2] == "*"
    head, mac = token.split(".")
    forged_head = unsubscribe_token(b"other", "acme", "bob", "task.due").split(".")[0]
    for bad in (f"{forged_head}.{mac}", f"{head}.AAAA", head, "", "a.b.c", None, 5, "x" * 500):
        with pytest.raises(ValidationError):
            read_unsubscribe_token(KEY, bad)
    with pytest.raises(ValidationError):
        read_unsubscribe_token(b"another key", token)


def test_tenant_settings() -> None:
    assert validate_notification_settings({}, {}) == {"email": True, "from_name": "", "due_hours": 24}
    assert validate_notification_settings({"due_hours": 48}, {"email": False})["email"] is False
    for bad in ({"due_hours": True}, {"due_hours": 0}, {"due_hours": 10_000}, {"from_name": "<a>"}, {"x": 1}):
        with pytest.raises(ValidationError):
            validate_notification_settings(bad, {})


def test_digest_is_due_on_monday_from_nine_local_for_the_week_before() -> None:
    from ripple.domain.notifications import digest_due

    # Monday 2026-12-07 09:00 in Tokyo is Monday 00:00 UTC
    assert digest_due("Asia/Tokyo", ms("2026-12-07T09:00:00", "Asia/Tokyo")) == "2026-W49"
    assert digest_due("Asia/Tokyo", ms("2026-12-07T08:59:00", "Asia/Tokyo")) is None
    assert digest_due("Asia/Tokyo", ms("2026-12-07T23:59:00", "Asia/Tokyo")) == "2026-W49"
    assert digest_due("UTC", ms("2026-12-07T00:30:00")) is None  # Tokyo's Monday 09:30, UTC's 00:30
    assert digest_due("UTC", ms("2026-12-08T10:00:00")) is None  # Tuesday
    assert digest_due("UTC", ms("2027-01-04T09:00:00")) == "2026-W53"  # the year's last ISO week


def test_rank_of_counts_ties_as_one_place() -> None:
    from ripple.domain.notifications import rank_of

    rows = [("a", 9), ("b", 7), ("c", 7), ("d", 3)]
    assert rank_of(rows, "a") == (1, 9)
    assert rank_of(rows, "c") == (2, 7)
    assert rank_of(rows, "d") == (4, 3)
    assert rank_of(rows, "z") == (None, 0)


def test_summary_is_due_every_day_from_eight_local_for_the_day_before() -> None:
    assert summary_due("Asia/Tokyo", ms("2026-03-10T07:59", "Asia/Tokyo")) is None
    assert summary_due("Asia/Tokyo", ms("2026-03-10T08:00", "Asia/Tokyo")) == "2026-03-09"
    assert summary_due("Asia/Tokyo", ms("2026-03-10T23:59", "Asia/Tokyo")) == "2026-03-09"
    # 2026-03-01 08:30 in Tokyo is still 28 February in UTC: the tenant's day decides
    assert summary_due("Asia/Tokyo", ms("2026-03-01T08:30", "Asia/Tokyo")) == "2026-02-28"
    assert summary_due("UTC", ms("2026-03-01T08:30", "Asia/Tokyo")) == "2026-02-27"  # 23:30 on the 28th in UTC
    # the first of January names the last day of the year before
    assert summary_due("Europe/Berlin", ms("2027-01-01T09:00", "Europe/Berlin")) == "2026-12-31"


def test_top_names_orders_by_score_then_id_and_skips_zero_rows() -> None:
    rows = [("bob", 5), ("alice", 9), ("carol", 5), ("dave", 0), ("erin", 1)]
    names = {"alice": "Alice Wang", "bob": "Bob <b>"}
    assert top_names(rows, names) == "Alice Wang (9), Bob <b> (5), carol (5)"
    assert top_names([("dave", 0)], names) == ""
    assert top_names(rows, names, n=1) == "Alice Wang (9)"


def test_day_bounds_follow_the_zone_and_its_clock_changes() -> None:
    from ripple.domain.timeutil import day_bounds_ms

    start, end = day_bounds_ms("2026-03-29", "Europe/Berlin")  # summer time begins: 23 hours
    assert (start, end - start) == (ms("2026-03-29T00:00", "Europe/Berlin"), 23 * 3_600_000)
    start, end = day_bounds_ms("2026-10-25", "Europe/Berlin")  # and ends: 25 hours
    assert end - start == 25 * 3_600_000
    assert day_bounds_ms("2026-02-28", "UTC") == (ms("2026-02-28T00:00"), ms("2026-03-01T00:00"))


def test_the_summary_escapes_names_in_html() -> None:
    data = {"day": "2026-03-09", "visits": 3, "leads": 0, "top": "Bob <b> (5)"}
    out = render(
        "summary.daily", "en", data, url="https://r.example/console#/dashboard", unsubscribe_url="u", company="Acme"
    )
    assert out.subject == "Program 2026-03-09: 3 visits, 0 leads"
    assert "Bob &lt;b&gt; (5)" in out.html and "<b>" not in out.html
    assert "Top: Bob <b> (5)" in out.text
