"""validation.py: strict client input, 400 / 413 / 422 with the offending field named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ripple.domain.errors import RippleError, ValidationError
from ripple.domain.model import CHANNELS, PointsRules
from ripple.domain.validation import (
    MAX_BODY_BYTES,
    check_id,
    parse_json_body,
    validate_campaign,
    validate_channel,
    validate_destination_url,
    validate_employee,
    validate_limit,
)


def status_of(fn: Any, *args: Any) -> int:
    """Run ``fn`` expecting a client error; return the HTTP status it maps to."""
    with pytest.raises(RippleError) as exc:
        fn(*args)
    return exc.value.status


# --- bodies -----------------------------------------------------------------------------


def test_parse_json_body_ok() -> None:
    assert parse_json_body(b'{"a": 1}') == {"a": 1}
    assert parse_json_body('{"name": "\u5f20\u4e09"}') == {"name": "\u5f20\u4e09"}


@pytest.mark.parametrize("raw", [None, b"", "", b"{", b"{'a': 1}", b"\xff\xfe", b'{"a": }', "[" * 3000 + "]" * 3000])
def test_malformed_json_is_400(raw: bytes | str | None) -> None:
    assert status_of(parse_json_body, raw) == 400


@pytest.mark.parametrize("raw", [b"[]", b"1", b'"s"', b"null"])
def test_json_that_is_not_an_object_is_422(raw: bytes) -> None:
    assert status_of(parse_json_body, raw) == 422


def test_oversize_body_is_413_before_parsing() -> None:
    body = json.dumps({"name": "x" * MAX_BODY_BYTES})
    assert status_of(parse_json_body, body) == 413
    assert status_of(parse_json_body, b"{" * (MAX_BODY_BYTES + 1)) == 413  # too large wins over malformed
    assert parse_json_body(b" " * (MAX_BODY_BYTES - 2) + b"{}") == {}  # exactly at the limit


def test_multibyte_size_counts_bytes_not_characters() -> None:
    text = '{"n": "' + "\u5f20" * (MAX_BODY_BYTES // 3) + '"}'  # fewer chars than the limit, more bytes
    assert len(text) < MAX_BODY_BYTES < len(text.encode())
    assert status_of(parse_json_body, text) == 413


# --- destination URLs -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "http://example.com/path?a=1#frag",
        "https://sub.example.co.jp:8443/x",
        "https://[2001:db8::1]/",
        "HTTPS://EXAMPLE.COM/",
        "https://example.com/" + "a" * (2048 - 20),
    ],
)
def test_valid_destination_urls(url: str) -> None:
    assert validate_destination_url(url) == url


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://例え.jp/パス", "https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9"),
        ("https://Bücher.example/?q=ä#ß", "https://xn--bcher-kva.example/?q=%C3%A4#%C3%9F"),
        ("https://example.com/a b".replace(" ", "\u00e9"), "https://example.com/a%C3%A9b"),
        ('https://example.com/a"b<c>', "https://example.com/a%22b%3Cc%3E"),
        ("https://example.com/%E4%BE%8B?x=%20", "https://example.com/%E4%BE%8B?x=%20"),  # escapes kept
        ("https://[2001:db8::1]:8443/é", "https://[2001:db8::1]:8443/%C3%A9"),
    ],
)
def test_destinations_are_normalised_to_ascii(url: str, normalised: str) -> None:
    assert validate_destination_url(url) == normalised
    assert validate_destination_url(normalised) == normalised  # idempotent


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript://example.com/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "example.com/path",
        "//example.com/protocol-relative",
        "ftp://example.com/file",
        "https://",
        "https://example.com/" + "a" * 2048,  # > 2 KB
        "https://example.com/" + "\u00e9" * 1020,  # > 2 KB in UTF-8 though < 2048 characters
        " https://example.com/",
        "https://example.com/a b",
        "https://example.com/\x00",
        "https://user:pw@example.com/",
        "https://example.com:99999/",
        "https://example.com:port/",
        "https://[::1/",
        "",
    ],
)
def test_invalid_destination_urls_are_422(url: str) -> None:
    assert status_of(validate_destination_url, url) == 422


@pytest.mark.parametrize("value", [None, 42, ["https://example.com"], {"url": "https://example.com"}])
def test_destination_url_wrong_type(value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_destination_url(value)
    assert exc.value.details == {"field": "destination_url"}


# --- campaigns --------------------------------------------------------------------------


def campaign(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "  Spring launch ",
        "destination_url": "https://example.com/spring",
        "points": {"unique_visit": 1, "forward": 2, "lead": 10},
        "starts_at": "2026-03-01T00:00:00+08:00",
        "ends_at": "2026-04-01T00:00:00Z",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def test_validate_campaign_ok_and_defaults() -> None:
    out = validate_campaign(campaign())
    assert out["name"] == "Spring launch"
    assert out["points"] == PointsRules(unique_visit=1, forward=2, lead=10)
    assert out["starts_at"] == 1772294400000  # 2026-02-28T16:00Z
    assert out["ends_at"] - out["starts_at"] == (31 * 24 + 8) * 3600 * 1000
    assert (out["share_param"], out["max_chain_depth"]) == ("rp", 10)
    minimal = validate_campaign(campaign(starts_at=..., ends_at=..., points={}))
    assert (minimal["starts_at"], minimal["ends_at"], minimal["points"]) == (None, None, PointsRules())


def test_validate_campaign_chain_settings() -> None:
    out = validate_campaign(campaign(chain={"share_param": "ref_2", "max_depth": 50}))
    assert (out["share_param"], out["max_chain_depth"]) == ("ref_2", 50)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nmae": "typo"}, None),  # unknown top-level field
        ({"name": ...}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 7}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "a\x07b"}, "name"),
        ({"destination_url": ...}, "destination_url"),
        ({"destination_url": "javascript:alert(1)"}, "destination_url"),
        ({"points": ...}, "points"),
        ({"points": [1]}, "points"),
        ({"points": {"unique_visit": "1"}}, "points.unique_visit"),
        ({"points": {"forward": 1.5}}, "points.forward"),
        ({"points": {"lead": True}}, "points.lead"),
        ({"points": {"lead": -1}}, "points.lead"),
        ({"points": {"lead": 1_000_001}}, "points.lead"),
        ({"points": {"bonus": 1}}, None),
        ({"starts_at": "2026-03-01"}, "starts_at"),  # no offset
        ({"ends_at": 1772294400000}, "ends_at"),
        ({"ends_at": "2026-03-01T00:00:00+08:00"}, "ends_at"),  # == starts_at
        ({"chain": "rp"}, "chain"),
        ({"chain": {"depth": 3}}, None),
        ({"chain": {"share_param": "utm_source"}}, "chain.share_param"),
        ({"chain": {"share_param": "Rp"}}, "chain.share_param"),
        ({"chain": {"share_param": "rp\n"}}, "chain.share_param"),
        ({"chain": {"share_param": "a" * 17}}, "chain.share_param"),
        ({"chain": {"max_depth": 0}}, "chain.max_depth"),
        ({"chain": {"max_depth": 51}}, "chain.max_depth"),
        ({"chain": {"max_depth": True}}, "chain.max_depth"),
    ],
)
def test_validate_campaign_rejects(overrides: dict[str, Any], field: str | None) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_campaign(campaign(**overrides))
    if field is None:
        assert "unknown field" in exc.value.message and exc.value.details["fields"]
    else:
        assert exc.value.details["field"] == field
    assert exc.value.status == 422


def test_unknown_fields_are_all_named() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_employee({"name": "A", "team": "t", "region": "r", "zeta": 1, "alpha": 2})
    assert exc.value.details == {"fields": ["alpha", "zeta"]}


# --- employees, ids, channels, limits ---------------------------------------------------


def test_validate_employee() -> None:
    assert validate_employee({"name": " Li Lei ", "team": "sales-east", "region": "cn.sh"}) == {
        "name": "Li Lei",
        "team": "sales-east",
        "region": "cn.sh",
    }
    with pytest.raises(ValidationError) as exc:
        validate_employee({"name": "A", "team": "sales east", "region": "r"})
    assert exc.value.details == {"field": "team"}
    with pytest.raises(ValidationError):
        validate_employee({"name": "A", "team": "t"})


@pytest.mark.parametrize("value", ["a", "A9", "alice.b_c-d", "x" * 64])
def test_check_id_ok(value: str) -> None:
    assert check_id(value, "employee_id") == value


@pytest.mark.parametrize("value", ["", "-a", ".a", "a b", "a/b", "x" * 65, "alice\n", "\u00e9", 5])
def test_check_id_rejects(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        check_id(value, "employee_id")
    assert exc.value.details == {"field": "employee_id"}


@pytest.mark.parametrize("channel", CHANNELS)
def test_channels_accepted(channel: str) -> None:
    assert validate_channel({"channel": channel}) == channel


@pytest.mark.parametrize("body", [{}, {"channel": "WeChat"}, {"channel": "fax"}, {"channel": 1}, {"channel": None}])
def test_channels_rejected(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_channel(body)
    assert exc.value.details == {"field": "channel"}


def test_channel_unknown_field() -> None:
    with pytest.raises(ValidationError, match="unknown"):
        validate_channel({"channel": "x", "chanel": "x"})


def test_limit_bounds() -> None:
    assert validate_limit(None) == 10
    assert validate_limit(None, default=3) == 3
    assert [validate_limit(v) for v in ("1", "100", "042")] == [1, 100, 42]
    assert validate_limit("500", maximum=500) == 500


@pytest.mark.parametrize("value", ["0", "101", "-1", "+5", "1.0", "", " 5", "ten", "\u00b2", "\u0665"])
def test_limit_rejects(value: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_limit(value)
    assert exc.value.details == {"field": "limit"}
