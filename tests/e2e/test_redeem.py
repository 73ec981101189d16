"""One redemption per user action on /m, in headless Chromium against the local stack.

"Redeem" opens a confirmation; the confirmation's Idempotency-Key is made once per intended
redemption; the confirm button is disabled while the request is pending, and a double tap
charges once (issue 12: each click used to send a new key, and the button stayed enabled).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from ripple.web.console import STATIC_DIR
from tests.e2e.conftest import IPHONE_UA, PHONE, Tenant, Watch, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

EN: dict[str, str] = json.loads((STATIC_DIR / "i18n.json").read_text(encoding="utf-8"))["en"]
PRICE = 10


def _earn(tenant: Tenant, admin: str, alice: str, visits: int) -> None:
    """Alice earns ``visits`` x 10 points the ordinary way: people open her link."""
    campaign = tenant.call(
        "POST",
        "/admin/campaigns",
        admin,
        {"name": "Mall test", "destination_url": "https://shop.example.com/", "points": {"unique_visit": 10}},
    )
    link = tenant.call("POST", f"/campaigns/{campaign['campaign_id']}/links", alice, {"channel": "line"})
    for n in range(visits):
        ua = IPHONE_UA.replace("Mobile/15E148", f"Mobile/15E{n:03d}")
        resp = requests.get(link["short_url"], headers={"User-Agent": ua}, allow_redirects=False, timeout=10)
        assert resp.status_code == 302
    deadline = time.monotonic() + 60  # a wait for the stream, not a timing assertion
    while tenant.call("GET", "/me", alice)["points"]["available"] < visits * 10:
        assert time.monotonic() < deadline, "the visits were never paid"
        time.sleep(0.2)


def test_a_double_tap_on_redeem_charges_once(browser: Any, tenant: Tenant, watch: Watch) -> None:
    from playwright.sync_api import expect

    admin = tenant.token("boss", "admin")
    alice = tenant.token("alice", "employee")
    tenant.call("PUT", "/admin/employees/alice", admin, {"name": "Alice Wang", "team": "sales", "region": "east"})
    _earn(tenant, admin, alice, 3)
    reward = tenant.call(
        "POST", "/admin/rewards", admin, {"name": "Coffee", "price": PRICE, "kind": "physical", "stock": 5}
    )

    ctx = browser.new_context(**PHONE, user_agent=IPHONE_UA, locale="en-US")
    page = watch.page(ctx.new_page(), "m")
    posts: list[dict[str, str]] = []
    held: list[Any] = []
    page.on("request", lambda r: posts.append(r.headers) if r.method == "POST" and "/redeem" in r.url else None)
    page.goto(tenant.base + "/m")
    sign_in(page, alice)
    page.locator("#tabs button[data-view=rewards]").click()
    box = page.locator(f".redeem[data-reward='{reward['reward_id']}']")

    # "Redeem" only asks; going back charges nothing
    box.get_by_role("button", name=EN["reward.redeem"]).tap()
    expect(box).to_contain_text("Redeem “Coffee” for 10 points?")
    box.get_by_role("button", name=EN["common.back"]).tap()
    expect(box.get_by_role("button", name=EN["reward.redeem"])).to_be_visible()
    assert posts == []

    # confirm, with the answer held back: the button is disabled while the request is pending
    page.route("**/rewards/*/redeem", lambda route: held.append(route))
    box.get_by_role("button", name=EN["reward.redeem"]).tap()
    confirm = box.locator("button[data-confirm]")
    confirm.evaluate("b => { b.click(); b.click(); }")  # a double tap, faster than any re-render
    expect(confirm).to_be_disabled()
    expect(confirm).to_have_text(EN["reward.redeeming"])
    confirm.tap(force=True)  # a third tap on the disabled button
    page.wait_for_timeout(300)  # give any extra request the chance to be made (none may be)
    assert len(held) == 1 and len(posts) == 1
    held[0].continue_()
    page.unroute("**/rewards/*/redeem")
    expect(page.locator("#toast")).to_contain_text("Redeemed “Coffee”")
    expect(box.get_by_role("button", name=EN["reward.redeem"])).to_be_enabled()

    mine = tenant.call("GET", "/me/redemptions", alice)["items"]
    assert len(mine) == 1
    assert tenant.call("GET", "/me", alice)["points"]["available"] == 30 - PRICE

    # a second, separate action is a second redemption, with a key of its own
    box.get_by_role("button", name=EN["reward.redeem"]).tap()
    box.locator("button[data-confirm]").tap()
    expect(page.locator("#my-redemptions tbody tr")).to_have_count(2)
    assert len(posts) == 2 and posts[0]["idempotency-key"] != posts[1]["idempotency-key"]
    assert tenant.call("GET", "/me", alice)["points"]["available"] == 30 - 2 * PRICE
    watch.close(ctx)
    watch.assert_clean()
