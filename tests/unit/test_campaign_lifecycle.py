"""The lifecycle rules of a campaign, pure (ripple.domain.campaigns)."""

from __future__ import annotations

import pytest

from ripple.domain import campaigns as rules
from ripple.domain.errors import ConflictError, ValidationError
from ripple.domain.model import Campaign, Link, PointsRules, RulesVersion

NOW = 1_800_000_000_000
HOUR = 3_600_000


def _campaign(**extra: object) -> Campaign:
    points = PointsRules(5, 1, 20)
    base: dict[str, object] = {
        "tenant_id": "acme",
        "campaign_id": "c1",
        "name": "Spring",
        "destination_url": "https://shop.example/",
        "points": points,
        "rules_history": (RulesVersion(1, 0, points),),
    }
    return Campaign(**{**base, **extra})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, "active"),
        ({"starts_at": NOW + HOUR}, "scheduled"),
        ({"ends_at": NOW}, "ended"),
        ({"ends_at": NOW - 1, "archived_at": NOW}, "archived"),
        ({"starts_at": NOW - HOUR, "ends_at": NOW + HOUR}, "active"),
    ],
)
def test_status(extra: dict[str, object], expected: str) -> None:
    assert rules.status(_campaign(**extra), NOW) == expected


def test_only_destination_and_window_edits_reach_the_links() -> None:
    renamed, moves = rules.edited(_campaign(), {"name": "Summer"}, NOW)
    assert (renamed.name, moves, renamed.links_cursor, renamed.links_revision) == ("Summer", False, None, 0)
    moved, moves = rules.edited(_campaign(), {"ends_at": NOW + HOUR}, NOW)
    assert (moves, moved.links_cursor, moved.links_revision) == (True, "", 1)
    same, moves = rules.edited(_campaign(), {"destination_url": "https://shop.example/"}, NOW)
    assert moves is False and same.links_cursor is None


def test_an_edit_keeps_the_campaign_valid() -> None:
    with pytest.raises(ValidationError, match="destination_url or a hosted landing page"):
        rules.edited(_campaign(landing={"x": 1}, destination_url=""), {"landing": None}, NOW)
    with pytest.raises(ValidationError, match="ends_at must be after starts_at"):
        rules.edited(_campaign(starts_at=NOW), {"ends_at": NOW - 1}, NOW)
    with pytest.raises(ConflictError, match="archived"):
        rules.edited(_campaign(ends_at=NOW - 1, archived_at=NOW), {"name": "X"}, NOW)


def test_end_now() -> None:
    ended = rules.ended_now(_campaign(starts_at=NOW - HOUR, ends_at=NOW + HOUR), NOW)
    assert (ended.starts_at, ended.ends_at, ended.links_cursor, ended.links_revision) == (NOW - HOUR, NOW, "", 1)
    early = rules.ended_now(_campaign(starts_at=NOW + HOUR), NOW)  # never started: no window left to keep
    assert (early.starts_at, early.ends_at) == (None, NOW)
    with pytest.raises(ConflictError):
        rules.ended_now(_campaign(ends_at=NOW - 1), NOW)


def test_archive_needs_an_end_and_unarchive_needs_an_archive() -> None:
    with pytest.raises(ConflictError, match="end it first"):
        rules.archived(_campaign(), NOW)
    done = rules.archived(_campaign(ends_at=NOW - 1), NOW)
    assert done.archived_at == NOW and rules.status(done, NOW) == "archived"
    with pytest.raises(ConflictError, match="already archived"):
        rules.archived(done, NOW)
    assert rules.unarchived(done).archived_at is None
    with pytest.raises(ConflictError):
        rules.unarchived(_campaign())


def test_a_duplicate_starts_afresh_with_the_newest_rules() -> None:
    newest = PointsRules(9, 2, 40)
    original = _campaign(
        ends_at=NOW - 1,
        archived_at=NOW,
        points=newest,
        rules_history=(RulesVersion(1, 0, PointsRules(5, 1, 20)), RulesVersion(2, NOW - HOUR, newest)),
        share_param="via",
        max_chain_depth=3,
        links_revision=4,
    )
    copy = rules.duplicated(original, campaign_id="c2", now=NOW, by="boss", changes={"name": None})
    assert (copy.campaign_id, copy.name, copy.created_by, copy.created_at) == ("c2", "Spring (copy)", "boss", NOW)
    assert copy.rules_history == (RulesVersion(1, 0, newest),) and copy.points == newest
    assert (copy.share_param, copy.max_chain_depth) == ("via", 3)
    assert (copy.starts_at, copy.ends_at, copy.archived_at, copy.links_revision) == (None, None, None, 0)
    long = rules.duplicated(_campaign(name="x" * 200), campaign_id="c3", now=NOW, by="b", changes={})
    assert len(long.name) == 200 and long.name.endswith(" (copy)")


def test_a_link_is_current_when_it_carries_the_destination_and_window() -> None:
    campaign = _campaign(ends_at=NOW)
    link = Link("k1", "acme", "c1", "alice", "line", "https://shop.example/", ends_at=NOW)
    assert rules.link_is_current(link, campaign)
    assert not rules.link_is_current(link, _campaign())
