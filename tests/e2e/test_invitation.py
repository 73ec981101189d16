"""Accepting an invitation in headless Chromium, with nothing typed but the new password: an
admin opens an invited employee in the console and shows a fresh invitation as a QR code; the
employee's phone reads it (an independent decoder, zxing-cpp, on the screenshot of what the
console drew) and opens the link, which asks only for their own password and signs them in.
The link works once. An admin's e-mailed invitation, opened on the phone page, lands in the
console."""

from __future__ import annotations

import html
import io
import json
import re
import time
from typing import Any

import pytest

from tests.e2e.conftest import DESKTOP, IPHONE_UA, PHONE, Tenant, Watch, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _expected_401(watch: Watch) -> None:
    """The used invitation's refused sign-in is what the test asked for."""
    expected = [p for p in watch.problems if ("HTTP 401: POST" in p and "/auth/sign-in" in p) or "status of 401" in p]
    assert any("HTTP 401: POST" in p for p in expected), watch.problems
    watch.problems[:] = [p for p in watch.problems if p not in expected]


def _accept(page: Any, password: str) -> None:
    page.locator("#newpw-form").wait_for(state="visible")
    assert page.evaluate("() => location.hash") == ""  # the temporary password left the address bar
    page.locator("#new-password").fill(password)
    page.locator("#set-password").click()


def test_an_invitation_qr_from_the_console_signs_the_employee_in_on_their_phone(
    browser: Any, tenant: Tenant, watch: Watch
) -> None:
    import zxingcpp
    from PIL import Image

    admin = tenant.token("inv-admin", "admin")
    email = tenant.email("nina")
    tenant.call("PUT", "/admin/employees/nina", admin, {"name": "Nina", "team": "t", "region": "r", "email": email})

    desk = browser.new_context(**DESKTOP)
    console = watch.page(desk.new_page(), "console")
    console.goto(tenant.base + "/console")
    console.locator("#login").wait_for(state="visible")
    sign_in(console, admin)
    console.locator("#tabs button[data-view=employees]").click()
    row = console.locator("#employee-list tr", has_text="nina")
    row.locator("[data-status=invited]").wait_for()
    row.click()
    console.locator("#ed-status[data-status=invited]").wait_for()
    console.locator("#ed-invite-qr").click()
    qr = console.locator("#ed-invitation-qr")
    qr.wait_for(state="visible")
    console.wait_for_function("() => document.getElementById('ed-invitation-qr').complete")
    shot(console, "invitation-qr")
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    url = code.text
    assert url == console.locator("#ed-invitation-url").input_value()
    assert url.startswith(tenant.base + "/m#invite=")

    phone = browser.new_context(**PHONE, user_agent=IPHONE_UA)
    m = watch.page(phone.new_page(), "m")
    m.goto(url)
    m.locator("#newpw-form").wait_for(state="visible")
    assert email in m.locator("#login-note").inner_text()
    _accept(m, "nina-own-passw0rd")
    m.locator("#app").wait_for(state="visible")
    assert "nina" in m.locator("#who").inner_text()
    shot(m, "invitation-accepted")
    assert (
        tenant.call("GET", "/me", m.evaluate("() => sessionStorage.getItem('ripple.token.m')"))["employee_id"] == "nina"
    )

    # the same link a second time (another phone): refused, said on the page, nothing signed in
    again = browser.new_context(**PHONE, user_agent=IPHONE_UA)
    m2 = watch.page(again.new_page(), "m-again")
    m2.goto(url)
    m2.locator("#login-error").wait_for(state="visible")
    assert m2.locator("#login-error").inner_text() == _text(m2, "auth.invite_invalid")
    assert m2.locator("#email").input_value() == email and m2.locator("#app").is_hidden()
    watch.close(desk, phone, again)
    _expected_401(watch)
    watch.assert_clean()


def _text(page: Any, key: str) -> str:
    return str(page.evaluate(f"() => window.R.t({json.dumps(key)})"))


def test_an_admins_emailed_invitation_opened_on_the_phone_page_lands_in_the_console(
    browser: Any, tenant: Tenant, watch: Watch
) -> None:
    before = int(time.time() * 1000)
    tenant.invite("inv-boss", "admin")
    body = None
    for line in reversed(tenant.stack.mailbox.read_text(encoding="utf-8").splitlines()):
        msg = json.loads(line)
        if msg["to"] == tenant.email("inv-boss") and msg["kind"] == "invitation" and msg["ts"] >= before:
            body = msg["body"]
            break
    assert body is not None
    (href,) = re.findall(r'href="([^"]+)"', body)
    ctx = browser.new_context(**PHONE, user_agent=IPHONE_UA)
    page = watch.page(ctx.new_page(), "m")
    page.goto(html.unescape(href))
    _accept(page, "boss-own-passw0rd")
    page.wait_for_url(tenant.base + "/console")
    page.locator("#app").wait_for(state="visible")
    assert "inv-boss" in page.locator("#who").inner_text()
    assert page.evaluate("() => sessionStorage.getItem('ripple.token.m')") is None
    watch.close(ctx)
    watch.assert_clean()
