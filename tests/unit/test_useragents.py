"""Bot and preview detection measured on public fixture lists (tests/data/useragents).

Targets (issue 12): crawler recall >= 99%, every named link-preview fetcher detected, no
real browser or in-app browser called a bot. Each test prints its figure (``pytest -s``).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
import yaml
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from ripple.domain.tracking import describe_user_agent
from ripple.domain.useragents import (
    DROPPED_MAINTAINED_PATTERNS,
    GENERIC_SHAPES,
    IN_APP_MARKERS,
    OTHER_AGENTS,
    PREVIEW_FETCHERS,
    is_bot,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "useragents"

# isbot's browsers.yml lists these as browsers; Ripple calls them bots on purpose.
RIPPLE_DISAGREES_WITH_ISBOT = {
    "MozacFetch/49.0.20200702190156": "Firefox for Android's background fetch client (downloads, icons): "
    "no page is shown to a person",
    "Mozilla/5.0 (X11; Linux x86_64) Miniature.io/6.0 AppleWebKit/537.36 (KHTML, like Gecko) QtWebEngine/5.12.4 "
    "Chrome/69.0.3497.128 Safari/537.36": "a website-screenshot service",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amzn-User/0.1) Chrome/119.0.6045.214 "
    "Safari/537.36": "Amazon's assistant fetching for a user, like ChatGPT-User",
}

# What issue 12 found missed; each must now be a bot.
ISSUE_MISSES = (
    "meta-externalfetcher/1.1",
    "Viber",
    "ViberUrlDownloader",
    "Pinterest/0.2 (+http://www.pinterest.com/bot.html)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/56.0.2924.87 Safari/537.36 "
    "Google-PageRenderer Google (+https://developers.google.com/+/web/snippet/)",
    "DingTalkBot-LinkService/1.0 (+https://open-doc.dingtalk.com/microapp/faquestions/ftpfeu)",
    "ELB-HealthChecker/2.0",
    "Amazon-Route53-Health-Check-Service (ref b0eb04d5-cb5e-40e7-839b-558e52fc3f0d; report http://amzn.to/1vsZADi)",
    "Datadog Agent/7.69.2",
    "Mozilla/5.0 (compatible; CloudFlare-AlwaysOnline/1.0; +https://www.cloudflare.com/always-online) "
    "AppleWebKit/534.34",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot",
    "anthropic-ai",
    "GoogleOther",
    "ApacheBench/2.3",
)


@cache
def _isbot(name: str) -> dict[str, list[str]]:
    data: dict[str, list[str]] = yaml.safe_load((DATA / f"isbot-{name}.yml").read_text(encoding="utf-8"))
    return data


@cache
def _monperrus() -> list[str]:
    instances: list[str] = json.loads((DATA / "monperrus-instances.json").read_text(encoding="utf-8"))
    return instances


@cache
def _in_app() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = json.loads((DATA / "in-app-browsers.json").read_text(encoding="utf-8"))
    return rows


def _browsers() -> list[str]:
    """isbot's browsers, less the categories isbot itself marks as bots or as disputed."""
    return sorted(
        {
            ua
            for category, uas in _isbot("browsers").items()
            if not category.startswith(("ZZZ Glitches", "ZZZ Insignificat bots"))
            for ua in uas
        }
    )


def _crawlers() -> list[str]:
    """isbot crawlers plus monperrus instances, minus what isbot also calls a browser (as the issue counted)."""
    listed_as_browser = {ua for uas in _isbot("browsers").values() for ua in uas}
    every = {ua for uas in _isbot("crawlers").values() for ua in uas} | set(_monperrus())
    return sorted(every - listed_as_browser)


def test_fixture_sizes_are_the_ones_measured() -> None:
    """Guards the denominators: an empty or truncated fixture would make every rate trivial."""
    assert len(_crawlers()) == 2582
    assert len(_browsers()) == 522
    assert len(_in_app()) == 370


def test_crawler_recall_is_at_least_99_percent() -> None:
    crawlers = _crawlers()
    missed = [ua for ua in crawlers if not is_bot(ua)]
    recall = 1 - len(missed) / len(crawlers)
    print(f"\ncrawler recall: {recall:.2%} ({len(crawlers) - len(missed)} of {len(crawlers)}); missed: {missed}")
    assert recall >= 0.99


def test_no_real_browser_is_a_bot() -> None:
    browsers = _browsers()
    flagged = [ua for ua in browsers if is_bot(ua) and ua not in RIPPLE_DISAGREES_WITH_ISBOT]
    print(f"\nfalse positives on browsers: {len(flagged)} of {len(browsers)} ({len(flagged) / len(browsers):.2%})")
    assert flagged == []


def test_the_disagreements_with_isbot_are_real_and_deliberate() -> None:
    """Each is in isbot's browser list (so the exception is not dead) and Ripple says bot."""
    listed = set(_browsers())
    for ua in RIPPLE_DISAGREES_WITH_ISBOT:
        assert ua in listed
        assert is_bot(ua)


def test_no_in_app_browser_is_a_bot() -> None:
    rows = _in_app()
    flagged = [r for r in rows if is_bot(r["user_agent"])]
    per_app: dict[str, int] = {}
    for r in rows:
        per_app[r["app"]] = per_app.get(r["app"], 0) + 1
    print(f"\nfalse positives on in-app browsers: {len(flagged)} of {len(rows)}; per app: {per_app}")
    assert flagged == []


@pytest.mark.parametrize("app", IN_APP_MARKERS)
def test_every_in_app_marker_has_fixture_visitors(app: str) -> None:
    """Each in-app rule is exercised by real User-Agents, and every fixture row names its source."""
    marker = re.compile(IN_APP_MARKERS[app])
    matching = [r for r in _in_app() if marker.search(r["user_agent"])]
    assert matching, app
    assert all(r["source"] for r in matching)


def test_preview_fetchers_are_all_detected() -> None:
    uas = [a.example for a in PREVIEW_FETCHERS]
    missed = [ua for ua in uas if not is_bot(ua)]
    print(f"\npreview fetchers detected: {len(uas) - len(missed)} of {len(uas)}")
    assert missed == []


@pytest.mark.parametrize("ua", ISSUE_MISSES)
def test_what_the_issue_found_missed_is_now_a_bot(ua: str) -> None:
    assert is_bot(ua)
    assert describe_user_agent(ua).bot


@pytest.mark.parametrize("agent", PREVIEW_FETCHERS + OTHER_AGENTS, ids=lambda a: f"{a.name}:{a.pattern}")
def test_every_named_entry_is_a_real_user_agent_it_matches(agent: object) -> None:
    """Ripple's own list holds no invented names: each entry's example matches its pattern and,
    when cited from a stored fixture, is in that fixture verbatim."""
    from ripple.domain.useragents import KnownAgent

    assert isinstance(agent, KnownAgent)
    assert re.search(agent.pattern, agent.example, re.IGNORECASE), agent
    assert agent.source
    if "isbot" in agent.source or "monperrus" in agent.source:
        published = {ua for uas in _isbot("crawlers").values() for ua in uas} | set(_monperrus())
        assert agent.example in published, agent.example
    assert is_bot(agent.example)


def test_dropped_maintained_patterns_still_exist_upstream() -> None:
    """A drop the package no longer needs would silently hide nothing; flag it for removal."""
    upstream = {p["pattern"] for p in CRAWLER_USER_AGENTS_DATA}
    assert set(DROPPED_MAINTAINED_PATTERNS) <= upstream


def test_generic_shapes_compile_and_are_not_trivial() -> None:
    for shape in GENERIC_SHAPES:
        rx = re.compile(shape, re.IGNORECASE)
        assert not rx.search(""), shape  # a rule matching everything would pass recall trivially


def test_in_app_browsers_stay_human_even_when_the_shared_list_matches() -> None:
    """The Android build id pattern upstream matches an Instagram visitor; the in-app rule wins."""
    ua = next(r["user_agent"] for r in _in_app() if r["app"] == "wechat")
    assert not is_bot(ua)
    assert is_bot(ua + " wechatdevtools")  # Ripple's named list still applies inside an in-app UA


def test_describe_user_agent_is_cached_per_user_agent() -> None:
    from ripple.domain import tracking

    ua = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0 cache-probe"
    before = tracking._describe_cached.cache_info().hits
    first = describe_user_agent(ua)
    second = describe_user_agent(ua)
    assert first is second
    assert tracking._describe_cached.cache_info().hits == before + 1
    long_ua = "Mozilla/5.0 " + "x" * 600
    assert describe_user_agent(long_ua) == describe_user_agent(long_ua)  # computed, not cached


def test_the_fast_matcher_answers_as_one_alternation_would() -> None:
    """_Patterns (literal index + anchored match + search) is an optimisation only: on every
    fixture User-Agent it agrees with the plain single-regex reading of the same rules."""
    from ripple.domain.useragents import _compiled

    maintained = [p["pattern"] for p in CRAWLER_USER_AGENTS_DATA if p["pattern"] not in DROPPED_MAINTAINED_PATTERNS]
    ours = [a.pattern for a in PREVIEW_FETCHERS + OTHER_AGENTS]
    plain = re.compile(
        "|".join([*(f"(?:{p})" for p in maintained), *(f"(?i:{p})" for p in ours + list(GENERIC_SHAPES))])
    )
    everything = _compiled()[2]
    uas = _crawlers() + _browsers() + [r["user_agent"] for r in _in_app()]
    disagree = [ua for ua in uas if everything.search(ua) != (plain.search(ua) is not None)]
    assert disagree == []
    assert sum(everything.search(ua) for ua in uas) > 2000  # not vacuous: most of them are bots
