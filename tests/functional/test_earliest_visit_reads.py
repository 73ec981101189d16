"""The earliest-visit rule asks the ledger before it asks the visits table.

A visitor's unique visit belongs to their earliest eligible visit; proving there is none
earlier costs a Query of the ``by-visitor`` index. A key already paid needs no Query: the
stored entry names the visit that earned it, so a repeat visit (another visit id) yields
nothing and a redelivery of the paying visit is reported as a duplicate, as before.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import STACK, auth

ADMIN = auth("acme", "boss", "admin")
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 v{n}"


def _call(client: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"headers": {"Content-Type": "application/json", **headers}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    resp = getattr(client.http, method.lower())(path, **kwargs)
    return resp.status_code, json.loads(resp.body or b"null")


def _visit_queries(log: Any) -> int:
    return sum(1 for c in log.dynamodb() if c.operation == "Query" and c.params.get("TableName") == f"{STACK}-visits")


def test_paid_visitors_cost_no_query(env: tuple[Any, Any]) -> None:
    from bench.calls import recording

    client, poller = env
    _call(client, "PUT", "/admin/employees/ann", ADMIN, {"name": "Ann", "team": "t", "region": "r"})
    status, campaign = _call(
        client,
        "POST",
        "/admin/campaigns",
        ADMIN,
        {"name": "c", "destination_url": "https://e.example/", "points": {"unique_visit": 10}},
    )
    assert status == 201, campaign
    points = 10
    ann = auth("acme", "ann", "employee")
    code = _call(client, "POST", f"/campaigns/{campaign['campaign_id']}/links", ann, {"channel": "x"})[1]["code"]

    def balance() -> int:
        return int(_call(client, "GET", "/me", ann)[1]["points"]["balance"])

    for n in range(3):
        assert client.http.get(f"/{code}", headers={"User-Agent": UA.format(n=n)}).status_code == 302
    with recording() as first:
        assert poller.drain() == 3
    assert _visit_queries(first) == 3  # three new visitors: the index must be asked
    assert balance() == 3 * points

    for n in range(3):  # the same three come back
        client.http.get(f"/{code}", headers={"User-Agent": UA.format(n=n)})
    with recording() as repeat:
        assert poller.drain() == 3
    assert _visit_queries(repeat) == 0
    assert balance() == 3 * points

    poller.reset()  # replay the whole stream from TRIM_HORIZON
    with recording() as replay:
        assert poller.drain() == 6
    assert _visit_queries(replay) == 0
    assert balance() == 3 * points
