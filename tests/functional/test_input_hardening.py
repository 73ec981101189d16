"""Issue 12, bad input that still broke things: each case reproduces the original bug.

* a destination with a non-ASCII host or path was accepted, then the redirect died with an
  empty reply (a ``Location`` header is ASCII only) while the visit was recorded and paid;
* a lone surrogate in any JSON string gave a 500 (as a key: no response at all);
* a 5,000-digit integer gave a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from moto import mock_aws

from tests.conftest import STACK
from tests.functional.apihelpers import ADMIN, ALICE, PHONE_UA, POINTS, body_of, call, seed, snapshot

SURROGATE_VALUE = '{"name": "x\\ud800", "team": "t", "region": "r"}'
SURROGATE_KEY = '{"name": "x", "team": "t", "region": "r", "\\udc00": 1}'
HUGE_INT = '{"name": "X", "destination_url": "https://x.example/", "points": {"unique_visit": ' + "9" * 5000 + "}}"


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    from chalice.test import Client

    from app import app
    from infra.tables import create_tables
    from ripple import bootstrap

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, STACK)
        bootstrap.reset()
        api = Client(app)
        yield api, client, seed(api)
        bootstrap.reset()


def _campaign(api: Any, url: str) -> Any:
    return call(api, "POST", "/admin/campaigns", ADMIN, {"name": "Intl", "destination_url": url, "points": POINTS})


def _visits(client: Any) -> int:
    return len(client.scan(TableName=f"{STACK}-visits")["Items"])


def test_international_destination_is_stored_as_ascii_and_redirects(world: Any) -> None:
    api, client, _ = world
    resp = _campaign(api, "https://例え.jp/パス?q=値#章")
    assert resp.status_code == 201, resp.body
    stored = body_of(resp)["destination_url"]
    assert stored == "https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9?q=%E5%80%A4#%E7%AB%A0"
    link = body_of(call(api, "POST", f"/campaigns/{body_of(resp)['campaign_id']}/links", ALICE, {"channel": "email"}))
    before = _visits(client)
    got = call(api, "GET", f"/{link['code']}", {"User-Agent": PHONE_UA.format(n=1)})
    assert got.status_code == 302
    location = got.headers["Location"]
    location.encode("ascii")  # what the HTTP server must be able to send
    assert urlsplit(location).hostname == "xn--r8jz45g.jp" and urlsplit(location).path == "/%E3%83%91%E3%82%B9"
    assert _visits(client) == before + 1


def test_normalising_is_idempotent(world: Any) -> None:
    api, _, _ = world
    once = body_of(_campaign(api, "https://例え.jp/パス"))["destination_url"]
    assert body_of(_campaign(api, once))["destination_url"] == once


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://example.com/a\u2028b", id="U+2028"),
        pytest.param("https://example.com/a\u2029b", id="U+2029"),
        pytest.param("https://example.com/\u202egnp.exe", id="bidi-override"),
        pytest.param("https://exa\u200bmple.com/", id="zero-width-space"),
        pytest.param("https://example.com/\u3000", id="ideographic-space"),
        pytest.param("https://example.com/%zz", id="bad-percent-escape"),
        pytest.param("https://xn--zz.com/", id="invalid-a-label"),
    ],
)
def test_destinations_that_cannot_be_made_safe_are_422_and_write_nothing(world: Any, url: str) -> None:
    api, client, _ = world
    before = snapshot(client)
    resp = _campaign(api, url)
    assert resp.status_code == 422, resp.body
    assert body_of(resp)["error"]["details"]["field"] == "destination_url"
    assert snapshot(client) == before


def test_a_stored_raw_destination_is_normalised_or_refused_before_the_visit_is_recorded(world: Any) -> None:
    """Links written before destinations were normalised: redirected safely, or refused
    (410) with no visit recorded — never an empty reply after a recorded, paid visit."""
    api, client, seeded = world
    for channel, raw, status in (
        ("line", "https://例え.jp/パス", 302),
        ("weibo", "https://example.com/a\u2028b", 410),
    ):
        link = body_of(call(api, "POST", f"/campaigns/{seeded['campaign_id']}/links", ALICE, {"channel": channel}))
        client.update_item(
            TableName=f"{STACK}-links",
            Key={"code": {"S": link["code"]}},
            UpdateExpression="SET destination_url = :d",
            ExpressionAttributeValues={":d": {"S": raw}},
        )
        before = _visits(client)
        got = call(api, "GET", f"/{link['code']}", {"User-Agent": PHONE_UA.format(n=2)})
        assert got.status_code == status, got.body
        if status == 302:
            got.headers["Location"].encode("ascii")
            assert _visits(client) == before + 1
        else:
            assert _visits(client) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param("PUT", "/admin/employees/zed", SURROGATE_VALUE, id="surrogate-value"),
        pytest.param("PUT", "/admin/employees/zed", SURROGATE_KEY, id="surrogate-key"),
        pytest.param("POST", "/admin/campaigns", HUGE_INT, id="5000-digit-int"),
        pytest.param("POST", "/admin/campaigns", '{"name": "x", "points": {"lead": 1e999}}', id="overflowing-float"),
        pytest.param("POST", "/admin/campaigns", '{"name": NaN}', id="NaN"),
        pytest.param("POST", "/leads", '{"token": "t", "name": "\\ud83d", "consent": true}', id="lead-surrogate"),
        pytest.param("POST", "/leads", '{"token": "t", "\\ud800": "x"}', id="lead-surrogate-key"),
        pytest.param("PUT", "/admin/tenant", '{"name": "Acme", "x": ' + "1" * 5000 + "}", id="tenant-huge-int"),
    ],
)
def test_json_that_no_field_can_hold_is_422_not_500(world: Any, method: str, path: str, body: str) -> None:
    api, client, _ = world
    before = snapshot(client)
    headers = {**ADMIN} if path.startswith("/admin") else {"User-Agent": PHONE_UA.format(n=3)}
    resp = call(api, method, path, headers, body)
    assert resp.status_code == 422, resp.body
    error = body_of(resp)["error"]
    assert error["code"] and "request body contains" in error["message"]
    resp.body.decode("utf-8")  # the error itself is valid UTF-8 (the surrogate is not echoed)
    assert snapshot(client) == before
