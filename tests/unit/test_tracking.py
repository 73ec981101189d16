"""tracking.py: bot detection, the request-time decision, visitor identity and UTM merging."""

from __future__ import annotations

from dataclasses import MISSING, fields
from urllib.parse import parse_qsl, urlsplit

import pytest

from ripple.domain.model import Decision, Link
from ripple.domain.tracking import (
    classify_user_agent,
    decide,
    describe_user_agent,
    identify_visitor,
    is_bot,
    merge_utm,
    sign_visitor_cookie,
    verify_visitor_cookie,
)

SECRET = b"unit-test-visitor-secret"

BOTS = {
    "Googlebot": "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.201 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "facebookexternalhit": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot": "Twitterbot/1.0",
    "LinkedInBot": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp": "WhatsApp/2.23.20.0 A",
    "TelegramBot": "TelegramBot (like TwitterBot)",
    "Discordbot": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "curl": "curl/8.4.0",
    "wget": "Wget/1.21.4",
    "python-requests": "python-requests/2.31.0",
    "Go-http-client/1.1": "Go-http-client/1.1",
    "Go-http-client/2.0": "Go-http-client/2.0",
    "Baiduspider": "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Bytespider": "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 "
    "(compatible; Bytespider; spider-feedback@bytedance.com)",
    "HeadlessChrome": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 "
    "Safari/537.36",
}

BROWSERS = {
    "iPhone Safari": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Android Chrome": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36",
    "WeChat in-app iOS": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x18002831) NetType/WIFI Language/zh_CN",
    "WeChat in-app Android": "Mozilla/5.0 (Linux; Android 13; V2203A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230504 "
    "MMWEBID/1234 MicroMessenger/8.0.37.2380(0x2800253D) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
    "WeCom in-app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 wxwork/4.1.16 MicroMessenger/7.0.1 Language/zh",
    "QQ Browser": "Mozilla/5.0 (Linux; U; Android 12; zh-cn; PGBM10) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/87.0.4280.141 MQQBrowser/13.8 Mobile Safari/537.36",
    "LINE in-app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 Safari Line/13.20.0",
    "Huawei Browser": "Mozilla/5.0 (Linux; Android 10; HarmonyOS; NOH-AN00) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/99.0.4844.88 HuaweiBrowser/14.0.5.300 Mobile Safari/537.36",
    "desktop Chrome": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "desktop Firefox": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
}


# --- bots -------------------------------------------------------------------------------


@pytest.mark.parametrize("ua", BOTS.values(), ids=BOTS.keys())
def test_bots_are_detected(ua: str) -> None:
    assert is_bot(ua)
    assert is_bot(ua.upper())  # case-insensitive
    assert classify_user_agent(ua) == "bot"


@pytest.mark.parametrize("ua", BROWSERS.values(), ids=BROWSERS.keys())
def test_real_browsers_are_not_bots(ua: str) -> None:
    assert not is_bot(ua)


@pytest.mark.parametrize("ua", [None, "", "   ", "\t"])
def test_empty_user_agent_is_a_bot(ua: str | None) -> None:
    assert is_bot(ua)


def test_classify_user_agent() -> None:
    assert classify_user_agent(BROWSERS["WeChat in-app iOS"]) == "wechat"
    assert classify_user_agent(BROWSERS["WeChat in-app Android"]) == "wechat"
    assert classify_user_agent(BROWSERS["iPhone Safari"]) == "mobile"
    assert classify_user_agent(BROWSERS["Android Chrome"]) == "mobile"
    assert classify_user_agent(BROWSERS["desktop Firefox"]) == "desktop"
    assert classify_user_agent("") == "bot"


# --- decide -----------------------------------------------------------------------------

LINK = Link(
    code="abc1234",
    tenant_id="t1",
    campaign_id="c1",
    employee_id="alice",
    channel="wechat",
    destination_url="https://example.com/",
    starts_at=1_000,
)
PHONE = BROWSERS["WeChat in-app iOS"]


def _decide(ua: str | None = PHONE, *, owner: bool = False, active: bool = True, now: int = 5_000) -> Decision:
    return decide(link=LINK, bot=describe_user_agent(ua).bot, is_owner=owner, owner_active=active, now_ms=now)


def test_decide_eligible() -> None:
    assert _decide() is Decision.ELIGIBLE
    assert _decide(now=1_000) is Decision.ELIGIBLE  # starts_at is inclusive


def test_decide_reasons_in_priority_order() -> None:
    assert _decide(BOTS["curl"], owner=True, active=False, now=0) is Decision.BOT
    assert _decide("", owner=True) is Decision.BOT
    assert _decide(owner=True, active=False, now=0) is Decision.OWNER
    assert _decide(active=False, now=0) is Decision.INACTIVE_OWNER
    assert _decide(now=999) is Decision.NOT_STARTED


def test_decide_without_start_is_always_open() -> None:
    link = Link("c", "t1", "c1", "alice", "x", "https://example.com/")
    assert (
        decide(link=link, bot=describe_user_agent(PHONE).bot, is_owner=False, owner_active=True, now_ms=0)
        is Decision.ELIGIBLE
    )


def test_repeat_visits_are_each_eligible_at_request_time() -> None:
    """Uniqueness is the consumer's job (ledger key ``uv#campaign#visitor``), not the redirect's."""
    assert [_decide(now=n) for n in (2_000, 3_000)] == [Decision.ELIGIBLE, Decision.ELIGIBLE]


class _Links:
    def __init__(self, link: Link) -> None:
        self.link = link

    def get(self, code: str) -> Link | None:
        return self.link if code == self.link.code else None


class _Visits:
    def __init__(self) -> None:
        self.recorded: list[object] = []

    def record(self, visit: object) -> None:
        self.recorded.append(visit)


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_head_is_redirected_but_records_nothing(method: str) -> None:
    """HEAD never reaches ``decide``: the service returns before identifying the visitor."""
    from ripple.service.context import Services, Settings
    from ripple.service.redirect import VisitRequest, follow_link, link_cache

    link_cache.clear()
    visits = _Visits()
    # Only the link and visit repositories are on this path; every other collaborator is absent.
    absent = {f.name: None for f in fields(Services) if f.default is MISSING and f.default_factory is MISSING}
    svc = Services(
        **{
            **absent,
            "settings": Settings(public_base_url="https://r.example", visitor_secret=SECRET),
            "links": _Links(LINK),
            "visits": visits,
        },
        clock=lambda: 5_000,
        ids=lambda n: "x" * n,
    )
    req = VisitRequest(
        code=LINK.code, method=method, user_agent=PHONE, client_ip="198.51.100.7", visitor_cookie=None, viewer=None
    )
    out = follow_link(svc, req)
    link_cache.clear()
    assert out.location.startswith("https://example.com/?")
    if method == "HEAD":
        assert (out.visit, out.set_visitor_cookie, visits.recorded) == (None, None, [])
    else:
        assert out.visit is not None and out.visit.decision is Decision.ELIGIBLE
        assert visits.recorded == [out.visit]
        assert out.set_visitor_cookie is not None


# --- visitor identity -------------------------------------------------------------------


def test_cookie_sign_verify_round_trip() -> None:
    cookie = sign_visitor_cookie("abc123", SECRET)
    assert cookie.startswith("abc123.")
    assert verify_visitor_cookie(cookie, SECRET) == "abc123"


@pytest.mark.parametrize(
    "forge",
    [
        lambda c: c[:-1] + ("a" if c[-1] != "a" else "b"),  # signature edited
        lambda c: "abc124" + c[6:],  # visitor id edited, old signature kept
        lambda c: c.split(".")[0],  # signature stripped
        lambda c: c + "x",
        lambda c: "abc-123." + c.split(".")[1],  # non-alphanumeric id
        lambda c: "a" * 81,
        lambda c: "",
    ],
)
def test_tampered_cookie_rejected(forge: object) -> None:
    cookie = sign_visitor_cookie("abc123", SECRET)
    assert verify_visitor_cookie(forge(cookie), SECRET) is None  # type: ignore[operator]


def test_cookie_signed_with_another_secret_rejected() -> None:
    assert verify_visitor_cookie(sign_visitor_cookie("abc123", b"other"), SECRET) is None
    assert verify_visitor_cookie(None, SECRET) is None


def _ident(
    cookie: str | None = None, *, tenant: str = "t1", ip: str = "203.0.113.77", ua: str = PHONE, secret: bytes = SECRET
):
    return identify_visitor(tenant_id=tenant, cookie=cookie, client_ip=ip, user_agent=ua, secret=secret)


def test_cookieless_identity_is_a_salted_hash_without_the_ip() -> None:
    first = _ident()
    assert first.new_cookie
    vid = verify_visitor_cookie(first.cookie_value, SECRET)
    assert vid is not None  # the cookie we set is genuine
    assert "203.0.113.77" not in first.cookie_value + first.visitor_key
    assert first == _ident()  # deterministic for the same IP and UA
    assert _ident(secret=b"another salt").visitor_key != first.visitor_key  # salted
    assert _ident(ip="203.0.113.78").visitor_key != first.visitor_key
    assert _ident(ua=BROWSERS["Android Chrome"]).visitor_key != first.visitor_key


def test_cookie_set_on_first_visit_identifies_the_same_visitor_later() -> None:
    first = _ident()
    later = _ident(first.cookie_value, ip="192.0.2.1")  # moved networks, same browser
    assert later.visitor_key == first.visitor_key
    assert not later.new_cookie
    assert later.cookie_value == first.cookie_value


def test_forged_cookie_is_ignored_not_minted_into_a_visitor() -> None:
    first = _ident()
    forged = _ident(sign_visitor_cookie("farm42", b"guessed-secret"))
    assert forged.new_cookie
    assert forged.visitor_key == first.visitor_key  # falls back to the IP+UA hash
    forged2 = _ident(sign_visitor_cookie("farm43", b"guessed-secret"))
    assert forged2.visitor_key == first.visitor_key  # inventing cookies mints no new visitors


def test_visitor_key_is_tenant_scoped() -> None:
    cookie = _ident().cookie_value
    assert _ident(cookie, tenant="t1").visitor_key != _ident(cookie, tenant="t2").visitor_key


# --- merge_utm --------------------------------------------------------------------------


def _q(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def test_merge_utm_keeps_query_and_fragment() -> None:
    out = merge_utm("https://shop.example:8443/p/1?ref=home&q=a+b&empty=#reviews", channel="wechat", campaign_id="c1")
    parts = urlsplit(out)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == ("https", "shop.example:8443", "/p/1", "reviews")
    assert _q(out) == [
        ("ref", "home"),
        ("q", "a b"),
        ("empty", ""),
        ("utm_source", "wechat"),
        ("utm_medium", "ripple"),
        ("utm_campaign", "c1"),
    ]


def test_merge_utm_overrides_existing_utm_and_keeps_other_params() -> None:
    url = "https://example.com/?utm_source=newsletter&utm_campaign=old&utm_content=hero&id=9&utm_source=dup"
    out = merge_utm(url, channel="line", campaign_id="spring")
    q = _q(out)
    assert dict(q) == {
        "utm_content": "hero",
        "id": "9",
        "utm_source": "line",
        "utm_medium": "ripple",
        "utm_campaign": "spring",
    }
    assert [k for k, _ in q].count("utm_source") == 1


def test_merge_utm_without_query_and_with_extra() -> None:
    out = merge_utm("https://example.com/landing", channel="x", campaign_id="c9", extra={"rp": "tok.1.abc", "x": "y"})
    assert out.startswith("https://example.com/landing?")
    assert dict(_q(out)) == {
        "utm_source": "x",
        "utm_medium": "ripple",
        "utm_campaign": "c9",
        "rp": "tok.1.abc",
        "x": "y",
    }


def test_merge_utm_extra_replaces_a_stale_share_token() -> None:
    out = merge_utm("https://example.com/?rp=old&a=1", channel="x", campaign_id="c", extra={"rp": "new"})
    assert [v for k, v in _q(out) if k == "rp"] == ["new"]
    assert ("a", "1") in _q(out)
