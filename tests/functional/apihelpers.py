"""Shared helpers for the HTTP functional tests."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import STACK, auth

TABLES = [f"{STACK}-{name}" for name in ("main", "links", "visits", "points", "analytics")]
PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.{n}"
ADMIN = auth("acme", "boss", "admin")
ALICE = auth("acme", "alice", "employee")
POINTS = {"unique_visit": 10, "forward": 3, "lead": 50}


def call(api: Any, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": {"Content-Type": "application/json", **(headers or {})}}
    if body is not None:
        kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return getattr(api.http, method.lower())(path, **kwargs)


def body_of(resp: Any) -> Any:
    return json.loads(resp.body or b"null")


def snapshot(client: Any) -> dict[str, list[Any]]:
    """Every item of every table, order-independent: the 'nothing changed' oracle."""
    out: dict[str, list[Any]] = {}
    for table in TABLES:
        items: list[Any] = []
        kwargs: dict[str, Any] = {"TableName": table}
        while True:
            page = client.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        out[table] = sorted(json.dumps(i, sort_keys=True) for i in items)
    return out


def seed(api: Any) -> dict[str, Any]:
    """Tenant acme (alice, bob) with a campaign and alice's wechat link; tenant globex with its own campaign."""
    for emp, team in (("alice", "north"), ("bob", "south")):
        resp = call(api, "PUT", f"/admin/employees/{emp}", ADMIN, {"name": emp.title(), "team": team, "region": "cn"})
        assert resp.status_code == 200, resp.body
    resp = call(
        api,
        "POST",
        "/admin/campaigns",
        ADMIN,
        {"name": "Spring", "destination_url": "https://shop.example.com/spring?ref=x#top", "points": POINTS},
    )
    assert resp.status_code == 201, resp.body
    campaign_id = body_of(resp)["campaign_id"]
    link = body_of(call(api, "POST", f"/campaigns/{campaign_id}/links", ALICE, {"channel": "wechat"}))
    other_admin = auth("globex", "root", "admin")
    call(api, "PUT", "/admin/employees/gina", other_admin, {"name": "Gina", "team": "g", "region": "g"})
    other = body_of(
        call(
            api,
            "POST",
            "/admin/campaigns",
            other_admin,
            {"name": "G", "destination_url": "https://globex.example/", "points": POINTS},
        )
    )
    return {"campaign_id": campaign_id, "code": link["code"], "other_campaign_id": other["campaign_id"]}
