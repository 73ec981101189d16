"""Forward chains end to end in-process: redirect tokens -> stream consumer -> tree and points."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import auth

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.{n}"


def _json(client: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    fn = getattr(client.http, method)
    kwargs: dict[str, Any] = {"headers": {**headers, "Content-Type": "application/json"}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    resp = fn(path, **kwargs)
    return resp.status_code, json.loads(resp.body or b"null")


def _visit(client: Any, path: str, n: int) -> str:
    """Visit as a distinct person n; return the child token the redirect handed them."""
    resp = client.http.get(path, headers={"User-Agent": UA.format(n=n)})
    assert resp.status_code == 302, resp.body
    return parse_qs(urlsplit(resp.headers["Location"]).query)["rp"][0]


def test_a_b_c_d_e_chain(env: Any) -> None:
    client, poller = env
    admin = auth("acme", "boss", "admin")
    assert _json(client, "put", "/admin/employees/alice", admin, {"name": "A", "team": "t1", "region": "r1"})[0] == 200
    status, campaign = _json(
        client,
        "post",
        "/admin/campaigns",
        admin,
        {
            "name": "C",
            "destination_url": "https://example.com/p",
            "points": {"unique_visit": 10, "forward": 3, "lead": 0},
        },
    )
    assert status == 201
    cid = campaign["campaign_id"]
    alice = auth("acme", "alice", "employee")
    code = _json(client, "post", f"/campaigns/{cid}/links", alice, {"channel": "wechat"})[1]["code"]

    tok_b = _visit(client, f"/{code}", 1)  # B opens A's link
    tok_c = _visit(client, f"/{code}?rp={tok_b}", 2)  # C opens B's token
    tok_d = _visit(client, f"/s/{tok_b}", 3)  # D opens B's token via the /s/ form
    _visit(client, f"/{code}?rp={tok_d}", 4)  # E opens D's token
    _visit(client, f"/{code}?rp={tok_c}", 2)  # C again through their own token: nothing new
    _visit(client, f"/{code}?rp={tok_b[:-2]}xx", 5)  # tampered token: plain visit to A (F)
    poller.drain()

    status, me = _json(client, "get", "/me", alice)
    # 5 unique visitors (B, C, D, E, F) x 10 + 3 forwards (C, D, E) x 3
    assert me["points"]["balance"] == 5 * 10 + 3 * 3

    status, tree = _json(client, "get", f"/campaigns/{cid}/chains", alice)
    assert status == 200, tree
    by_depth: dict[int, list[dict[str, Any]]] = {}
    for node in tree["nodes"]:
        by_depth.setdefault(node["depth"], []).append(node)
    assert sorted(len(v) for v in by_depth.values()) == [1, 2, 2] and sorted(by_depth) == [1, 2, 3]
    assert tree["root"]["visitors"] == 2  # B and F arrived straight from A's link
    node_b = next(n for n in by_depth[1] if n["visitors"] == 2)
    assert node_b["forwards"] == 2 and node_b["parent"] == "-alice"
    children_of_b = [n for n in by_depth[2] if n["parent"] == node_b["node"]]
    assert len(children_of_b) == 2
    (node_e,) = by_depth[3]
    node_d = next(n for n in children_of_b if n["node"] == node_e["parent"])
    assert node_d["visitors"] == 1 and node_d["forwards"] == 1
    assert tree["totals"] == {"nodes": 5, "max_depth": 3, "forwards": 3, "leads": 0}

    # replaying the whole stream changes nothing
    poller.reset()
    poller.drain()
    assert _json(client, "get", "/me", alice)[1]["points"]["balance"] == 59
    assert _json(client, "get", f"/campaigns/{cid}/chains", alice)[1]["totals"]["forwards"] == 3


def test_chain_access_rules(env: Any) -> None:
    client, _ = env
    admin = auth("acme", "boss", "admin")
    _json(client, "put", "/admin/employees/bob", admin, {"name": "B", "team": "t1", "region": "r1"})
    cid = _json(
        client,
        "post",
        "/admin/campaigns",
        admin,
        {"name": "C", "destination_url": "https://example.com/", "points": {"unique_visit": 1}},
    )[1]["campaign_id"]
    bob = auth("acme", "bob", "employee")
    assert _json(client, "get", f"/campaigns/{cid}/chains?root=alice", bob)[0] == 403
    assert _json(client, "get", f"/campaigns/{cid}/chains?root=bob", bob)[0] == 200
    assert _json(client, "get", f"/campaigns/{cid}/chains", admin)[0] == 422
    assert _json(client, "get", f"/campaigns/{cid}/chains?root=alice&x=1", admin)[0] == 422
    assert _json(client, "get", f"/campaigns/{cid}/chains?root=alice", auth("other", "boss", "admin"))[0] == 404
    assert _json(client, "get", "/campaigns/nope/chains?root=alice", admin)[0] == 404
