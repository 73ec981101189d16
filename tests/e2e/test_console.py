"""The web console and the employee page in headless Chromium against the local stack.

The core loop through the UI only: an admin (desktop) creates a campaign and a task, an
employee (phone) opens the task and copies their link, a signed-out customer (another phone)
opens it, and both pages show the visit without a reload, pushed over the WebSocket (how fast
is recorded, not asserted). Then languages and
layout at desktop and phone widths. Every page must log no console error and fail no request.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from ripple.web.console import STATIC_DIR
from tests.e2e.conftest import ARTIFACTS, DESKTOP, IPHONE_UA, PHONE, Shop, Tenant, Watch, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DICTS: dict[str, dict[str, str]] = json.loads((STATIC_DIR / "i18n.json").read_text(encoding="utf-8"))
# How long the pages may take to show the customer's visit before the test gives up. The
# time they took is written to test-artifacts/e2e/visit-to-screen.json, never asserted: a
# loaded machine is slow, not wrong (targets are `make bench` figures).
LIVE_WITHIN = 30.0


CONSOLE_VIEWS = [
    "dashboard",
    "campaigns",
    "tasks",
    "boards",
    "customers",
    "pool",
    "rewards",
    "settlements",
    "employees",
    "review",
    "stories",
    "settings",
]
M_VIEWS = ["tasks", "links", "points", "boards", "rewards", "customers"]


def _setup_staff(tenant: Tenant) -> str:
    admin = tenant.token("boss", "admin")
    tenant.call("PUT", "/admin/tenant", admin, {"name": "E2E Co.", "timezone": "Asia/Tokyo"})
    tenant.call("PUT", "/admin/employees/alice", admin, {"name": "Alice Wang", "team": "sales", "region": "east"})
    tenant.call("PUT", "/admin/employees/bob", admin, {"name": "Bob Tanaka", "team": "marketing", "region": "west"})
    return admin


class Wire:
    """A page's pushes and API calls, in the order Chromium reported them: after the visit
    the first thing each page gets must be a push (no poll found the visit first)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.events: list[str] = []
        self.inflight = 0
        self.last = time.monotonic()
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        page.on("request", self._request)
        page.on("requestfinished", self._done)
        page.on("requestfailed", self._done)

    @staticmethod
    def _api(request: Any) -> bool:
        return bool(request.resource_type in ("fetch", "xhr"))

    def _request(self, request: Any) -> None:
        if self._api(request):
            self.events.append("api")
            self.inflight += 1
            self.last = time.monotonic()

    def _done(self, request: Any) -> None:
        if self._api(request):
            self.inflight -= 1
            self.last = time.monotonic()

    def _frame(self, payload: Any) -> None:
        if '"changed"' in (payload if isinstance(payload, str) else payload.decode("utf-8", "replace")):
            self.events.append("push")
            self.last = time.monotonic()  # the refresh it causes may wait up to R.MIN_GAP_MS

    def quiet(self, quiet_s: float) -> bool:
        return not self.inflight and time.monotonic() - self.last >= quiet_s

    @staticmethod
    def marks(*wires: Wire, within_s: float = 20.0) -> list[int]:
        """Where "after the visit" starts on each page, taken once all of them are quiet:
        nothing in flight and no request or push for longer than the pages' coalescing gap
        (R.MIN_GAP_MS, read from the page) plus half a second. A socket that (re)opened, or a
        push that arrived, just before would otherwise still owe its deferred refresh, an API
        call that is not a poll (seen once in CI on a loaded runner: the employee page's first
        event after the visit was a socket's catch-up refresh)."""
        quiet_s = max(float(w.page.evaluate("R.MIN_GAP_MS")) for w in wires) / 1000 + 0.5
        deadline = time.monotonic() + within_s
        while not all(w.quiet(quiet_s) for w in wires):
            assert time.monotonic() < deadline, f"pages never went quiet: {[w.events[-10:] for w in wires]}"
            wires[0].page.wait_for_timeout(100)
        return [len(w.events) for w in wires]

    def since(self, mark: int) -> list[str]:
        return self.events[mark:]


def _stat(page: Any, scope: str, metric: str) -> Any:
    return page.locator(f"{scope} [data-metric={metric}] .stat-value")


def test_admin_task_to_employee_link_to_customer_visit_shows_live_on_both_pages(
    browser: Any, tenant: Tenant, watch: Watch, shop: Shop
) -> None:
    from playwright.sync_api import expect

    admin_token = _setup_staff(tenant)
    base = tenant.base

    # --- the admin, on a desktop: sign in, create a campaign and a task by hand
    admin_ctx = browser.new_context(**DESKTOP, locale="en-US")
    admin = watch.page(admin_ctx.new_page(), "console")
    admin_wire = Wire(admin)
    admin.goto(base + "/console")
    expect(admin.locator("#login h1")).to_have_text(DICTS["en"]["auth.title.console"])
    sign_in(admin, admin_token)
    expect(admin.locator("#who")).to_contain_text(tenant.tenant_id)

    admin.locator("#tabs button[data-view=campaigns]").click()
    admin.locator("#campaign-name").press_sequentially("Winter sale 冬のセール")
    destination = f"{shop.base}/winter?ref={tenant.tenant_id}"
    admin.locator("#campaign-url").press_sequentially(destination)
    admin.locator("#campaign-pts-visit").fill("")
    admin.locator("#campaign-pts-visit").press_sequentially("10")
    admin.locator("#campaign-create").click()
    expect(admin.locator("#campaign-list td[data-col=name]")).to_have_text(["Winter sale 冬のセール"])

    admin.locator("#tabs button[data-view=tasks]").click()
    admin.locator("#task-campaign").select_option(label="Winter sale 冬のセール")
    admin.locator("#task-title").press_sequentially("Share the winter sale")
    admin.locator("#task-copy").press_sequentially("Our winter sale starts today!")
    admin.locator("#task-channels input[value=line]").check()
    admin.locator("#task-create").click()
    expect(admin.locator("#task-list td[data-col=title]")).to_have_text(["Share the winter sale"])
    detail = admin.locator("#task-detail")
    expect(detail.locator("h3")).to_have_text("Share the winter sale")
    expect(_stat(admin, "#task-totals", "delivered")).to_have_text("2")
    expect(_stat(admin, "#task-totals", "unique_visits")).to_have_text("0")
    task_id = detail.get_attribute("data-task")
    assert task_id and task_id.startswith("t")
    shot(admin, "01-console-task-created-desktop")

    # --- the employee, on a phone: open the task, copy the WeChat link
    alice_ctx = browser.new_context(**PHONE, locale="en-US")
    alice_ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    alice = watch.page(alice_ctx.new_page(), "m")
    alice_wire = Wire(alice)
    alice.goto(base + "/m")
    sign_in(alice, tenant.token("alice", "employee"))
    expect(_stat(alice, "#my-stats", "balance")).to_have_text("0")
    card = alice.locator(f".task-card[data-task={task_id}]")
    expect(card.locator(".task-head strong")).to_have_text("Share the winter sale")
    card.tap()
    wechat = alice.locator("#task-view .link-row[data-channel=wechat]")
    expect(wechat.locator(".short-url")).to_have_text(re.compile(re.escape(base) + r"/[A-Za-z0-9]{7}$"))
    shown = wechat.locator(".short-url").inner_text()
    assert alice.locator("#task-view .link-row[data-channel=line]").count() == 1
    line_share = alice.locator("#task-view .link-row[data-channel=line] a[data-action=share]")
    assert "social-plugins.line.me" in (line_share.get_attribute("href") or "")
    wechat.locator("button[data-action=copy]").tap()
    expect(alice.locator("#toast")).to_have_text(DICTS["en"]["common.copied"])
    copied = alice.evaluate("navigator.clipboard.readText()")
    assert copied == shown
    expect(_stat(alice, "#task-outcomes", "unique_visits")).to_have_text("0")
    shot(alice, "02-m-task-opened-phone")

    # the API agrees with what the page showed: one link per channel, this code
    links = tenant.call("GET", "/me/links", tenant.token("alice", "employee"))["items"]
    assert copied in {link["short_url"] for link in links}

    # --- a customer, signed out, on another phone, opens the copied link
    customer_ctx = browser.new_context(**PHONE, user_agent=IPHONE_UA, locale="ja-JP")
    customer = watch.page(customer_ctx.new_page(), "customer")
    # both pages are subscribed (their WebSocket is up, so they do not poll)
    for page in (admin, alice):
        expect(page.locator("body")).to_have_attribute("data-live", "up")
    admin_mark, alice_mark = Wire.marks(admin_wire, alice_wire)
    visited_at = time.monotonic()
    customer.goto(copied)
    assert customer.url.startswith(destination + "&"), customer.url
    assert "utm_source=wechat" in customer.url and "utm_medium=ripple" in customer.url
    expect(customer.locator("h1")).to_have_text("Welcome to the shop")
    assert [h for h in shop.hits if tenant.tenant_id in h], shop.hits
    shot(customer, "03-customer-landed-phone")

    # --- both pages show it live, by push over the WebSocket; the time it took is recorded
    expect(_stat(admin, "#task-totals", "unique_visits")).to_have_text("1", timeout=LIVE_WITHIN * 1000)
    admin_seen = time.monotonic() - visited_at
    expect(_stat(admin, "#task-totals", "shared")).to_have_text("1", timeout=1000)
    expect(_stat(alice, "#task-outcomes", "unique_visits")).to_have_text("1", timeout=LIVE_WITHIN * 1000)
    expect(_stat(alice, "#my-stats", "balance")).to_have_text("10", timeout=LIVE_WITHIN * 1000)
    employee_seen = time.monotonic() - visited_at
    # ... by push: the first thing either page got after the visit was a pushed change, and
    # the API calls that showed it came after it
    for name, wire, mark in (("console", admin_wire, admin_mark), ("m", alice_wire, alice_mark)):
        seen = wire.since(mark)
        assert seen and seen[0] == "push", f"{name}: {seen[:10]}"
    (ARTIFACTS / "visit-to-screen.json").write_text(
        json.dumps({"console_s": round(admin_seen, 2), "employee_page_s": round(employee_seen, 2)}) + "\n"
    )
    expect(alice.locator("#task-outcomes .badge")).to_have_text(DICTS["en"]["taskstatus.shared"])
    shot(admin, "04-console-visit-live-desktop")
    shot(alice, "05-m-visit-live-phone")

    # the task list and the employee's ledger agree
    admin.locator("#tabs button[data-view=tasks]").click()
    expect(admin.locator("#task-list td[data-col=unique_visits]")).to_have_text(["1"])
    alice.locator("#tabs button[data-view=points]").tap()
    expect(alice.locator("#ledger tbody tr")).to_have_count(1)
    expect(alice.locator("#ledger tbody td").nth(1)).to_have_text(DICTS["en"]["kind.unique_visit"])

    # --- the leaderboard puts alice first on both pages
    admin.locator("#tabs button[data-view=boards]").click()
    expect(admin.locator(".lb-out tbody tr").first).to_contain_text("Alice Wang")
    alice.locator("#tabs button[data-view=boards]").tap()
    # the phone page names people too (the board's names), and marks alice's own row
    expect(alice.locator(".lb-out tbody tr.me").first).to_contain_text("Alice Wang")
    shot(admin, "06-console-leaderboard-desktop")

    # --- the dashboard's analytics (counters kept by the stream consumer) show the visit
    admin.locator("#tabs button[data-view=dashboard]").click()
    expect(_stat(admin, "#dash-totals", "visits")).to_have_text("1", timeout=LIVE_WITHIN * 1000)
    expect(_stat(admin, "#dash-totals", "unique_visitors")).to_have_text("1")
    expect(_stat(admin, "#dash-totals", "points")).to_have_text("10")
    expect(admin.locator("#dash-funnel")).to_contain_text("1")
    expect(admin.locator("#dash-breakdown")).to_contain_text("WeChat")
    shot(admin, "07-console-dashboard-desktop")

    watch.close(admin_ctx, alice_ctx, customer_ctx)
    watch.assert_clean()


def test_today_on_the_boards_is_the_tenants_day_not_the_browsers(browser: Any, tenant: Tenant, watch: Watch) -> None:
    """A browser in UTC and a tenant 11 or 14 hours away, picked so the two calendars show
    different days right now: both pages' "today" and "this month" are the tenant's."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from playwright.sync_api import expect

    zone = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Pacific/Pago_Pago"  # UTC+14 / UTC-11
    today = datetime.now(ZoneInfo(zone)).date()
    assert today != datetime.now(UTC).date()  # the test can only fail if the fix is missing
    admin_token = _setup_staff(tenant)
    tenant.call("PUT", "/admin/tenant", admin_token, {"timezone": zone})
    admin_ctx = browser.new_context(**DESKTOP, locale="en-US", timezone_id="UTC")
    admin = watch.page(admin_ctx.new_page(), "console")
    admin.goto(tenant.base + "/console")
    sign_in(admin, admin_token)
    admin.locator("#tabs button[data-view=boards]").click()
    options = admin.locator("#lb-period option")
    expect(options.nth(1)).to_have_attribute("value", today.isoformat())
    expect(options.nth(3)).to_have_attribute("value", today.isoformat()[:7])
    phone_ctx = browser.new_context(**PHONE, locale="en-US", timezone_id="UTC")
    phone = watch.page(phone_ctx.new_page(), "m")
    phone.goto(tenant.base + "/m")
    sign_in(phone, tenant.token("alice", "employee"))
    expect(_stat(phone, "#my-stats", "balance")).to_have_text("0")  # /me has answered (and told the zone)
    phone.locator("#tabs button[data-view=boards]").tap()
    expect(phone.locator("#lb-period option").nth(1)).to_have_attribute("value", today.isoformat())
    watch.close(admin_ctx, phone_ctx)
    watch.assert_clean()


@pytest.mark.parametrize("lang", ["ja", "zh-Hans", "zh-Hant"])
def test_switching_language_translates_both_pages(browser: Any, tenant: Tenant, watch: Watch, lang: str) -> None:
    from playwright.sync_api import expect

    admin_token = _setup_staff(tenant)
    want = DICTS[lang]
    ctx = browser.new_context(**DESKTOP, locale="en-US")
    page = watch.page(ctx.new_page(), "console")
    page.goto(tenant.base + "/console")
    expect(page.locator("#signin")).to_have_text(DICTS["en"]["auth.signin"])
    page.locator("#lang-select").select_option(lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#signin")).to_have_text(want["auth.signin"])
    expect(page.locator("#login h1")).to_have_text(want["auth.title.console"])
    assert page.title() == want["console.title"]
    sign_in(page, admin_token)
    tabs = page.locator("#tabs button")
    expect(tabs).to_have_text([want["nav." + v] for v in CONSOLE_VIEWS])
    page.locator("#tabs button[data-view=tasks]").click()
    expect(page.locator("#task-create")).to_have_text(want["task.create"])
    expect(page.locator("#task-channels span").first).to_have_text(want["channel.wechat"])
    _assert_no_raw_keys(page)
    shot(page, f"10-console-{lang}-desktop")

    # the choice sticks (localStorage) and the employee page follows the browser's languages
    watch.reload(page)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    phone = browser.new_context(**PHONE, locale={"ja": "ja-JP", "zh-Hans": "zh-CN", "zh-Hant": "zh-TW"}[lang])
    m = watch.page(phone.new_page(), "m")
    m.goto(tenant.base + "/m")
    expect(m.locator("html")).to_have_attribute("lang", lang)
    expect(m.locator("#signin")).to_have_text(want["auth.signin"])
    sign_in(m, tenant.token("alice", "employee"))
    expect(m.locator("#tabs button[data-view=links]")).to_have_text(want["nav.links"])
    expect(m.locator("#my-stats [data-metric=balance] .stat-label")).to_have_text(want["points.balance"])
    expect(m.locator("#my-tasks .empty")).to_have_text(want["task.none_mine"])
    _assert_no_raw_keys(m)
    shot(m, f"11-m-{lang}-phone")
    m.locator("#lang-select").select_option("en")
    expect(m.locator("#tabs button[data-view=links]")).to_have_text(DICTS["en"]["nav.links"])
    watch.close(ctx, phone)
    watch.assert_clean()


def _assert_no_raw_keys(page: Any) -> None:
    """No visible text is a dictionary key (a string that missed its translation)."""
    texts: list[str] = page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.offsetParent !== null && e.children.length === 0)
            .map(e => e.textContent.trim()).filter(Boolean)"""
    )
    keys = set(DICTS["en"])
    assert [t for t in texts if t in keys] == []


@pytest.mark.parametrize(
    ("page_name", "role", "width", "views"),
    [
        ("console", "admin", 1280, CONSOLE_VIEWS),
        ("console", "admin", 390, CONSOLE_VIEWS),
        ("m", "employee", 390, M_VIEWS),
        ("m", "employee", 320, M_VIEWS),
    ],
    ids=["console-desktop", "console-phone", "m-phone", "m-small-phone"],
)
def test_every_view_fits_the_width_without_horizontal_overflow(
    browser: Any, tenant: Tenant, watch: Watch, page_name: str, role: str, width: int, views: list[str]
) -> None:
    from playwright.sync_api import expect

    admin = _setup_staff(tenant)
    campaign = tenant.call(
        "POST",
        "/admin/campaigns",
        admin,
        {
            "name": "A campaign with a rather long name to wrap",
            "destination_url": "https://shop.example.com/x",
            "points": {"unique_visit": 5},
        },
    )
    tenant.call(
        "POST",
        f"/campaigns/{campaign['campaign_id']}/links",
        tenant.token("alice", "employee"),
        {"channel": "linkedin"},
    )
    options = dict(PHONE) if width < 800 else dict(DESKTOP)
    options["viewport"] = {"width": width, "height": 800}
    ctx = browser.new_context(**options, locale="en-US")
    page = watch.page(ctx.new_page(), page_name)
    page.goto(tenant.base + "/" + page_name)
    sign_in(page, tenant.token("boss" if role == "admin" else "alice", role))
    for view in views:
        page.locator(f"#tabs button[data-view={view}]").click()
        expect(page.locator(f"#tabs button[data-view={view}]")).to_have_attribute("aria-current", "page")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(150)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{page_name} {view} at {width}px overflows by {overflow}px"
        shot(page, f"20-{page_name}-{view}-{width}")
    watch.close(ctx)
    watch.assert_clean()
