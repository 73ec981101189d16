"""Every bad input a client can send gets a clear JSON 4xx and changes nothing in any table."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws

from tests.conftest import STACK, auth
from tests.functional.apihelpers import ADMIN, ALICE, PHONE_UA, POINTS, body_of, call, seed, snapshot


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """One seeded moto world for the read-only bad-input matrix: each of those tests
    proves it changed nothing, so sharing the world is safe and keeps the suite fast."""
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


# ------------------------------------------------------------------ auth


def _forged(**claims: Any) -> dict[str, str]:
    """A pool-signed ID token with some claims changed (None removes one)."""
    from infra.moto_tokens import id_token

    return {"Authorization": "Bearer " + id_token("acme", "alice", "employee", **claims)}


def _hs256(**claims: Any) -> dict[str, str]:
    """The pre-Cognito local token format, signed with the old dev secret: no way in."""
    now = int(time.time())
    base = {"sub": "alice", "tenant": "acme", "role": "admin", "iat": now, "exp": now + 60, "iss": "ripple-local"}
    base.update(claims)
    from ripple.config import DEV_SECRET

    return {"Authorization": "Bearer " + jwt.encode(base, DEV_SECRET, algorithm="HS256")}


BAD_AUTH = [
    pytest.param({}, id="missing"),
    pytest.param({"Authorization": "Basic YWxpY2U6eA=="}, id="basic-scheme"),
    pytest.param({"Authorization": "Bearer "}, id="empty-bearer"),
    pytest.param({"Authorization": "Bearer not.a.jwt"}, id="garbage"),
    pytest.param({"Authorization": "Bearer " + "x" * 5000}, id="oversize"),
    pytest.param(_hs256(), id="hs256-dev-secret"),
    pytest.param(_forged(exp=int(time.time()) - 10), id="expired"),
    pytest.param(_forged(**{"custom:tenant": None}), id="no-tenant"),
    pytest.param(_forged(**{"custom:tenant": "ac#me"}), id="bad-tenant-charset"),
    pytest.param(_forged(iss="someone-else"), id="wrong-issuer"),
    pytest.param(_forged(aud="another-client"), id="wrong-audience"),
    pytest.param(_forged(token_use="access"), id="access-token"),
]

# (method, path template, body); {campaign} is replaced by the seeded campaign id
ROUTES = [
    ("PUT", "/admin/employees/zed", {"name": "Z", "team": "t", "region": "r"}),
    ("POST", "/admin/campaigns", {"name": "X", "destination_url": "https://x.example/", "points": POINTS}),
    ("GET", "/admin/tenant", None),
    ("PUT", "/admin/tenant", {"name": "Acme"}),
    ("GET", "/campaigns/{campaign}", None),
    ("POST", "/campaigns/{campaign}/links", {"channel": "email"}),
    ("GET", "/campaigns/{campaign}/chains?root=alice", None),
    ("GET", "/me", None),
    ("GET", "/leaderboards", None),
    ("POST", "/admin/employees/bob/offboard", {"to": "pool"}),
    ("GET", "/customers", None),
    ("GET", "/customers/cuXXXX", None),
    ("PATCH", "/customers/cuXXXX", {"status": "won"}),
    ("POST", "/customers/cuXXXX/notes", {"text": "hi"}),
    ("GET", "/lead-pool", None),
    ("POST", "/lead-pool/cuXXXX/claim", None),
    ("GET", "/analytics/summary", None),
    ("GET", "/analytics/timeseries", None),
    ("GET", "/analytics/breakdown?by=channel", None),
    ("GET", "/analytics/segments", None),
]


@pytest.mark.parametrize("headers", BAD_AUTH)
@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_bad_auth_is_401_and_writes_nothing(
    shared: Any, headers: dict[str, str], method: str, path: str, body: Any
) -> None:
    api, aws, seeded = shared
    before = snapshot(aws)
    resp = call(api, method, path.format(campaign=seeded["campaign_id"]), headers, body)
    assert resp.status_code == 401, resp.body
    assert body_of(resp)["error"]["code"]
    assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert snapshot(aws) == before


WRONG_ROLE = [
    ("PUT", "/admin/employees/zed", {"name": "Z", "team": "t", "region": "r"}, "employee"),
    ("POST", "/admin/campaigns", {"name": "X", "destination_url": "https://x.example/", "points": POINTS}, "employee"),
    ("GET", "/admin/tenant", None, "employee"),
    ("PUT", "/admin/tenant", {"name": "Evil"}, "employee"),
    ("POST", "/campaigns/{campaign}/links", {"channel": "email"}, "admin"),
    ("GET", "/me", None, "admin"),
    ("POST", "/admin/employees/bob/offboard", {"to": "pool"}, "employee"),
    ("PUT", "/admin/tenant", {"recycle_after_days": 1}, "employee"),
    ("POST", "/lead-pool/cuXXXX/claim", None, "admin"),
    ("GET", "/analytics/summary?employee=bob", None, "employee"),
    ("GET", "/analytics/breakdown?by=channel&employee=bob", None, "employee"),
    ("GET", "/analytics/segments?employee=bob", None, "employee"),
    ("PUT", "/admin/tenant", {"segments": {"medium": 4}}, "employee"),
]


@pytest.mark.parametrize(("method", "path", "body", "role"), WRONG_ROLE, ids=[f"{m} {p}" for m, p, *_ in WRONG_ROLE])
def test_wrong_role_is_403_and_writes_nothing(shared: Any, method: str, path: str, body: Any, role: str) -> None:
    api, aws, seeded = shared
    before = snapshot(aws)
    resp = call(api, method, path.format(campaign=seeded["campaign_id"]), auth("acme", "alice", role), body)
    assert resp.status_code == 403, resp.body
    assert snapshot(aws) == before


def test_unregistered_employee_cannot_get_links(shared: Any) -> None:
    api, aws, seeded = shared
    before = snapshot(aws)
    resp = call(
        api, "POST", f"/campaigns/{seeded['campaign_id']}/links", auth("acme", "ghost", "employee"), {"channel": "x"}
    )
    assert resp.status_code == 403
    assert snapshot(aws) == before


# ------------------------------------------------------------------ tenant isolation


@pytest.mark.parametrize(
    ("method", "path", "body", "role"),
    [
        ("GET", "/campaigns/{other}", None, "employee"),
        ("POST", "/campaigns/{other}/links", {"channel": "wechat"}, "employee"),
        ("GET", "/campaigns/{other}/chains?root=alice", None, "admin"),
        ("GET", "/leaderboards?campaign_id={other}", None, "employee"),
        ("GET", "/analytics/summary?campaign={other}", None, "admin"),
        ("GET", "/analytics/breakdown?by=team&campaign={other}", None, "employee"),
        ("GET", "/analytics/summary?employee=gina", None, "admin"),
    ],
)
def test_other_tenants_ids_are_404(shared: Any, method: str, path: str, body: Any, role: str) -> None:
    api, aws, seeded = shared
    before = snapshot(aws)
    resp = call(api, method, path.format(other=seeded["other_campaign_id"]), auth("acme", "alice", role), body)
    assert resp.status_code == 404, resp.body
    assert snapshot(aws) == before


def test_admin_of_one_tenant_sees_only_its_own_tenant(shared: Any) -> None:
    api, _aws, _seeded = shared
    board = body_of(call(api, "GET", "/leaderboards?dimension=team", auth("globex", "root", "admin")))
    assert board == {"entries": []}
    ghost = call(api, "GET", "/me", auth("globex", "alice", "employee"))
    assert ghost.status_code == 403


# ------------------------------------------------------------------ bodies

GOOD_CAMPAIGN = {"name": "X", "destination_url": "https://x.example/", "points": POINTS}
BAD_CAMPAIGNS = [
    pytest.param("{", 400, id="malformed-json"),
    pytest.param("[1, 2]", 422, id="json-array"),
    pytest.param('"text"', 422, id="json-string"),
    pytest.param("", 400, id="empty"),
    pytest.param(b"\xff\xfe\x00", 400, id="not-utf8"),
    pytest.param(json.dumps({**GOOD_CAMPAIGN, "pad": "x" * 20_000}), 413, id="oversize"),
    pytest.param({**GOOD_CAMPAIGN, "owner": "me"}, 422, id="unknown-field"),
    pytest.param({k: v for k, v in GOOD_CAMPAIGN.items() if k != "name"}, 422, id="missing-name"),
    pytest.param({**GOOD_CAMPAIGN, "name": 5}, 422, id="name-not-string"),
    pytest.param({**GOOD_CAMPAIGN, "name": "x" * 10_000}, 422, id="name-too-long"),
    pytest.param({**GOOD_CAMPAIGN, "destination_url": "javascript:alert(1)"}, 422, id="javascript-url"),
    pytest.param({**GOOD_CAMPAIGN, "destination_url": "data:text/html,hi"}, 422, id="data-url"),
    pytest.param({**GOOD_CAMPAIGN, "destination_url": "/relative/path"}, 422, id="relative-url"),
    pytest.param({**GOOD_CAMPAIGN, "destination_url": "ftp://x.example/"}, 422, id="ftp-url"),
    pytest.param({**GOOD_CAMPAIGN, "destination_url": "https://x.example/" + "a" * 2100}, 422, id="url-over-2kb"),
    pytest.param({**GOOD_CAMPAIGN, "destination_url": ["https://x.example/"]}, 422, id="url-not-string"),
    pytest.param({**GOOD_CAMPAIGN, "points": {"unique_visit": "10", "forward": 1, "lead": 1}}, 422, id="points-str"),
    pytest.param({**GOOD_CAMPAIGN, "points": {"unique_visit": 1.5, "forward": 1, "lead": 1}}, 422, id="points-float"),
    pytest.param({**GOOD_CAMPAIGN, "points": {"unique_visit": True, "forward": 1, "lead": 1}}, 422, id="points-bool"),
    pytest.param({**GOOD_CAMPAIGN, "points": {"unique_visit": -1, "forward": 1, "lead": 1}}, 422, id="points-neg"),
    pytest.param({**GOOD_CAMPAIGN, "points": {**POINTS, "bonus": 1}}, 422, id="points-unknown-key"),
    pytest.param({**GOOD_CAMPAIGN, "points": [1, 2, 3]}, 422, id="points-not-object"),
    pytest.param({**GOOD_CAMPAIGN, "starts_at": "yesterday"}, 422, id="bad-starts-at"),
    pytest.param(
        {**GOOD_CAMPAIGN, "starts_at": "2026-05-02T00:00:00Z", "ends_at": "2026-05-01T00:00:00Z"},
        422,
        id="ends-before-starts",
    ),
]


@pytest.mark.parametrize(("payload", "status"), BAD_CAMPAIGNS)
def test_bad_campaign_bodies(shared: Any, payload: Any, status: int) -> None:
    api, aws, _seeded = shared
    before = snapshot(aws)
    resp = call(api, "POST", "/admin/campaigns", ADMIN, payload)
    assert resp.status_code == status, resp.body
    error = body_of(resp)["error"]
    assert error["code"] and error["message"]
    assert snapshot(aws) == before


BAD_EMPLOYEES = [
    pytest.param("/admin/employees/e9", "{oops", 400, id="malformed"),
    pytest.param("/admin/employees/e9", {"name": "N", "team": "t"}, 422, id="missing-region"),
    pytest.param("/admin/employees/e9", {"name": "N", "team": "t", "region": "r", "password": "x"}, 422, id="unknown"),
    pytest.param("/admin/employees/e9", {"name": "N", "team": "t", "region": "r", "role": "root"}, 422, id="bad-role"),
    pytest.param(
        "/admin/employees/e9", {"name": "N", "team": "t", "region": "r", "email": "nope"}, 422, id="bad-email"
    ),
    pytest.param("/admin/employees/e9", {"name": "N", "team": "t", "region": "r", "email": 7}, 422, id="email-int"),
    pytest.param("/admin/employees/e9", {"name": ["N"], "team": "t", "region": "r"}, 422, id="name-list"),
    pytest.param("/admin/employees/e9", {"name": "", "team": "t", "region": "r"}, 422, id="name-empty"),
    pytest.param("/admin/employees/e9", {"name": "N" * 10_000, "team": "t", "region": "r"}, 422, id="name-10k"),
    pytest.param("/admin/employees/e9", {"name": "N", "team": None, "region": "r"}, 422, id="team-null"),
    pytest.param("/admin/employees/" + "e" * 200, {"name": "N", "team": "t", "region": "r"}, 422, id="id-too-long"),
    pytest.param("/admin/employees/bad%20id", {"name": "N", "team": "t", "region": "r"}, 422, id="id-space"),
    pytest.param("/admin/employees/a%23b", {"name": "N", "team": "t", "region": "r"}, 422, id="id-hash"),
]


@pytest.mark.parametrize(("path", "payload", "status"), BAD_EMPLOYEES)
def test_bad_employee_bodies(shared: Any, path: str, payload: Any, status: int) -> None:
    api, aws, _seeded = shared
    before = snapshot(aws)
    resp = call(api, "PUT", path, ADMIN, payload)
    assert resp.status_code == status, resp.body
    assert body_of(resp)["error"]["message"]
    assert snapshot(aws) == before


BAD_LINKS = [
    pytest.param("{", 400, id="malformed"),
    pytest.param({}, 422, id="missing-channel"),
    pytest.param({"channel": "myspace"}, 422, id="unknown-channel"),
    pytest.param({"channel": 3}, 422, id="channel-int"),
    pytest.param({"channel": "wechat", "code": "mine"}, 422, id="unknown-field"),
    pytest.param(json.dumps({"channel": "wechat", "x": "y" * 20_000}), 413, id="oversize"),
]


@pytest.mark.parametrize(("payload", "status"), BAD_LINKS)
def test_bad_link_bodies(shared: Any, payload: Any, status: int) -> None:
    api, aws, seeded = shared
    before = snapshot(aws)
    resp = call(api, "POST", f"/campaigns/{seeded['campaign_id']}/links", ALICE, payload)
    assert resp.status_code == status, resp.body
    assert snapshot(aws) == before


def test_link_for_unknown_campaign_is_404(shared: Any) -> None:
    api, aws, _seeded = shared
    before = snapshot(aws)
    resp = call(api, "POST", "/campaigns/cnope/links", ALICE, {"channel": "wechat"})
    assert resp.status_code == 404
    assert snapshot(aws) == before


BAD_TENANT = [
    pytest.param({"timezone": "Mars/Olympus"}, 422, id="bad-tz"),
    pytest.param({"timezone": 8}, 422, id="tz-int"),
    pytest.param({"currency": "CNY"}, 422, id="unknown"),
    pytest.param("nope", 400, id="malformed"),
]


@pytest.mark.parametrize(("payload", "status"), BAD_TENANT)
def test_bad_tenant_bodies(shared: Any, payload: Any, status: int) -> None:
    api, aws, _seeded = shared
    before = snapshot(aws)
    resp = call(api, "PUT", "/admin/tenant", ADMIN, payload)
    assert resp.status_code == status, resp.body
    assert snapshot(aws) == before


BAD_BOARDS = [
    "dimension=planet",
    "period=2026-13-01",
    "period=2026-W54",
    "period=2026-02-30",
    "period=last-week",
    "limit=0",
    "limit=101",
    "limit=ten",
    "limit=-5",
    "sort=asc",
    "campaign_id=" + "c" * 200,
]


@pytest.mark.parametrize("query", BAD_BOARDS)
def test_bad_leaderboard_queries(shared: Any, query: str) -> None:
    api, aws, _seeded = shared
    before = snapshot(aws)
    resp = call(api, "GET", f"/leaderboards?{query}", ALICE)
    assert resp.status_code in (400, 422), resp.body
    assert body_of(resp)["error"]["message"]
    assert snapshot(aws) == before


@pytest.mark.parametrize(
    "path",
    [
        "/" + "a" * 300,
        "/s/not-a-token",
        "/s/" + "x" * 2000,
        "/%00%01",
    ],
)
def test_bad_public_paths_are_4xx_not_500(shared: Any, path: str) -> None:
    api, aws, _seeded = shared
    before = snapshot(aws)
    resp = api.http.get(path, headers={"User-Agent": PHONE_UA.format(n=9)})
    assert resp.status_code == 404, resp.body
    assert snapshot(aws) == before


BAD_CUSTOMER_CALLS = [
    pytest.param("POST", "/admin/employees/bob/offboard", {}, 422, id="offboard-no-target"),
    pytest.param("POST", "/admin/employees/bob/offboard", {"to": "bob"}, 422, id="offboard-to-self"),
    pytest.param("POST", "/admin/employees/bob/offboard", {"to": "ghost"}, 404, id="offboard-to-unknown"),
    pytest.param("POST", "/admin/employees/ghost/offboard", {"to": "pool"}, 404, id="offboard-unknown"),
    pytest.param("POST", "/admin/employees/bob/offboard", {"to": "pool", "x": 1}, 422, id="offboard-unknown-field"),
    pytest.param("POST", "/admin/employees/bob/offboard", {"to": 5}, 422, id="offboard-to-int"),
    pytest.param("GET", "/customers?status=happy", None, 422, id="list-bad-status"),
    pytest.param("GET", "/customers?limit=1000", None, 422, id="list-bad-limit"),
    pytest.param("GET", "/customers?cursor=%%%", None, 422, id="list-bad-cursor"),
    pytest.param("GET", "/customers?cursor=" + "x" * 3000, None, 422, id="list-huge-cursor"),
    pytest.param("GET", "/customers?sort=name", None, 422, id="list-unknown-param"),
    pytest.param("GET", "/customers/cu-nope", None, 404, id="get-unknown"),
    pytest.param("GET", "/customers/" + "c" * 100, None, 422, id="get-bad-id"),
    pytest.param("PATCH", "/customers/cunope", {"status": "won"}, 404, id="patch-unknown"),
    pytest.param("POST", "/customers/cunope/notes", {"text": "x"}, 404, id="note-unknown"),
    pytest.param("GET", "/lead-pool?limit=0", None, 422, id="pool-bad-limit"),
    pytest.param("PUT", "/admin/tenant", {"attribution": {"mode": "random"}}, 422, id="tenant-bad-attribution"),
    pytest.param("PUT", "/admin/tenant", {"attribution": {"mode": "first_touch", "days": 0}}, 422, id="tenant-days-0"),
    pytest.param("PUT", "/admin/tenant", {"recycle_after_days": "7"}, 422, id="tenant-recycle-str"),
    pytest.param("PUT", "/admin/tenant", {"phone_region": "China"}, 422, id="tenant-bad-region"),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), BAD_CUSTOMER_CALLS)
def test_bad_customer_calls(shared: Any, method: str, path: str, body: Any, status: int) -> None:
    api, aws, _ = shared
    before = snapshot(aws)
    resp = call(api, method, path, ADMIN, body)
    assert resp.status_code == status, resp.body
    assert body_of(resp)["error"]["message"]
    assert snapshot(aws) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        pytest.param("GET", "/customers?owner=alice", None, 403, id="employee-lists-others"),
        pytest.param("POST", "/lead-pool/cunope/claim", None, 404, id="claim-unknown"),
        pytest.param("PATCH", "/customers/cunope", {"status": "won", "extra": 1}, 404, id="patch-unknown-first-404"),
    ],
)
def test_bad_employee_customer_calls(shared: Any, method: str, path: str, body: Any, status: int) -> None:
    api, aws, _ = shared
    before = snapshot(aws)
    resp = call(api, method, path, auth("acme", "bob", "employee"), body)
    assert resp.status_code == status, resp.body
    assert snapshot(aws) == before


BAD_ANALYTICS = [
    "/analytics/summary?from=2026-1-1",
    "/analytics/summary?from=2026-02-30",
    "/analytics/summary?from=2026-03-02&to=2026-03-01",
    "/analytics/summary?from=2020-01-01&to=2026-01-01",
    "/analytics/summary?to=tomorrow",
    "/analytics/summary?to=0001-01-05",
    "/analytics/summary?from=0001-01-01&to=0001-01-02",
    "/analytics/timeseries?from=9999-12-30&to=9999-12-31",
    "/analytics/summary?campaign=" + "c" * 200,
    "/analytics/summary?employee=../bob",
    "/analytics/summary?colour=red",
    "/analytics/timeseries?by=channel",
    "/analytics/breakdown",
    "/analytics/breakdown?by=planet",
    "/analytics/breakdown?by=channel&limit=0",
    "/analytics/breakdown?by=channel&limit=1001",
    "/analytics/breakdown?by=channel&limit=ten",
    "/analytics/breakdown?by=campaign&campaign={campaign}",
    "/analytics/breakdown?by=team&employee=alice",
    "/analytics/segments?from=2026-01-01",
    "/analytics/segments?limit=-1",
]


@pytest.mark.parametrize("path", BAD_ANALYTICS)
def test_bad_analytics_queries(shared: Any, path: str) -> None:
    api, aws, seeded = shared
    before = snapshot(aws)
    resp = call(api, "GET", path.format(campaign=seeded["campaign_id"]), ADMIN)
    assert resp.status_code in (400, 422), resp.body
    assert body_of(resp)["error"]["message"]
    assert snapshot(aws) == before


@pytest.mark.parametrize(
    "segments",
    [
        {"medium": 1},
        {"medium": 10, "heavy": 10},
        {"heavy": 3},  # below the current medium (3)
        {"window_days": 0},
        {"window_days": "30"},
        {"reach_days": True},
        {"colour": 1},
        {},
        [1, 2],
    ],
)
def test_bad_segment_settings(shared: Any, segments: Any) -> None:
    api, aws, _seeded = shared
    before = snapshot(aws)
    resp = call(api, "PUT", "/admin/tenant", ADMIN, {"segments": segments})
    assert resp.status_code == 422, resp.body
    assert snapshot(aws) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/leaderboards?period=9999-12-31", None),
        ("GET", "/leaderboards?period=0001-W01", None),
        ("GET", "/settlements/9999-12", None),
        ("GET", "/settlements/9999-W52", None),
        ("POST", "/admin/exports", {"kind": "leads", "from": "9999-12-31", "to": "9999-12-31"}),
        ("POST", "/admin/exports", {"kind": "ledger", "from": "0001-01-01", "to": "0001-01-01"}),
        (
            "POST",
            "/admin/campaigns",
            {**GOOD_CAMPAIGN, "starts_at": "0001-01-01T00:00:00Z", "ends_at": "9999-12-31T23:59:59-14:00"},
        ),
    ],
)
def test_dates_at_the_edges_of_the_calendar_are_422_not_500(shared: Any, method: str, path: str, body: Any) -> None:
    """Years a date library can hold but no period of ours can: a clear 422, nothing written."""
    api, aws, _seeded = shared
    before = snapshot(aws)
    resp = call(api, method, path, ADMIN, body)
    assert resp.status_code == 422, resp.body
    assert snapshot(aws) == before


def _admin_routes() -> list[tuple[str, str, str]]:
    """(method, path, first accepted media type) of every route declared ``role=Role.ADMIN``."""
    from app import app
    from ripple.api.routing import route_spec
    from ripple.domain.model import Role

    out = []
    for path, entries in app.routes.items():
        for method, entry in entries.items():
            spec = route_spec(entry.view_function)
            if spec is not None and spec.role is Role.ADMIN:
                out.append((method, path, entry.content_types[0]))
    return sorted(out)


ADMIN_ROUTES = _admin_routes()


def test_the_admin_route_list_is_not_vacuous() -> None:
    paths = {p for _, p, _ in ADMIN_ROUTES}
    assert {"/admin/tenant", "/admin/employees/{employee_id}", "/admin/employees/import"} <= paths
    assert all(p.startswith("/admin/") for p in paths)


@pytest.mark.parametrize(("method", "path", "media_type"), ADMIN_ROUTES, ids=[f"{m} {p}" for m, p, _ in ADMIN_ROUTES])
def test_every_admin_route_refuses_an_employee_before_it_reads_anything(
    shared: Any, method: str, path: str, media_type: str
) -> None:
    """Declared on the route (``role=Role.ADMIN``): an active employee gets 403 whatever the
    body and the ids, and no table changes."""
    api, aws, _ = shared
    before = snapshot(aws)
    concrete = path.replace("{", "x").replace("}", "1")
    resp = call(api, method, concrete, {**ALICE, "Content-Type": media_type}, "{}")
    assert resp.status_code == 403, (method, path, resp.body)
    assert body_of(resp)["error"]["code"] == "forbidden"
    assert snapshot(aws) == before
