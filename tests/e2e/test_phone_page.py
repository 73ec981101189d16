"""The employee page feels like an app on small phones (headless Chromium at 320, 360 and
390 px): the bottom navigation is fixed to the screen and shows every destination (icon and
label, none off-screen or overlapping), the header is one line, boards show names and mark
my own row, a customer's phone number is a tel: link, and the page declares a web app
manifest."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.e2e.conftest import IPHONE_UA, PHONE, Tenant, Watch, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

M_DESTINATIONS = ["tasks", "links", "points", "boards", "rewards", "customers", "card"]


def _staff(tenant: Tenant) -> None:
    admin = tenant.token("boss", "admin")
    tenant.call("PUT", "/admin/employees/alice", admin, {"name": "Alice Wang", "team": "sales", "region": "east"})
    tenant.call("PUT", "/admin/employees/bob", admin, {"name": "Bob Tanaka", "team": "sales", "region": "west"})


@pytest.mark.parametrize("width", [320, 360, 390])
def test_every_destination_fits_the_fixed_bottom_navigation(
    browser: Any, tenant: Tenant, watch: Watch, width: int
) -> None:
    _staff(tenant)
    options = dict(PHONE)
    options["viewport"] = {"width": width, "height": 640}
    ctx = browser.new_context(**options, user_agent=IPHONE_UA, locale="en-US")
    page = watch.page(ctx.new_page(), "m")
    page.goto(tenant.base + "/m")
    sign_in(page, tenant.token("alice", "employee"))
    boxes = page.evaluate(
        """() => Array.from(document.querySelectorAll('#tabs button')).map(b => {
            const r = b.getBoundingClientRect(), l = b.querySelector('.tab-label');
            return {view: b.dataset.view, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                    clipped: l.scrollWidth > l.clientWidth + 1, icon: getComputedStyle(b, '::before').width};
        })"""
    )
    assert [b["view"] for b in boxes] == M_DESTINATIONS
    for b in boxes:
        assert b["left"] >= 0 and b["right"] <= width, b
        assert b["right"] - b["left"] >= 40, b  # a thumb-sized target each
        assert b["icon"] == "22px", b
    for a, b in itertools.pairwise(boxes):
        assert a["right"] <= b["left"] + 0.5, (a, b)
    # fixed to the bottom of the screen, also on a short view and after scrolling
    nav = page.evaluate(
        """() => { const nav = document.getElementById('tabs');
                   return [nav.getBoundingClientRect().bottom, getComputedStyle(nav).position]; }"""
    )
    assert nav == [640, "fixed"]
    # one line of header (brand, who, language, sign out)
    header = page.evaluate("() => document.querySelector('.topbar').getBoundingClientRect().height")
    assert header <= 56, header
    assert page.locator("#logout").evaluate("e => e.getClientRects().length") == 1
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    shot(page, f"m-nav-{width}")
    watch.close(ctx)
    watch.assert_clean()


def test_boards_show_names_and_mark_me_and_phone_numbers_call(browser: Any, tenant: Tenant, watch: Watch) -> None:
    import requests

    _staff(tenant)
    admin = tenant.token("boss", "admin")
    campaign = tenant.call(
        "POST",
        "/admin/campaigns",
        admin,
        {"name": "Spring", "destination_url": "https://shop.example/", "points": {"unique_visit": 5}},
    )
    alice = tenant.token("alice", "employee")
    bob = tenant.token("bob", "employee")
    for who, token, visitors in (("alice", alice, 1), ("bob", bob, 2)):
        link = tenant.call("POST", f"/campaigns/{campaign['campaign_id']}/links", token, {"channel": "wechat"})
        for n in range(visitors):
            ua = f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.{who}{n}"
            requests.get(link["short_url"], headers={"User-Agent": ua}, allow_redirects=False, timeout=10)
    ctx = browser.new_context(**PHONE, user_agent=IPHONE_UA, locale="en-US")
    page = watch.page(ctx.new_page(), "m")
    page.goto(tenant.base + "/m")
    sign_in(page, alice)
    manifest = page.evaluate("() => document.querySelector('link[rel=manifest]').href")
    assert "/assets/manifest.webmanifest?v=" in manifest
    page.locator("#tabs button[data-view=boards]").click()
    mine = page.locator("tr.me")
    mine.wait_for(timeout=20000)  # the consumer credits both within seconds; the page refreshes itself
    page.locator("td", has_text="Bob Tanaka").wait_for(timeout=20000)
    assert "Alice Wang" in mine.inner_text() and "me" in mine.inner_text()
    assert page.locator("tr.me").count() == 1 and mine.get_attribute("aria-current") == "true"
    assert page.locator("td", has_text="bob").filter(has_not_text="Bob").count() == 0  # names, not ids
    shot(page, "m-boards-me")
    # contacts (customer lists and details use R.contact): a tap calls or writes; masked pool values stay text
    links = page.evaluate(
        """() => [R.contact('+86 138-0013-8000', 'li.lei@example.cn'), R.contact('138****8000', null)]
            .map(el => Array.from(el.querySelectorAll ? el.querySelectorAll('a') : [])
                 .map(a => a.getAttribute('href')))"""
    )
    assert links == [["tel:+8613800138000", "mailto:li.lei@example.cn"], []]
    watch.close(ctx)
    watch.assert_clean()


@pytest.mark.parametrize(
    ("page_name", "role", "views"),
    [("m", "employee", ["customers", "boards"]), ("console", "admin", ["employees", "rewards"])],
)
def test_views_live_in_the_url(
    browser: Any, tenant: Tenant, watch: Watch, page_name: str, role: str, views: list[str]
) -> None:
    """A reload stays on the view, the back button goes to the previous one, a link opens its view."""
    from playwright.sync_api import expect

    _staff(tenant)
    ctx = browser.new_context(**PHONE, user_agent=IPHONE_UA, locale="en-US")
    page = watch.page(ctx.new_page(), page_name)
    page.goto(f"{tenant.base}/{page_name}")
    sign_in(page, tenant.token("alice" if role == "employee" else "boss", role))
    first = page.evaluate("() => location.hash")

    def current(view: str) -> None:
        expect(page.locator(f"#tabs button[data-view={view}]")).to_have_attribute("aria-current", "page")

    for view in views:
        page.locator(f"#tabs button[data-view={view}]").click()
        current(view)
        assert page.evaluate("() => location.hash") == f"#/{view}"
    watch.reload(page)
    page.locator("#app").wait_for(state="visible")
    current(views[-1])
    page.go_back()
    current(views[0])
    assert page.evaluate("() => location.hash") == f"#/{views[0]}"
    page.go_back()
    assert page.evaluate("() => location.hash") == first
    # a link to a view, opened in a new tab of the same session, opens that view
    other = watch.page(ctx.new_page(), page_name + "-link")
    other.goto(f"{tenant.base}/{page_name}#/{views[-1]}")
    sign_in(other, tenant.token("alice" if role == "employee" else "boss", role))
    expect(other.locator(f"#tabs button[data-view={views[-1]}]")).to_have_attribute("aria-current", "page")
    watch.close(ctx)
    watch.assert_clean()
