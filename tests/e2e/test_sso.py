"""Signing in with the company account in headless Chromium: the pages' button goes to the
Hosted UI (the stack's stand-in, infra/hosted_ui.py) with an authorization-code request
carrying a PKCE S256 challenge; the company's provider signs the person in; the pool's
PreTokenGeneration trigger (the template's handler) finds the employee the admin added by
e-mail; the page redeems the code with its verifier and is signed in. Someone who is no
employee is told so on the page and gets no token. Sign-out also ends the Hosted UI session."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.conftest import DESKTOP, IPHONE_UA, PHONE, Tenant, Watch, shot
from tests.stack import SSO_TENANT

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _company(local_stack: Any) -> Tenant:
    return Tenant(local_stack, SSO_TENANT)


def test_an_employee_signs_in_on_the_phone_with_the_company_account(
    browser: Any, local_stack: Any, watch: Watch
) -> None:
    company = _company(local_stack)
    admin = company.token("sso-admin", "admin")
    email = f"yui@{SSO_TENANT}.example.test"
    company.call("PUT", "/admin/employees/yui", admin, {"name": "Yui", "team": "t", "region": "r", "email": email})

    ctx = browser.new_context(**PHONE, user_agent=IPHONE_UA)
    page = watch.page(ctx.new_page(), "m")
    page.goto(company.base + "/m")
    page.locator("#sso-signin").wait_for(state="visible")
    assert page.locator("#sso-signin").inner_text() == "Sign in with Company"
    with page.expect_request(lambda r: "/oauth2/authorize" in r.url) as asked:
        page.locator("#sso-signin").click()
    query = parse_qs(urlsplit(asked.value.url).query)
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43 and query["identity_provider"] == ["Company"]
    assert query["redirect_uri"] == [company.base + "/m"]
    page.locator("#idpEmail").fill(email)
    with page.expect_response(lambda r: r.url.endswith("/oauth2/token")) as redeemed:
        page.locator("#idpSubmit").click()
    assert redeemed.value.status == 200
    page.locator("#app").wait_for(state="visible")
    assert urlsplit(page.url).query == ""  # the code left the address bar
    assert "yui" in page.locator("#who").inner_text()
    shot(page, "sso-signed-in")
    token = page.evaluate("() => sessionStorage.getItem('ripple.token.m')")
    assert company.call("GET", "/me", token)["employee_id"] == "yui"
    # the code worked once: redeemed again (by anyone) it is refused
    code = parse_qs(urlsplit(redeemed.value.request.url).query) or parse_qs(redeemed.value.request.post_data)
    again = requests.post(
        local_stack_hosted(local_stack) + "/oauth2/token", data={k: v[0] for k, v in code.items()}, timeout=10
    )
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}

    with page.expect_request(lambda r: "/logout?" in r.url) as ended:
        page.locator("#logout").click()
        page.locator("#login").wait_for(state="visible")
    assert parse_qs(urlsplit(ended.value.url).query)["logout_uri"] == [company.base + "/m"]
    page.wait_for_url(company.base + "/m")
    page.locator("#login").wait_for(state="visible")
    watch.close(ctx)
    watch.assert_clean()


def local_stack_hosted(local_stack: Any) -> str:
    import json

    return str(json.loads(local_stack.state_file.read_text())["hosted_ui"])


def test_someone_who_is_no_employee_is_told_and_gets_no_token(browser: Any, local_stack: Any, watch: Watch) -> None:
    company = _company(local_stack)
    ctx = browser.new_context(**DESKTOP)
    page = watch.page(ctx.new_page(), "console")
    page.goto(company.base + "/console")
    page.locator("#sso-signin").click()
    page.locator("#idpEmail").fill(f"stranger@{SSO_TENANT}.example.test")
    page.locator("#idpSubmit").click()
    page.locator("#login-error").wait_for(state="visible")
    text = page.locator("#login-error").inner_text()
    assert "is not an employee of sso-e2e" in text and "PreTokenGeneration failed" in text
    assert page.evaluate("() => sessionStorage.getItem('ripple.token.console')") is None
    assert urlsplit(page.url).query == ""
    watch.close(ctx)
    watch.assert_clean()
