"""The console's admin screens that have no other door than the API until now: the fraud
review (release a withheld outcome, reverse held points, each with a reason), the tenant's
settings, the webhook endpoint with its test and delivery log, CSV exports and the period
prizes. Each is driven as an admin would, in headless Chromium against the local stack, and
checked against what the API then says (the screens change real state, not just the page).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from ripple.domain.exports import COLUMNS
from ripple.web.console import STATIC_DIR
from tests.e2e.conftest import DESKTOP, IPHONE_UA, Tenant, Watch, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

EN: dict[str, str] = json.loads((STATIC_DIR / "i18n.json").read_text(encoding="utf-8"))["en"]


def _until(what: str, ok: Callable[[], bool], within: float = 60.0) -> None:
    """Wait for the stream (or a job) to do its work; a wait, not a timing assertion."""
    deadline = time.monotonic() + within
    while not ok():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _visits(tenant: Tenant, short_url: str, first: int, count: int) -> None:
    for n in range(first, first + count):
        ua = IPHONE_UA.replace("Mobile/15E148", f"Mobile/15R{n:03d}")
        resp = requests.get(short_url, headers={"User-Agent": ua}, allow_redirects=False, timeout=10)
        assert resp.status_code == 302


def test_fraud_review_releases_a_withheld_outcome_and_reverses_held_points(
    browser: Any, tenant: Tenant, watch: Watch
) -> None:
    from playwright.sync_api import expect

    admin = tenant.token("boss", "admin")
    alice = tenant.token("alice", "employee")
    tenant.call("PUT", "/admin/employees/alice", admin, {"name": "Alice Wang", "team": "sales", "region": "east"})
    # held points: a campaign whose points wait two days before they can be spent
    held = tenant.call(
        "POST",
        "/admin/campaigns",
        admin,
        {
            "name": "Held launch",
            "destination_url": "https://shop.example.com/h",
            "points": {"unique_visit": 7},
            "rules": {"holding_days": 2},
        },
    )
    held_link = tenant.call("POST", f"/campaigns/{held['campaign_id']}/links", alice, {"channel": "line"})
    _visits(tenant, held_link["short_url"], 0, 1)
    _until("the held visit was never counted", lambda: tenant.call("GET", "/me", alice)["points"]["pending"] == 7)
    # withheld points: one unique visit an hour is the limit, and alice already has one
    tenant.call("PUT", "/admin/tenant", admin, {"fraud": {"velocity_per_hour": 1}})
    fast = tenant.call(
        "POST",
        "/admin/campaigns",
        admin,
        {"name": "Fast launch", "destination_url": "https://shop.example.com/f", "points": {"unique_visit": 10}},
    )
    fast_link = tenant.call("POST", f"/campaigns/{fast['campaign_id']}/links", alice, {"channel": "wechat"})
    _visits(tenant, fast_link["short_url"], 10, 2)
    _until(
        "the velocity signals never appeared",
        lambda: len(tenant.call("GET", "/admin/fraud?kind=velocity", admin)["signals"]) == 2,
    )
    assert tenant.call("GET", "/me", alice)["points"] == {"balance": 7, "available": 0, "pending": 7}

    page = watch.page(browser.new_context(**DESKTOP, locale="en-US").new_page(), "console")
    page.goto(tenant.base + "/console#/review")
    sign_in(page, admin)
    rows = page.locator("#review-signals tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Alice Wang")
    expect(rows.first).to_contain_text(EN["fraud.kind.velocity"])
    expect(rows.first).to_contain_text("Fast launch")

    # release one: a reason is required (the browser refuses an empty one), then it is paid
    rows.first.locator("[data-release]").click()
    expect(page.locator("#review-what")).to_have_text("Release 10 points to Alice Wang")
    page.locator("#review-confirm").click()
    expect(page.locator("#review-reason")).to_be_focused()
    assert tenant.call("GET", "/me", alice)["points"]["available"] == 0
    page.locator("#review-reason").fill("a real customer: same office network")
    page.locator("#review-confirm").click()
    expect(page.locator("#toast")).to_have_text(EN["review.released_ok"])
    expect(page.locator("#review-signals [data-released]")).to_have_count(1)
    expect(page.locator("#review-signals [data-release]")).to_have_count(1)
    assert tenant.call("GET", "/me", alice)["points"] == {"balance": 17, "available": 10, "pending": 7}

    # the held entry: pick alice (the URL follows), reverse it with a reason
    page.locator("#review-employee").select_option("alice")
    assert page.evaluate("() => location.hash") == "#/review/alice"
    entry = page.locator("#review-ledger tbody tr", has=page.locator("[data-reverse]"))
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Held launch")
    entry.locator("[data-reverse]").click()
    expect(page.locator("#review-what")).to_have_text("Reverse 7 held points of Alice Wang")
    page.locator("#review-reason").fill("the employee's own second phone")
    page.locator("#review-confirm").click()
    expect(page.locator("#toast")).to_have_text(EN["review.reversed_ok"])
    expect(page.locator("#review-ledger [data-reverse]")).to_have_count(0)
    expect(page.locator("#review-balances [data-metric=pending] .stat-value")).to_have_text("0")
    assert tenant.call("GET", "/me", alice)["points"] == {"balance": 10, "available": 10, "pending": 0}
    ledger = tenant.call("GET", "/admin/employees/alice/ledger", admin)["items"]
    kinds = sorted(e["kind"] for e in ledger)
    assert kinds.count("release") == 1 and kinds.count("reversal") == 1

    # a reload (or a shared link) opens the same employee's ledger; the reason is shown
    watch.reload(page)
    expect(page.locator("#review-employee")).to_have_value("alice")
    expect(page.locator("#review-ledger")).to_contain_text("the employee's own second phone")
    expect(page.locator("#review-ledger")).to_contain_text("a real customer: same office network")
    watch.assert_clean()


class _Receiver(BaseHTTPRequestHandler):
    """A customer's webhook receiver on loopback (the local stack admits loopback http)."""

    got: list[tuple[dict[str, str], dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.got.append((dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        return


def test_settings_webhook_exports_and_prizes_from_the_console(browser: Any, tenant: Tenant, watch: Watch) -> None:
    from playwright.sync_api import expect

    admin = tenant.token("boss", "admin")
    tenant.call("PUT", "/admin/employees/alice", admin, {"name": "Alice Wang", "team": "sales", "region": "east"})
    campaign = tenant.call(
        "POST",
        "/admin/campaigns",
        admin,
        {"name": "Spring launch", "destination_url": "https://shop.example.com/s", "points": {"unique_visit": 5}},
    )
    page = watch.page(browser.new_context(**DESKTOP, locale="en-US").new_page(), "console")
    page.goto(tenant.base + "/console#/settings")
    sign_in(page, admin)

    # tenant settings: what the API holds is what the form shows; a save changes it
    expect(page.locator("#tenant-save")).to_be_enabled()
    expect(page.locator("#tenant-velocity")).to_have_value("")
    page.locator("#tenant-timezone").fill("Asia/Shanghai")
    page.locator("#tenant-velocity").fill("40")
    page.locator("#tenant-pool-price").fill("25")
    page.locator("#tenant-attribution").select_option("last_touch")
    expect(page.locator("#tenant-attribution-days")).to_be_hidden()
    page.locator("#tenant-save").click()
    expect(page.locator("#toast")).to_have_text(EN["settings.saved"])
    saved = tenant.call("GET", "/admin/tenant", admin)
    assert saved["timezone"] == "Asia/Shanghai" and saved["pool_claim_price"] == 25
    assert saved["fraud"]["velocity_per_hour"] == 40 and saved["attribution"] == {"mode": "last_touch"}
    # a value the API refuses marks its field and changes nothing
    page.locator("#tenant-ended-url").fill("http://plain.example.com/")
    page.locator("#tenant-save").click()
    expect(page.locator("#tenant-ended-url")).to_have_attribute("aria-invalid", "true")
    assert tenant.call("GET", "/admin/tenant", admin)["ended_url"] is None
    refused = [p for p in watch.problems if "422" in p]  # the refusal this step asked for, and
    assert len(refused) == 2, watch.problems  # Chromium's console note of it: expected, nothing else
    for problem in refused:
        watch.problems.remove(problem)
    page.locator("#tenant-ended-url").fill("")

    # the webhook endpoint: saved, its secret shown once, a test arrives signed and is logged
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.got = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        expect(page.locator("#webhook-status")).to_have_text(EN["webhook.none"])
        expect(page.locator("#webhook-test")).to_be_disabled()
        page.locator("#webhook-url").fill(f"http://127.0.0.1:{server.server_address[1]}/hooks/ripple")
        page.locator("#webhook-events input[value='lead.created']").check()
        page.locator("#webhook-events input[value='task.created']").check()
        page.locator("#webhook-save").click()
        expect(page.locator("#toast")).to_have_text(EN["webhook.saved"])
        secret = page.locator("#webhook-secret").inner_text()
        assert secret.startswith("whsec_")
        assert tenant.call("GET", "/admin/webhooks", admin)["events"] == ["lead.created", "task.created"]
        page.locator("#webhook-test").click()
        expect(page.locator("#toast")).to_have_text("Test delivered (HTTP 200).")
        assert len(_Receiver.got) == 1 and _Receiver.got[0][0]["Ripple-Event"] == "ping"
        logged = page.locator("#webhook-log tbody tr", has_text=EN["webhook.event.ping"])
        expect(logged).to_have_count(1)
        expect(logged).to_contain_text("Delivered (200)")
        # a later visit to the page never shows the secret again
        watch.reload(page)
        expect(page.locator("#webhook-url")).to_have_value(f"http://127.0.0.1:{server.server_address[1]}/hooks/ripple")
        expect(page.locator("#webhook-secret")).to_have_count(0)
        expect(page.locator("#webhook-events input[value='task.created']")).to_be_checked()
    finally:
        server.shutdown()

    # exports (dashboard): request the points ledger of the last 30 days, watch it finish, download
    page.locator("#tabs button[data-view=dashboard]").click()
    page.locator("#export-kind").select_option("ledger")
    page.locator("#export-start").click()
    job = page.locator("#export-jobs li").first
    expect(job).to_have_attribute("data-status", "done", timeout=60_000)
    href = job.locator("a.export-download").get_attribute("href")
    assert href
    csv = requests.get(href, timeout=10)
    assert csv.status_code == 200
    assert csv.content.splitlines()[0] == ("\ufeff" + ",".join(COLUMNS["ledger"])).encode()

    # prizes (settlements): one weekly prize for rank 1 of the employees of one campaign
    page.locator("#tabs button[data-view=settlements]").click()
    expect(page.locator("#prize-save")).to_be_enabled()
    page.locator("#prize-add").click()
    row = page.locator("#prize-rows tr").last
    row.locator("[data-prize=campaign]").select_option(campaign["campaign_id"])
    row.locator("[data-prize=points]").fill("500")
    page.locator("#prize-save").click()
    expect(page.locator("#toast")).to_have_text(EN["prize.saved"])
    prizes = tenant.call("GET", "/admin/prizes", admin)
    assert prizes["week"] == [
        {"dimension": "employee", "rank": 1, "points": 500, "campaign_id": campaign["campaign_id"]}
    ]
    watch.reload(page)
    expect(page.locator("#prize-rows tr")).to_have_count(1)
    page.locator("#prize-rows tr button").click()
    page.locator("#prize-save").click()
    expect(page.locator("#toast")).to_have_text(EN["prize.saved"])
    assert tenant.call("GET", "/admin/prizes", admin) == {"day": [], "week": [], "month": []}
    watch.assert_clean()


def test_a_task_audience_is_picked_by_team_or_name_with_the_count_it_reaches(
    browser: Any, tenant: Tenant, watch: Watch
) -> None:
    from playwright.sync_api import expect

    admin = tenant.token("boss", "admin")
    for sub, name, team, region in (
        ("alice", "Alice Wang", "sales", "east"),
        ("bob", "Bob Tanaka", "sales", "west"),
        ("carol", "Carol Li", "marketing", "east"),
        ("dave", "Dave Sato", "marketing", "west"),
    ):
        tenant.call("PUT", f"/admin/employees/{sub}", admin, {"name": name, "team": team, "region": region})
    tenant.call("POST", "/admin/employees/dave/offboard", admin, {"to": "pool"})  # left: never targeted, never counted
    campaign = tenant.call(
        "POST",
        "/admin/campaigns",
        admin,
        {"name": "Autumn", "destination_url": "https://shop.example.com/a", "points": {"unique_visit": 5}},
    )
    page = watch.page(browser.new_context(**DESKTOP, locale="en-US").new_page(), "console")
    page.goto(tenant.base + "/console#/tasks")
    sign_in(page, admin)
    expect(page.locator("#task-reach")).to_have_text("Goes to 3 employees")
    expect(page.locator("#task-audience-picker")).to_be_hidden()

    page.locator("#task-audience").select_option("teams")
    expect(page.locator("#task-audience-options label")).to_have_text(["marketing (1)", "sales (2)"])
    page.locator("#task-audience-options input[value=sales]").check()
    expect(page.locator("#task-reach")).to_have_text("Goes to 2 employees")

    page.locator("#task-audience").select_option("employees")
    expect(page.locator("#task-reach")).to_have_text("Goes to 0 employees")
    page.locator("#task-audience-filter").fill("carol")
    expect(page.locator("#task-audience-options label:visible")).to_have_text(["Carol Li · marketing"])
    page.locator("#task-audience-options input[value=carol]").check()
    page.locator("#task-audience-filter").fill("")
    page.locator("#task-audience-options input[value=alice]").check()
    expect(page.locator("#task-reach")).to_have_text("Goes to 2 employees")

    page.locator("#task-campaign").select_option(campaign["campaign_id"])
    page.locator("#task-title").fill("Share the autumn sale")
    page.locator("#task-copy").fill("Autumn is here")
    page.locator("#task-create").click()
    expect(page.locator("#toast")).to_contain_text("2")
    tasks = tenant.call("GET", "/admin/tasks", admin)["items"]
    assert len(tasks) == 1 and tasks[0]["audience_size"] == 2
    got = {t["task_id"] for t in tenant.call("GET", "/me/tasks", tenant.token("carol", "employee"))["items"]}
    assert got == {tasks[0]["task_id"]}
    assert tenant.call("GET", "/me/tasks", tenant.token("bob", "employee"))["items"] == []
    watch.assert_clean()
