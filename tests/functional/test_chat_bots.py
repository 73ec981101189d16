"""Group chat bots in-process: a task announced to five groups (WeCom, DingTalk, Feishu,
Slack, Teams) through the webhook outbox, each message checked by a loopback receiver
against that product's documented payload and signature (checks written here from the
products' documentation, independently of ``ripple.domain.chatbots``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import auth
from tests.functional.apihelpers import body_of, call

ADMIN = auth("acme", "boss", "admin")
DING_SECRET = "SEC0123456789abcdef"
FEISHU_SECRET = "feishu-secret-42"


def _check_wecom(body: dict[str, Any], query: dict[str, list[str]]) -> None:
    assert query["key"] == ["wk-1"]
    assert body["msgtype"] == "markdown" and set(body) == {"msgtype", "markdown"}
    content = body["markdown"]["content"]
    assert isinstance(content, str) and 0 < len(content.encode()) <= 4096


def _check_dingtalk(body: dict[str, Any], query: dict[str, list[str]]) -> None:
    assert query["access_token"] == ["dt-1"]
    ts = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(DING_SECRET.encode(), f"{ts}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]  # parse_qs undid the URL encoding
    assert body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"title", "text"} and all(isinstance(v, str) for v in body["markdown"].values())


def _check_feishu(body: dict[str, Any], query: dict[str, list[str]]) -> None:
    ts = body["timestamp"]
    key = f"{ts}\n{FEISHU_SECRET}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "post"
    for post in body["content"]["post"].values():
        assert isinstance(post["title"], str)
        for line in post["content"]:
            for element in line:
                assert element["tag"] in ("text", "a") and isinstance(element["text"], str)
                if element["tag"] == "a":
                    assert element["href"].startswith("http")


def _check_slack(body: dict[str, Any], query: dict[str, list[str]]) -> None:
    assert isinstance(body["text"], str) and body["text"]
    section, actions = body["blocks"]
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert actions["type"] == "actions"
    [button] = actions["elements"]
    assert button["type"] == "button" and button["text"]["type"] == "plain_text" and button["url"].startswith("http")


def _check_teams(body: dict[str, Any], query: dict[str, list[str]]) -> None:
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert all(b["type"] == "TextBlock" and isinstance(b["text"], str) for b in card["body"])
    assert card["actions"][0]["type"] == "Action.OpenUrl"


CHECKS = {
    "wecom": _check_wecom,
    "dingtalk": _check_dingtalk,
    "feishu": _check_feishu,
    "slack": _check_slack,
    "teams": _check_teams,
}
ANSWERS = {
    "wecom": (200, b'{"errcode":0,"errmsg":"ok"}'),
    "dingtalk": (200, b'{"errcode":0,"errmsg":"ok"}'),
    "feishu": (200, b'{"code":0,"data":{},"msg":"success"}'),
    "slack": (200, b"ok"),
    "teams": (202, b""),
}


class Groups:
    """Five products' webhook endpoints on one loopback server; every message is checked."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.problems: list[str] = []
        self.refuse: dict[str, bytes] = {}
        groups = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                provider = parts.path.strip("/").split("/")[0]
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    assert self.headers["Content-Type"].startswith("application/json")
                    body = json.loads(raw)
                    CHECKS[provider](body, parse_qs(parts.query))
                    groups.got.append((provider, body))
                except Exception as exc:  # recorded: the test fails on it
                    groups.problems.append(f"{provider}: {exc!r} {raw[:300]!r}")
                status, answer = ANSWERS.get(provider, (404, b""))
                if provider in groups.refuse:
                    status, answer = 200, groups.refuse.pop(provider)
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def of(self, provider: str) -> list[dict[str, Any]]:
        return [b for p, b in self.got if p == provider]


@pytest.fixture
def groups() -> Iterator[Groups]:
    g = Groups()
    yield g
    g.server.shutdown()


def deliver() -> dict[str, Any]:
    import webhooks

    from infra.lambda_context import LocalContext

    return webhooks.handler({"job": "deliver"}, LocalContext())  # type: ignore[no-any-return]


def configure(client: Any, groups: Groups) -> None:
    bots = {
        "sales-wecom": {"provider": "wecom", "url": f"{groups.base}/wecom/send?key=wk-1", "language": "zh-Hans"},
        "sales-ding": {
            "provider": "dingtalk",
            "url": f"{groups.base}/dingtalk/send?access_token=dt-1",
            "secret": DING_SECRET,
        },
        "sales-feishu": {
            "provider": "feishu",
            "url": f"{groups.base}/feishu/hook/abc",
            "secret": FEISHU_SECRET,
            "language": "ja",
        },
        "sales-slack": {"provider": "slack", "url": f"{groups.base}/slack/services/T1/B1/xyz"},
        "sales-teams": {"provider": "teams", "url": f"{groups.base}/teams/workflows/1/triggers/manual"},
    }
    for bot_id, body in bots.items():
        resp = call(client, "PUT", f"/admin/chat-bots/{bot_id}", ADMIN, {**body, "events": ["task.created"]})
        assert resp.status_code == 200, resp.body


def make_task(client: Any) -> str:
    for name in ("alice", "bob"):
        call(client, "PUT", f"/admin/employees/{name}", ADMIN, {"name": name.title(), "team": "sales", "region": "e"})
    camp = call(
        client,
        "POST",
        "/admin/campaigns",
        ADMIN,
        {"name": "Spring", "destination_url": "https://shop.example.com/", "points": {"unique_visit": 1}},
    )
    deadline = (datetime.now(UTC) + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    body = {
        "campaign_id": body_of(camp)["campaign_id"],
        "title": "Spring *sale* [50%]",
        "copies": [{"text": "Spring!"}],
        "channels": ["wechat"],
        "audience": {"teams": ["sales"]},
        "deadline": deadline,
    }
    resp = call(client, "POST", "/admin/tasks", ADMIN, body)
    assert resp.status_code == 201, resp.body
    return str(body_of(resp)["task_id"])


def test_a_new_task_reaches_each_group_once_in_its_products_format(env: Any, groups: Groups) -> None:
    client = env[0]
    configure(client, groups)
    task_id = make_task(client)
    counts = deliver()
    assert counts["delivered"] == 5, counts
    assert groups.problems == []
    assert sorted(p for p, _ in groups.got) == ["dingtalk", "feishu", "slack", "teams", "wecom"]
    wecom = groups.of("wecom")[0]["markdown"]["content"]
    assert "新任务" in wecom and f"/m#/task/{task_id}" in wecom
    assert "\\*sale\\*" in wecom  # the title's markup stays text
    assert "新しいタスク" in groups.of("feishu")[0]["content"]["post"]["zh_cn"]["title"]
    # nothing twice: another run, and the same event emitted again
    from ripple import bootstrap
    from ripple.service.webhooks import emit

    emit(bootstrap.services(), "acme", "task.created", {"task_id": task_id, "title": "x"}, task_id)
    assert deliver()["delivered"] == 0
    assert len(groups.got) == 5
    # the list and the delivery log never show a bot's key or secret
    listed = body_of(call(client, "GET", "/admin/chat-bots", ADMIN))
    text = json.dumps(listed) + json.dumps(body_of(call(client, "GET", "/admin/webhooks/deliveries", ADMIN)))
    assert "wk-1" not in text and "dt-1" not in text and DING_SECRET not in text and FEISHU_SECRET not in text
    assert {b["bot_id"]: b["signed"] for b in listed["items"]}["sales-ding"] is True


def test_a_refusal_inside_a_200_is_retried(env: Any, groups: Groups) -> None:
    client = env[0]
    configure(client, groups)
    groups.refuse["wecom"] = b'{"errcode":45009,"errmsg":"api freq out of limit"}'
    make_task(client)
    counts = deliver()
    assert counts["delivered"] == 4 and counts["retrying"] == 1
    log = body_of(call(client, "GET", "/admin/webhooks/deliveries", ADMIN))["items"]
    refused = [r for r in log if not r["ok"]]
    assert len(refused) == 1 and "45009" in refused[0]["error"] and refused[0]["next_retry_at"]
    from ripple import bootstrap

    svc = bootstrap.services()
    real = svc.clock
    svc.clock = lambda: real() + 2 * 60_000
    assert deliver()["delivered"] == 1
    assert len(groups.of("wecom")) == 2  # the refused one, then the accepted one


def test_the_test_message_and_bad_configurations(env: Any, groups: Groups) -> None:
    client = env[0]
    configure(client, groups)
    resp = call(client, "POST", "/admin/chat-bots/sales-slack/test", ADMIN)
    assert resp.status_code == 200 and body_of(resp)["ok"] is True
    assert groups.problems == [] and len(groups.of("slack")) == 1
    assert call(client, "POST", "/admin/chat-bots/nope/test", ADMIN).status_code == 404
    bad = [
        {"provider": "slack", "url": f"{groups.base}/slack/x", "events": ["task.created"], "secret": "s"},
        {"provider": "wecom", "url": "https://example.com/hook", "events": ["task.created"]},
        {"provider": "icq", "url": f"{groups.base}/x", "events": ["task.created"]},
        {"provider": "teams", "url": f"{groups.base}/x", "events": ["lead.created"]},
        {"provider": "teams", "url": "http://10.0.0.1/x", "events": ["task.created"]},
        {"provider": "teams", "url": f"{groups.base}/x", "events": ["task.created"], "color": "red"},
    ]
    for body in bad:
        assert call(client, "PUT", "/admin/chat-bots/b1", ADMIN, body).status_code == 422, body
    assert call(client, "PUT", "/admin/chat-bots/Bad_Id", ADMIN, bad[0]).status_code == 422
    assert call(client, "GET", "/admin/chat-bots", auth("acme", "alice", "employee")).status_code == 403
    assert call(client, "DELETE", "/admin/chat-bots/sales-slack", ADMIN).status_code == 200
    assert call(client, "DELETE", "/admin/chat-bots/sales-slack", ADMIN).status_code == 404
    assert len(body_of(call(client, "GET", "/admin/chat-bots", ADMIN))["items"]) == 4


def test_a_settled_day_posts_its_leaderboard_to_the_subscribed_groups_once(env: Any, groups: Groups) -> None:
    """settlement.completed is written inside the settlement's own transaction (no emit):
    the dispatcher writes the bot items when it meets it, once, even with no webhook endpoint;
    the groups see the leaders by name, in their language, in the product's format."""
    from ripple import bootstrap
    from ripple.service.settlement import settle

    client, poller = env
    for bot_id, body in {
        "board-wecom": {"provider": "wecom", "url": f"{groups.base}/wecom/send?key=wk-1", "language": "zh-Hans"},
        "board-slack": {"provider": "slack", "url": f"{groups.base}/slack/services/T1/B1/xyz"},
        "tasks-only": {"provider": "teams", "url": f"{groups.base}/teams/workflows/1/triggers/manual"},
    }.items():
        events = ["task.created"] if bot_id == "tasks-only" else ["settlement.completed"]
        assert call(client, "PUT", f"/admin/chat-bots/{bot_id}", ADMIN, {**body, "events": events}).status_code == 200
    staff = {"alice": ("Alice Wang", 3), "bob": ("Bob Tanaka", 1)}
    for name, (full, _) in staff.items():
        body = {"name": full, "team": "sales", "region": "e"}
        assert call(client, "PUT", f"/admin/employees/{name}", ADMIN, body).status_code == 200
    camp = body_of(
        call(
            client,
            "POST",
            "/admin/campaigns",
            ADMIN,
            {"name": "Spring", "destination_url": "https://shop.example.com/", "points": {"unique_visit": 10}},
        )
    )
    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.{n}"
    n = 0
    for name, (_, visits) in staff.items():
        who = auth("acme", name, "employee")
        link = body_of(call(client, "POST", f"/campaigns/{camp['campaign_id']}/links", who, {"channel": "x"}))
        for _ in range(visits):
            n += 1
            assert client.http.get(f"/{link['code']}", headers={"User-Agent": ua.format(n=n)}).status_code == 302
    poller.drain()
    svc = bootstrap.services()
    real = svc.clock
    day = datetime.fromtimestamp(real() / 1000, UTC).date().isoformat()
    svc.clock = lambda: real() + 86_400_000
    settle(svc, "acme", day)
    counts = deliver()
    assert groups.problems == []
    assert sorted(p for p, _ in groups.got) == ["slack", "wecom"], counts  # not the tasks-only group
    wecom = groups.of("wecom")[0]["markdown"]["content"]
    assert f"排行榜 {day}" in wecom and "前列\uff1a1. Alice Wang 30 · 2. Bob Tanaka 10." in wecom
    assert "团队\uff1a1. sales 40." in wecom and "/m#/boards" in wecom
    slack = json.dumps(groups.of("slack")[0], ensure_ascii=False)
    assert f"Leaderboard {day}" in slack and "Top: 1. Alice Wang 30" in slack
    # the settlement is not sent twice: another run, and the same period settled again
    settle(svc, "acme", day)
    deliver()
    assert len(groups.got) == 2
