"""Employees' stories in headless Chromium against the local stack: an employee writes a story
on a phone and sees the content policy's findings as they type, fixes them, adds a photo and
sends it to review; an admin approves it in the console; a customer opens it on a phone and the
author is credited (the visit is hers, the approval's points are in her balance)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import DESKTOP, IPHONE_UA, PHONE, Tenant, Watch, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _until(what: str, ok: Callable[[], bool], within: float = 60.0) -> None:
    """Wait for the stream to do its work; a wait, not a timing assertion."""
    deadline = time.monotonic() + within
    while not ok():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def _no_overflow(page: Any) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], width


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (320, 240), "#3a7bd5").save(out, "JPEG")
    return out.getvalue()


def test_an_employee_story_is_checked_approved_and_credits_its_author(
    browser: Any, tenant: Tenant, watch: Watch, tmp_path: Any
) -> None:
    from playwright.sync_api import expect

    admin = tenant.token("boss", "admin")
    tenant.call("PUT", "/admin/employees/alice", admin, {"name": "山田 花子", "team": "sales", "region": "east"})
    alice = tenant.token("alice", "employee")
    tenant.call(
        "PUT",
        "/admin/content-policy",
        admin,
        {"banned_words": ["最安値"], "disclosure": "#PR", "approved_points": 25, "monthly_cap": 3},
    )
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(_photo())

    # --- the employee writes on a phone; the policy answers as she types
    ctx = browser.new_context(**PHONE, user_agent=IPHONE_UA, locale="ja-JP")
    phone = watch.page(ctx.new_page(), "employee")
    phone.goto(tenant.base + "/m#/stories")
    sign_in(phone, alice)
    phone.locator("#story-title").fill("展示会で最安値のご提案")
    expect(phone.locator("#story-findings li[data-rule=banned-word]")).to_have_count(1, timeout=30_000)
    expect(phone.locator("#story-title")).to_have_attribute("aria-invalid", "true")
    phone.locator("#story-title").fill("展示会でのうれしい出会い")
    phone.locator("#story-text").fill("先週の展示会で、長年のお客様と再会しました。")
    phone.locator("#story-paid").check()
    expect(phone.locator("#story-findings li[data-rule=disclosure]")).to_have_count(1)
    expect(phone.locator("#story-findings li")).to_have_count(1)
    phone.locator("#story-text").fill("先週の展示会で、長年のお客様と再会しました。 #PR")
    expect(phone.locator("#story-findings li")).to_have_count(0)
    phone.locator("#story-image").set_input_files(str(photo))
    expect(phone.locator("#story-images img")).to_have_count(1, timeout=30_000)
    _no_overflow(phone)
    phone.set_viewport_size({"width": 320, "height": 640})
    _no_overflow(phone)
    phone.locator("#story-submit").click()
    expect(phone.locator("#my-stories article .badge")).to_have_text("レビュー中")
    mine = tenant.call("GET", "/me/stories", alice)["items"]
    assert len(mine) == 1 and mine[0]["status"] == "pending" and len(mine[0]["images"]) == 1
    sid = mine[0]["story_id"]

    # --- the admin approves it in the console
    actx = browser.new_context(**DESKTOP, locale="en-US")
    console = watch.page(actx.new_page(), "console")
    console.goto(tenant.base + "/console#/stories")
    sign_in(console, admin)
    item = console.locator(f"#stories-queue article[data-story={sid}]")
    expect(item).to_contain_text("展示会でのうれしい出会い", timeout=30_000)
    expect(item).to_contain_text("山田 花子")
    item.locator(f"button[data-approve={sid}]").click()
    expect(console.locator("#stories-queue")).to_contain_text("Nothing here.")
    _no_overflow(console)
    watch.close(actx)

    story = tenant.call("GET", f"/me/stories/{sid}", alice)
    assert story["status"] == "approved" and story["points"] == 25, story
    short_url = story["short_url"]

    # --- a customer opens it on a phone, in Chinese; Alice is credited
    cctx = browser.new_context(**PHONE, user_agent=IPHONE_UA, locale="zh-CN")
    customer = watch.page(cctx.new_page(), "customer")
    customer.goto(short_url)
    expect(customer.locator("h1")).to_have_text("展示会でのうれしい出会い")
    expect(customer.locator(".by")).to_have_text("山田 花子 的故事")
    expect(customer.locator("#story .imgs img")).to_have_count(1)
    assert customer.evaluate("() => document.querySelector('#story .imgs img').naturalWidth") > 0
    _no_overflow(customer)
    watch.close(cctx)

    def visits() -> int:
        got = tenant.call("GET", f"/analytics/summary?campaign={sid}", admin)
        return int(got["totals"]["visits"])

    _until("the customer's visit is counted for Alice's story", lambda: visits() >= 1)
    assert tenant.call("GET", "/me", alice)["points"]["balance"] >= 25

    # on her phone the story is published, with its link to share
    phone.reload()
    expect(phone.locator("#my-stories article .badge")).to_have_text("公開中", timeout=30_000)
    expect(phone.locator("#my-stories article [data-action=copy]")).to_have_count(1)
    watch.close(ctx)
