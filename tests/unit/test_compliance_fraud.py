"""Compliance wording checks, the landing page's disclosure line, and the anti-fraud rules."""

from __future__ import annotations

import pytest

from ripple.domain.compliance import check_campaign, find_induced_sharing
from ripple.domain.errors import ValidationError
from ripple.domain.fraud import FraudSignal, is_burst, rings, withhold, withhold_velocity
from ripple.domain.landing import landing_from_dict, landing_to_dict, validate_landing
from ripple.domain.model import LedgerEntry
from ripple.web.landing_page import render_landing_page


@pytest.mark.parametrize(
    "text",
    [
        "转发朋友圈有奖",
        "分享给好友即可领取红包",
        "轉發抽獎",
        "シェアでプレゼントが当たる",
        "Share this post to win",
        "Retweet for a chance",
    ],
)
def test_asking_to_share_for_a_reward_is_caught(text: str) -> None:
    assert find_induced_sharing(text)


@pytest.mark.parametrize(
    "text", ["分享心得", "欢迎分享给朋友", "春季新品发布", "Share with a friend who needs it", "新品を見る"]
)
def test_ordinary_copy_passes(text: str) -> None:
    assert find_induced_sharing(text) is None


def test_check_campaign_names_the_field_and_rule() -> None:
    landing = {"copy": {"zh-Hant": {"title": "新品", "body": "轉發抽獎", "cta": "Go"}}}
    with pytest.raises(ValidationError) as err:
        check_campaign("Spring", landing)
    assert err.value.details["field"] == "landing.copy.zh-Hant.body"
    assert err.value.details["rule"] == "induced-sharing"
    check_campaign("Spring", {"copy": {"en": {"title": "Spring", "body": "Come and see"}}})


def test_disclosure_line_is_stored_escaped_and_rendered() -> None:
    landing = validate_landing({"copy": {"en": {"title": "T", "disclosure": "Shared by an Acme employee <b>"}}})
    stored = landing_to_dict(landing)
    assert stored["copy"]["en"]["disclosure"] == "Shared by an Acme employee <b>"
    html = render_landing_page(
        landing_from_dict(stored),
        "en",
        share_url="https://x.example/s/t",
        leads_url="https://x.example/leads",
        share_token="t",
        nonce="abcdefghijklmnopqrstuv",
        campaign_name="C",
    )
    assert '<p class="disc">Shared by an Acme employee &lt;b&gt;</p>' in html
    with pytest.raises(ValidationError):
        validate_landing({"copy": {"en": {"title": "T", "disclosure": "x" * 301}}})


def _entry(key: str, ts: int, emp: str = "a", points: int = 10, kind: str = "unique_visit") -> LedgerEntry:
    return LedgerEntry("t", key, emp, kind, points, ts, campaign_id="c", source_id=f"v{key}")


def test_velocity_withholds_beyond_the_hourly_limit_in_time_order() -> None:
    entries = [_entry(f"k{i}", 1000 + i) for i in range(5)]
    out, signals = withhold_velocity(list(reversed(entries)), {("t", "a", "unique_visit"): 1}, {"t": 3})
    paid = {e.source_key: e.points for e in out}
    assert paid == {"k0": 10, "k1": 10, "k2": 0, "k3": 0, "k4": 0}
    assert [s.kind for s in signals] == ["velocity"] * 3
    same, none = withhold_velocity(entries, {}, {"t": None})
    assert same == entries and none == []


def test_withheld_entries_keep_their_key_and_say_why() -> None:
    e = withhold(_entry("uv#c#x", 1), "burst")
    assert e.source_key == "uv#c#x" and e.points == 0 and e.meta == {"withheld": "burst", "withheld_points": "10"}
    assert is_burst(3, 3) and not is_burst(2, 3) and not is_burst(10, None)


def test_rings_need_clicks_both_ways() -> None:
    def click(clicker: str, owner: str, n: int) -> list[FraudSignal]:
        return [FraudSignal("t", "employee_click", f"{clicker}{owner}{i}", i, owner, clicker=clicker) for i in range(n)]

    signals = click("a", "b", 3) + click("b", "a", 2) + click("c", "a", 5) + click("d", "e", 2) + click("e", "d", 1)
    assert rings(signals) == [{"employees": ["a", "b"], "clicks": {"a->b": 3, "b->a": 2}, "total": 5}]
    assert rings(signals, min_each_way=1)[1]["employees"] == ["d", "e"]
