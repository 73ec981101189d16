"""Seed a demo tenant through the public API (the same path an admin would take)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

__all__ = ["DEMO_TENANT", "seed_demo"]

DEMO_TENANT = "demo"
EMPLOYEES = [
    ("alice", "Alice Wang", "sales", "east"),
    ("bob", "Bob Tanaka", "sales", "west"),
    ("chen", "陈晨", "marketing", "east"),
    ("dai", "戴美", "marketing", "west"),
]


def _call(base: str, method: str, path: str, token: str, body: Any | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


# (employee, channel, User-Agent, country): people opening the employees' links
DEMO_CLICKS = [
    ("alice", "wechat", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) MicroMessenger/8.0.49", "CN"),
    ("alice", "wechat", "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126.0 Mobile Safari/537.36", "CN"),
    ("alice", "wechat", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36", "TW"),
    ("bob", "linkedin", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15", "JP"),
    ("bob", "linkedin", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) Safari/605.1.15", "US"),
    ("chen", "weibo", "Mozilla/5.0 (Linux; Android 13; HarmonyOS; NOH-AN00) Mobile Safari/537.36", "CN"),
    ("dai", "xiaohongshu", "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7 like Mac OS X) Mobile/15E148", "CN"),
]
FORWARD_UA = "Mozilla/5.0 (Linux; Android 14; SM-S921B) Chrome/126.0 Mobile Safari/537.36"


def _click(url: str, user_agent: str, country: str) -> str:
    """One GET without following the redirect (the destination is not reachable offline);
    returns the share token the redirect hands this visitor (``rp``), if any."""
    import http.client
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", path, headers={"User-Agent": user_agent, "CloudFront-Viewer-Country": country})
        resp = conn.getresponse()
        resp.read()
        location = resp.getheader("Location") or ""
    finally:
        conn.close()
    return parse_qs(urlsplit(location).query).get("rp", [""])[0]


def _demo_traffic(base: str, campaign_id: str, tokens_of: dict[str, str]) -> int:
    """A handful of public clicks on the employees' links, and one forward."""
    tokens: dict[tuple[str, str], str] = {}
    first_token = ""
    for emp_id, channel, user_agent, country in DEMO_CLICKS:
        if (emp_id, channel) not in tokens:
            link = _call(base, "POST", f"/campaigns/{campaign_id}/links", tokens_of[emp_id], {"channel": channel})
            tokens[(emp_id, channel)] = link["short_url"]
        token = _click(tokens[(emp_id, channel)], user_agent, country)
        first_token = first_token or token
    if first_token:  # the first visitor shared it on: a second-level visit, credited to alice
        _click(f"{tokens[('alice', 'wechat')]}?rp={first_token}", FORWARD_UA, "CN")
    return len(DEMO_CLICKS) + (1 if first_token else 0)


DEMO_PASSWORD = "ripple-demo-1"  # local stack only: every demo sign-in gets it


def _email(emp_id: str) -> str:
    return f"{emp_id}@{DEMO_TENANT}.example.test"


def _sign_in(base: str, email: str) -> str:
    """A real sign-in through the API's /auth/sign-in (relayed to moto's Cognito)."""
    data = json.dumps({"email": email, "password": DEMO_PASSWORD}).encode()
    req = urllib.request.Request(base + "/auth/sign-in", data=data, method="POST")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(json.loads(resp.read())["id_token"])


def _set_demo_password(employee_id: str) -> None:
    """The operator sets a known password (locally), so the demo can be signed into at once."""
    from ripple import bootstrap

    svc = bootstrap.services()
    employee = svc.employees.get(DEMO_TENANT, employee_id)
    assert employee is not None and employee.subject
    svc.directory.set_password(employee.subject, DEMO_PASSWORD)


def seed_demo(base: str) -> str:
    from ripple import bootstrap
    from ripple.service.identity import create_tenant

    create_tenant(bootstrap.services(), DEMO_TENANT, admin_email=_email("admin"), name="Demo Co.")
    _set_demo_password("admin")
    admin = _sign_in(base, _email("admin"))
    _call(base, "PUT", "/admin/tenant", admin, {"name": "Demo Co.", "timezone": "Asia/Shanghai"})
    tokens_of: dict[str, str] = {}
    for emp_id, name, team, region in EMPLOYEES:
        body = {"name": name, "team": team, "region": region, "email": _email(emp_id)}
        _call(base, "PUT", f"/admin/employees/{emp_id}", admin, body)
        _set_demo_password(emp_id)
        tokens_of[emp_id] = _sign_in(base, _email(emp_id))
    campaign = _call(
        base,
        "POST",
        "/admin/campaigns",
        admin,
        {
            "name": "Spring launch 春季发布",
            "destination_url": "https://example.com/spring?ref=demo",
            "points": {"unique_visit": 10, "forward": 5, "lead": 50},
        },
    )
    cid = campaign["campaign_id"]
    alice = tokens_of["alice"]
    link = _call(base, "POST", f"/campaigns/{cid}/links", alice, {"channel": "wechat"})
    short = link["short_url"]
    # a campaign with a hosted landing page and a lead form, in two languages
    open_day = _call(
        base,
        "POST",
        "/admin/campaigns",
        admin,
        {
            "name": "Open day 开放日",
            "points": {"unique_visit": 5, "forward": 5, "lead": 50},
            "landing": {
                "default_lang": "zh-Hans",
                "fields": ["name", "phone", "email"],
                "required": ["name"],
                "copy": {
                    "zh-Hans": {
                        "title": "春季开放日",
                        "body": "欢迎来参观我们的新展厅。\n留下联系方式\uff0c我们为您预约。",
                        "cta": "立即预约",
                        "consent": "我同意 Demo Co. 按隐私政策处理我的联系方式。",
                        "disclosure": "本页面由 Demo Co. 员工分享。",
                    },
                    "en": {
                        "title": "Spring open day",
                        "body": "Come and see our new showroom.\nLeave your details and we will book you in.",
                        "cta": "Book a visit",
                        "consent": "I agree that Demo Co. processes my contact details under its privacy policy.",
                        "disclosure": "Shared by an employee of Demo Co.",
                    },
                },
            },
        },
    )
    page_link = _call(base, "POST", f"/campaigns/{open_day['campaign_id']}/links", alice, {"channel": "line"})
    # something to spend points on
    reward = _call(
        base,
        "POST",
        "/admin/rewards",
        admin,
        {"name": "Coffee voucher 咖啡券", "price": 10, "stock": 100, "kind": "virtual_code"},
    )
    clicks = _demo_traffic(base, cid, tokens_of)
    return f"""
Demo tenant '{DEMO_TENANT}' seeded: 4 employees, campaign {cid}, alice's WeChat link {short}
({clicks} demo clicks from phones and desktops in four countries, one of them forwarded, so
the dashboards have something to show)

  # Cognito ID tokens (moto's Cognito locally), valid for an hour; a new one:
  #   .venv/bin/ripple token --email {_email("alice")} --password {DEMO_PASSWORD}
  export ADMIN={admin}
  export ALICE={alice}

  # in a browser: sign in with e-mail and password (every demo user has {DEMO_PASSWORD})
  #   {base}/console   ({_email("admin")})
  #   {base}/m         ({_email("alice")}, {_email("bob")}, ...; best on a phone-sized window)
  # or "Sign in with Company" (the Hosted UI stand-in, code + PKCE): type {_email("alice")}
  # as the company provider's work e-mail; the pool's PreTokenGeneration trigger maps her in

  # a visitor clicks alice's link (302 to the destination with UTM parameters)
  curl -si -A 'Mozilla/5.0 (iPhone) MicroMessenger/8.0' {short} | head -5
  # a second, different visitor
  curl -si -A 'Mozilla/5.0 (Android 14) Chrome/120' {short} | head -1
  # bots and HEAD are redirected but earn nothing
  curl -sI {short} | head -1
  # within a few seconds the stream consumer has credited alice
  curl -s -H "Authorization: Bearer $ALICE" {base}/me
  curl -s -H "Authorization: Bearer $ALICE" '{base}/leaderboards?dimension=team&campaign_id={cid}'
  # your own link for another channel
  curl -s -X POST -H "Authorization: Bearer $ALICE" -H 'Content-Type: application/json' \\
       -d '{{"channel":"line"}}' {base}/campaigns/{cid}/links
  # a hosted landing page with a lead form (open it in a browser; ?lang=en for English)
  echo {page_link["short_url"]}
  # spend points in the mall (the same Idempotency-Key never charges twice)
  curl -s -H "Authorization: Bearer $ALICE" {base}/rewards
  curl -s -X POST -H "Authorization: Bearer $ALICE" -H 'Idempotency-Key: demo-1' \\
       {base}/rewards/{reward["reward_id"]}/redeem
  # the ledger behind the balance
  curl -s -H "Authorization: Bearer $ALICE" {base}/me/ledger
  # analytics from the consumer's counters: totals + funnel, per day, by channel/device/country/...
  curl -s -H "Authorization: Bearer $ADMIN" {base}/analytics/summary
  curl -s -H "Authorization: Bearer $ADMIN" '{base}/analytics/breakdown?by=device'
  curl -s -H "Authorization: Bearer $ALICE" {base}/analytics/timeseries
  # customer segments and reach (the hourly job; run it now with: ripple segments)
  curl -s -H "Authorization: Bearer $ADMIN" {base}/analytics/segments
  # notifications: e-mails (new tasks, reminders, leads, rewards, the weekly digest) are in the
  # dev mailbox page printed above; the minute job sends due ones, or now: .venv/bin/ripple notify
  curl -s -H "Authorization: Bearer $ALICE" {base}/me/notifications
  # a new tenant and its first admin (Cognito's invitation appears below as [mailbox]):
  #   .venv/bin/ripple tenant create --tenant acme --admin-email boss@acme.example.test
  # the whole API: README.md
"""
