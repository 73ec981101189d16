"""Customers and posters through the pages, in headless Chromium against the local stack.

A signed-out customer opens an employee's link, lands on the campaign's hosted page and
leaves their details; the admin opens that customer in the console, adds a note, changes the
status and records a conversion, and the detail panel (and the list) show each of them; the
owning employee sees the customer and the note on /m and works it too (note, status), with no
conversion button (the API refuses employees that). Then an employee's poster renders on /m.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ripple.web.console import STATIC_DIR
from tests.e2e.conftest import DESKTOP, IPHONE_UA, PHONE, Tenant, Watch, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

EN: dict[str, str] = json.loads((STATIC_DIR / "i18n.json").read_text(encoding="utf-8"))["en"]
LANDING = {
    "default_lang": "en",
    "fields": ["name", "phone", "email", "message"],
    "required": ["name"],
    "copy": {"en": {"title": "Spring launch", "body": "Book a demo", "cta": "Book now", "consent": "I agree"}},
}


def _staff(tenant: Tenant) -> str:
    admin = tenant.token("boss", "admin")
    tenant.call("PUT", "/admin/tenant", admin, {"name": "E2E Co.", "timezone": "Asia/Tokyo"})
    tenant.call("PUT", "/admin/employees/alice", admin, {"name": "Alice Wang", "team": "sales", "region": "east"})
    return admin


def _field(page: Any, name: str) -> Any:
    return page.locator(f"#customer-detail [data-field={name}] dd")


def test_a_lead_from_the_landing_page_is_worked_in_the_console_and_on_the_employee_page(
    browser: Any, tenant: Tenant, watch: Watch
) -> None:
    from playwright.sync_api import expect

    admin_token = _staff(tenant)
    alice_token = tenant.token("alice", "employee")
    campaign = tenant.call(
        "POST",
        "/admin/campaigns",
        admin_token,
        {"name": "Spring launch 春", "landing": LANDING, "points": {"unique_visit": 5, "lead": 50}},
    )
    link = tenant.call("POST", f"/campaigns/{campaign['campaign_id']}/links", alice_token, {"channel": "wechat"})

    # --- a signed-out customer opens alice's link and leaves their details on the hosted page
    customer_ctx = browser.new_context(**PHONE, user_agent=IPHONE_UA, locale="en-US")
    customer = watch.page(customer_ctx.new_page(), "customer")
    customer.goto(link["short_url"])
    assert re.search(r"/p/" + re.escape(link["code"]) + r"(\?|$)", customer.url), customer.url
    customer.locator("#f-name").fill("Hanako Yamada")
    customer.locator("#f-phone").fill("+81 90-1234-5678")
    customer.locator("#f-email").fill("hanako@example.com")
    customer.locator("#f-message").fill("Please call after 6pm")
    customer.locator("#f-consent").check()
    customer.locator("#submit").tap()
    expect(customer.locator("#thanks")).to_be_visible(timeout=30_000)  # the stack's first lead imports phone parsing
    (made,) = tenant.call("GET", "/customers", admin_token)["items"]
    assert (made["name"], made["owner"], made["status"]) == ("Hanako Yamada", "alice", "new")
    customer_id = made["customer_id"]

    # --- the admin opens the customer from the list
    admin_ctx = browser.new_context(**DESKTOP, locale="en-US")
    admin = watch.page(admin_ctx.new_page(), "console")
    admin.goto(tenant.base + "/console")
    sign_in(admin, admin_token)
    admin.locator("#tabs button[data-view=customers]").click()
    row = admin.locator("#view tr.clickable", has_text="Hanako Yamada")
    expect(row.locator("td[data-col=status]")).to_have_text(EN["status.new"])
    # the search box: no match empties the list, part of the phone number finds her again
    admin.locator("#customer-q").fill("nobody at all")
    expect(row).to_have_count(0)
    admin.locator("#customer-q").fill("1234-5678")
    expect(row).to_have_count(1)
    expect(admin.locator("#customer-panel")).to_be_hidden()
    row.click()
    detail = admin.locator("#customer-detail")
    expect(detail).to_have_attribute("data-customer", customer_id)
    expect(detail.locator(".cd-name")).to_have_text("Hanako Yamada")
    expect(_field(admin, "contact")).to_contain_text("hanako@example.com")
    # a tap writes or calls: the contact's e-mail is a mailto: link
    assert _field(admin, "contact").locator("a[href='mailto:hanako@example.com']").count() == 1
    expect(_field(admin, "owner")).to_have_text("Alice Wang")
    expect(_field(admin, "status")).to_have_text(EN["status.new"])
    expect(_field(admin, "source")).to_have_text(f"Spring launch 春 · {EN['channel.wechat']}")
    expect(_field(admin, "first_touch")).to_contain_text("Alice Wang · ")
    expect(_field(admin, "leads")).to_have_text("1")
    expect(_field(admin, "chain")).to_contain_text("Alice Wang → Hanako Yamada")  # by name, ids on hover
    expect(detail.locator("#cd-history li")).to_have_count(1)
    lead = detail.locator("#cd-history li[data-kind=lead]")
    expect(lead.locator(".cd-kind")).to_have_text(EN["event.lead"])
    expect(lead).to_contain_text(EN["actor.public"])
    expect(lead.locator(".cd-text")).to_have_text(f"Spring launch 春 · {EN['channel.wechat']} · Please call after 6pm")
    expect(detail.locator(".empty")).to_have_text(EN["customer.no_notes"])

    # a note
    detail.locator("#cd-note").fill("Called her; wants a demo on Friday.")
    detail.locator("#cd-note-add").click()
    expect(admin.locator("#toast")).to_have_text(EN["customer.note_added"])
    expect(detail.locator("#cd-notes li")).to_have_count(1)
    expect(detail.locator("#cd-notes li .cd-text")).to_have_text("Called her; wants a demo on Friday.")
    expect(detail.locator("#cd-notes li")).to_contain_text("boss · ")

    # a status change: the panel and the list follow (saving the current status is not offered)
    expect(detail.locator("#cd-status-save")).to_be_disabled()
    detail.locator("#cd-status").select_option("qualified")
    detail.locator("#cd-status-save").click()
    expect(admin.locator("#toast")).to_have_text(EN["customer.status_saved"])
    expect(_field(admin, "status")).to_have_text(EN["status.qualified"])
    expect(detail.locator("#cd-history li[data-kind=status] .cd-text")).to_have_text(
        f"{EN['status.new']} → {EN['status.qualified']}"
    )
    expect(row.locator("td[data-col=status]")).to_have_text(EN["status.qualified"])

    # a conversion: the deal in the history, the customer won
    detail.locator("#cd-amount").fill("1234.5")
    detail.locator("#cd-currency").fill("jpy")
    detail.locator("#cd-convert").click()
    expect(admin.locator("#toast")).to_have_text(EN["customer.converted"].replace("{deal}", "1234.50 JPY"))
    expect(detail.locator("#cd-history li[data-kind=conversion] .cd-text")).to_have_text(
        "1234.50 JPY · Spring launch 春"
    )
    expect(_field(admin, "status")).to_have_text(EN["status.won"])
    expect(detail.locator("#cd-status")).to_have_value("won")
    expect(row.locator("td[data-col=status]")).to_have_text(EN["status.won"])
    kinds = ["conversion", "status", "note", "lead"]  # newest first
    expect(detail.locator("#cd-history li")).to_have_count(len(kinds))
    assert [li.get_attribute("data-kind") for li in detail.locator("#cd-history li").all()] == kinds
    shot(admin, "30-console-customer-detail-desktop")

    # the API agrees with what the panel showed
    stored = tenant.call("GET", f"/customers/{customer_id}", admin_token)
    assert stored["status"] == "won"
    assert [e["kind"] for e in stored["history"]] == kinds
    assert stored["history"][0]["data"]["amount"] == "1234.50 JPY"
    assert stored["history"][2]["data"]["text"] == "Called her; wants a demo on Friday."

    # --- alice, on her phone, sees her customer and the admin's note, and works it too
    alice_ctx = browser.new_context(**PHONE, locale="en-US")
    alice = watch.page(alice_ctx.new_page(), "m")
    alice.goto(tenant.base + "/m")
    sign_in(alice, alice_token)
    alice.locator("#tabs button[data-view=customers]").tap()
    card = alice.locator(f"#my-customers .customer[data-customer={customer_id}]")
    expect(card.locator("strong")).to_have_text("Hanako Yamada")
    expect(card.locator(".badge")).to_have_text(EN["status.won"])
    card.tap()
    mine = alice.locator("#customer-detail")
    expect(mine.locator(".cd-name")).to_have_text("Hanako Yamada")
    expect(alice.locator("#tabs button[data-view=customers]")).to_have_attribute("aria-current", "page")
    expect(mine.locator("#cd-notes li .cd-text")).to_have_text(["Called her; wants a demo on Friday."])
    expect(mine.locator("#cd-history li")).to_have_count(len(kinds))
    expect(_field(alice, "status")).to_have_text(EN["status.won"])
    assert mine.locator("#cd-convert").count() == 0  # the conversion is the admin's
    mine.locator("#cd-note").fill("Sent the brochure.")
    mine.locator("#cd-note-add").tap()
    expect(mine.locator("#cd-notes li .cd-text")).to_have_text(
        ["Sent the brochure.", "Called her; wants a demo on Friday."]
    )
    mine.locator("#cd-status").select_option("contacted")
    mine.locator("#cd-status-save").tap()
    expect(_field(alice, "status")).to_have_text(EN["status.contacted"])
    overflow = alice.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the customer on /m overflows by {overflow}px"
    shot(alice, "31-m-customer-phone")
    alice.locator("#customer-back").tap()
    expect(card.locator(".badge")).to_have_text(EN["status.contacted"])
    stored = tenant.call("GET", f"/customers/{customer_id}", alice_token)
    assert [e["kind"] for e in stored["history"]][:2] == ["status", "note"]
    assert stored["history"][0]["actor"] == "alice" and stored["history"][0]["data"] == {
        "from": "won",
        "to": "contacted",
    }

    # tags: the admin adds two at once, the list filters by one, one is removed by its button
    detail.locator("#cd-tag").fill("vip, 展示会")
    detail.locator("#cd-tag-add").click()
    expect(admin.locator("#toast")).to_have_text(EN["customer.tags_saved"])
    expect(detail.locator("#cd-tags [data-tag]")).to_have_count(2)
    admin.locator("#customer-q").fill("")
    admin.locator("#customer-tag").fill("展示会")
    expect(row).to_have_count(1)
    admin.locator("#customer-tag").fill("no-such-tag")
    expect(row).to_have_count(0)
    admin.locator("#customer-tag").fill("")
    expect(row).to_have_count(1)
    detail.locator("[data-remove-tag=vip]").click()
    expect(detail.locator("#cd-tags [data-tag]")).to_have_count(1)
    assert tenant.call("GET", f"/customers/{customer_id}", admin_token)["tags"] == ["展示会"]

    watch.close(customer_ctx, admin_ctx, alice_ctx)
    watch.assert_clean()


def test_the_employees_poster_renders_on_the_employee_page(browser: Any, tenant: Tenant, watch: Watch) -> None:
    from playwright.sync_api import expect

    admin_token = _staff(tenant)
    campaign = tenant.call(
        "POST",
        "/admin/campaigns",
        admin_token,
        {"name": "Poster sale", "destination_url": "https://shop.example.com/", "points": {"unique_visit": 5}},
    )
    template = tenant.call(
        "POST",
        "/admin/poster-templates",
        admin_token,
        {
            "name": "Plain",
            "canvas": {"width": 1080, "height": 1920},
            "background_color": "#E8F0FF",
            "text_boxes": [
                {"binding": "campaign_title", "x": 60, "y": 80, "width": 960, "height": 200, "font_size": 96},
                {"binding": "employee_name", "x": 60, "y": 1200, "width": 960, "height": 160, "font_size": 120},
            ],
            "qr": {"x": 340, "y": 1520, "size": 400},
        },
    )
    deadline = (datetime.now(UTC) + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    task = tenant.call(
        "POST",
        "/admin/tasks",
        admin_token,
        {
            "campaign_id": campaign["campaign_id"],
            "title": "Post the poster",
            "copies": [{"text": "Our poster sale"}],
            "poster_template_id": template["template_id"],
            "channels": ["line"],
            "audience": {"all": True},
            "deadline": deadline,
        },
    )

    ctx = browser.new_context(**PHONE, locale="en-US")
    page = watch.page(ctx.new_page(), "m")
    page.goto(tenant.base + "/m")
    sign_in(page, tenant.token("alice", "employee"))
    page.locator(f".task-card[data-task={task['task_id']}]").tap()
    button = page.locator("#task-view .poster-box button")
    expect(button).to_have_text(EN["poster.show"].replace("{channel}", EN["channel.line"]))
    img = page.locator("#task-view img.poster")
    expect(img).to_be_hidden()
    button.tap()
    expect(img).to_be_visible()
    # rendered in-process by the poster function on first request, then served from (moto's) S3
    page.wait_for_function(
        "() => { const i = document.querySelector('#task-view img.poster');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=60_000,
    )
    size = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert size == [1080, 1920], size
    assert (img.get_attribute("src") or "").startswith("http")
    img.scroll_into_view_if_needed()
    shot(page, "32-m-poster-phone")
    watch.close(ctx)
    watch.assert_clean()
