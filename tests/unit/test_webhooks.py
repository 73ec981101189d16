"""Webhook rules: the signature, the retry schedule and endpoint validation (pure)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from ripple.domain.errors import ValidationError
from ripple.domain.webhooks import (
    BACKOFF_MS,
    EVENT_TYPES,
    MAX_ATTEMPTS,
    is_public_address,
    next_retry_ms,
    sign,
    signature_header,
    validate_endpoint,
    verify,
)

SECRET = "whsec_test"
BODY = b'{"id":"e1","type":"lead.created"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1_700_000_000, BODY) == expected
    assert signature_header(SECRET, 1_700_000_000, BODY) == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize(
    ("secret", "header_ts", "body", "now", "ok"),
    [
        (SECRET, 1000, BODY, 1000, True),
        (SECRET, 1000, BODY, 1300, True),  # within the 5-minute tolerance
        (SECRET, 1000, BODY, 1301, False),  # replayed too late
        ("whsec_other", 1000, BODY, 1000, False),
        (SECRET, 1000, BODY + b" ", 1000, False),  # body changed
    ],
)
def test_verify(secret: str, header_ts: int, body: bytes, now: int, ok: bool) -> None:
    header = signature_header(SECRET, header_ts, BODY)
    assert verify(secret, header, body, now_s=now) is ok


def test_verify_rejects_a_moved_timestamp_and_garbage() -> None:
    header = signature_header(SECRET, 1000, BODY)
    v1 = header.split("v1=")[1]
    assert not verify(SECRET, f"t=1001,v1={v1}", BODY, now_s=1001)
    assert not verify(SECRET, "garbage", BODY, now_s=1000)
    assert not verify(SECRET, "t=x,v1=00", BODY, now_s=1000)


def test_backoff_schedule() -> None:
    minute = 60_000
    assert (minute, 5 * minute, 30 * minute, 120 * minute, 720 * minute) == BACKOFF_MS
    assert [next_retry_ms(n, 0) for n in range(1, MAX_ATTEMPTS + 1)] == [*BACKOFF_MS, None]
    assert next_retry_ms(1, 5_000) == 5_000 + minute
    assert next_retry_ms(0, 0) is None
    assert MAX_ATTEMPTS == 6


def _endpoint(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "events": ["lead.created"], **extra}


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/ripple",
        "https://hooks.example.com:8443/ripple?x=1",
        "https://93.184.216.34/hook",
        "https://[2606:4700:4700::1111]/hook",  # a public IPv6 literal (was refused: "no dot")
        "https://hooks.example.com./hook",  # a fully qualified name with its root dot
    ],
)
def test_public_https_urls_are_accepted_everywhere(url: str) -> None:
    for allow_private in (False, True):
        assert validate_endpoint(_endpoint(url), allow_private=allow_private)["url"] == url


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/hook",
        "https://api.localhost/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://172.16.3.4/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data",  # the instance metadata service
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://printer.local/hook",
        "https://intranet/hook",
        "http://127.0.0.1:9000/hook",
        "https://127.1/hook",
        "https://0x7f.0.0.1/hook",
        "https://0177.0.0.1/hook",
        "https://2130706433/hook",
        "https://0x7f000001/hook",
        "https://localhost./hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:a9fe:a9fe]/hook",
        "https://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
        "https://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
        "https://router.lan/hook",
        "https://1.2.3.4.5/hook",
    ],
)
def test_private_and_loopback_targets_are_refused_outside_local(url: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_endpoint(_endpoint(url), allow_private=False)
    assert err.value.details == {"field": "url"}


def test_local_and_test_stacks_may_use_plain_http_on_loopback_only() -> None:
    assert validate_endpoint(_endpoint("http://127.0.0.1:9000/h"), allow_private=True)["url"].startswith("http://")
    assert validate_endpoint(_endpoint("https://10.0.0.5/h"), allow_private=True)["url"] == "https://10.0.0.5/h"
    with pytest.raises(ValidationError):
        validate_endpoint(_endpoint("http://hooks.example.com/h"), allow_private=True)


@pytest.mark.parametrize(
    "body",
    [
        _endpoint("http://hooks.example.com/h"),
        _endpoint("ftp://hooks.example.com/h"),
        _endpoint("https://user:pw@hooks.example.com/h"),
        _endpoint("https://hooks.example.com:99999/h"),
        _endpoint("https:///nohost"),
        _endpoint("https://hooks.example.com/" + "a" * 2100),
        _endpoint(123),
        {"url": "https://hooks.example.com/h"},
        {"url": "https://hooks.example.com/h", "events": []},
        {"url": "https://hooks.example.com/h", "events": ["lead.deleted"]},
        {"url": "https://hooks.example.com/h", "events": "lead.created"},
        _endpoint("https://hooks.example.com/h", active="yes"),
        _endpoint("https://hooks.example.com/h", rotate_secret=1),
        _endpoint("https://hooks.example.com/h", secret="mine"),
    ],
)
def test_invalid_endpoints(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        validate_endpoint(body, allow_private=True)


def test_valid_endpoint_is_normalised() -> None:
    clean = validate_endpoint(
        {"url": "https://h.example.com/x", "events": [*reversed(EVENT_TYPES), "lead.created"]},
        allow_private=False,
    )
    assert clean == {
        "url": "https://h.example.com/x",
        "events": sorted(EVENT_TYPES),
        "active": True,
        "rotate_secret": False,
    }


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2606:4700:4700::1111", True), ("10.1.2.3", False), ("169.254.1.1", False), ("x", False)],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("example.com", None),
        ("1.example", None),
    ],
)
def test_legacy_ipv4_reads_hosts_as_url_parsers_do(host: str, address: str | None) -> None:
    from ripple.domain.webhooks import legacy_ipv4

    got = legacy_ipv4(host)
    assert (str(got) if got is not None else None) == address


def test_embedded_ipv4_decides_for_ipv6_forms() -> None:
    assert not is_public_address("::ffff:127.0.0.1")
    assert not is_public_address("64:ff9b::a9fe:a9fe")
    assert is_public_address("2606:4700:4700::1111")
    assert is_public_address("::ffff:93.184.216.34")
