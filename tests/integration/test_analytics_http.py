"""Analytics over real HTTP against the real local stack: visits from phones and desktops in
two countries reach /analytics within seconds of the redirect (stream poller -> consumer ->
counters), and `ripple segments` (the hourly job, run now) fills segments and reach."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from tests.conftest import auth
from tests.integration.conftest import ROOT, RunningStack, wait_for

TENANT = "analytics-itest"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 v{n}"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 v{n}"

pytestmark = pytest.mark.integration


def _call(base: str, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    resp = requests.request(method, base + path, headers=headers, json=body, timeout=30)
    return resp.status_code, resp.json()


def test_visits_reach_the_dashboards_within_seconds(local_stack: RunningStack) -> None:
    base = local_stack.base
    admin = auth(TENANT, "boss", "admin")
    amy = auth(TENANT, "amy", "employee")
    assert _call(base, "PUT", "/admin/tenant", admin, {"timezone": "Asia/Shanghai"})[0] == 200
    for emp, team in (("amy", "sales"), ("ben", "ops")):
        assert _call(base, "PUT", f"/admin/employees/{emp}", admin, {"name": emp, "team": team, "region": "east"})[0]
    status, campaign = _call(
        base,
        "POST",
        "/admin/campaigns",
        admin,
        {"name": "Launch", "destination_url": "https://shop.example.com/", "points": {"unique_visit": 5}},
    )
    assert status == 201
    cid = campaign["campaign_id"]
    links = {
        emp: _call(base, "POST", f"/campaigns/{cid}/links", auth(TENANT, emp, "employee"), {"channel": ch})[1]
        for emp, ch in (("amy", "wechat"), ("ben", "linkedin"))
    }
    started = time.monotonic()
    clicks = [("amy", PHONE, "CN"), ("amy", PHONE, "CN"), ("amy", DESKTOP, "JP"), ("ben", PHONE, "JP")]
    for n, (emp, ua, country) in enumerate(clicks):
        resp = requests.get(
            f"{base}/{links[emp]['code']}",
            headers={"User-Agent": ua.format(n=n), "CloudFront-Viewer-Country": country},
            allow_redirects=False,
            timeout=10,
        )
        assert resp.status_code == 302
    requests.get(f"{base}/{links['amy']['code']}", headers={"User-Agent": "curl/8"}, allow_redirects=False, timeout=10)

    def exposures() -> int:
        status, body = _call(base, "GET", "/analytics/summary", admin)
        assert status == 200, body
        return int(body["totals"]["exposures"])

    count, _ = wait_for(exposures, 5, timeout=30)  # waited for; how fast is printed, not asserted
    seen_after = time.monotonic() - started
    assert count == 5
    got = _call(base, "GET", "/analytics/summary", admin)[1]
    assert got["totals"]["visits"] == 4 and got["totals"]["unique_visitors"] == 4 and got["totals"]["points"] == 20
    assert got["timezone"] == "Asia/Shanghai" and got["items_read"] == 1
    print(f"\nvisit -> /analytics/summary: {seen_after:.2f}s")
    status, by_country = _call(base, "GET", "/analytics/breakdown?by=country", admin)
    assert {r["key"]: r["visits"] for r in by_country["rows"] if r["visits"]} == {"CN": 2, "JP": 2}
    status, by_device = _call(base, "GET", f"/analytics/breakdown?by=device&campaign={cid}", admin)
    assert {r["key"]: r["visits"] for r in by_device["rows"] if r["visits"]} == {"phone": 3, "desktop": 1}
    status, mine = _call(base, "GET", "/analytics/breakdown?by=channel", amy)
    assert status == 200 and [(r["key"], r["visits"]) for r in mine["rows"]] == [("wechat", 3)]
    assert _call(base, "GET", "/analytics/summary?employee=ben", amy)[0] == 403

    out = subprocess.run(
        [sys.executable, "-m", "ripple.cli", "segments", "--tenant", TENANT],
        cwd=ROOT,
        env=local_stack.cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(out.stdout)["people"] == 4
    status, seg = _call(base, "GET", "/analytics/segments", admin)
    assert seg["reach"] == {"touched": 4, "reachable": 4} and sum(seg["segments"].values()) == 4
    assert {r["employee_id"]: r["touched"] for r in seg["employees"]} == {"amy": 3, "ben": 1}
