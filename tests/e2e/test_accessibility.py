"""Accessibility, checked by an independent engine: axe-core (npm, pinned in
tests/e2e/package-lock.json, `make axe`) run inside every page and view a person reaches —
the sign-in forms, each console view and a campaign (admin, desktop), each /m view and a task (employee,
phone), the hosted landing page and the business card — against WCAG 2.1 A and AA. No violation of
impact "serious" or "critical" may remain (colour contrast ≥ 4.5:1 is one of them). The full
results are written to test-artifacts/e2e/axe-*.json.

axe runs through ``page.evaluate`` (DevTools' Runtime.evaluate), which the pages' strict CSP
does not apply to: nothing about the pages is loosened for the test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, DESKTOP, IPHONE_UA, PHONE, Tenant, Watch, sign_in
from tests.e2e.test_console import CONSOLE_VIEWS, M_VIEWS
from tests.e2e.test_customers import LANDING

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
RUN = """async () => {
  const r = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
    resultTypes: ['violations'],
  });
  return {
    version: axe.version,
    violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
    })),
  };
}"""


def _axe(page: Any, name: str) -> list[str]:
    """The blocking violations on ``page`` as readable lines (all of them saved as JSON)."""
    assert AXE.is_file(), "axe-core is missing: run `make axe`"
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(RUN)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    assert result["version"] == "4.14.1"
    return [
        f"{name}: {v['id']} ({v['impact']}) {v['help']} at {', '.join(n['target'] for n in v['nodes'])}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def _world(tenant: Tenant) -> dict[str, Any]:
    admin = tenant.token("boss", "admin")
    tenant.call("PUT", "/admin/tenant", admin, {"name": "E2E Co.", "timezone": "Asia/Tokyo"})
    tenant.call("PUT", "/admin/employees/alice", admin, {"name": "Alice Wang", "team": "sales", "region": "east"})
    tenant.call("PUT", "/admin/employees/bob", admin, {"name": "Bob Tanaka", "team": "marketing", "region": "west"})
    campaign = tenant.call(
        "POST",
        "/admin/campaigns",
        admin,
        {"name": "Spring launch", "landing": LANDING, "points": {"unique_visit": 5, "lead": 50}},
    )
    alice = tenant.token("alice", "employee")
    link = tenant.call("POST", f"/campaigns/{campaign['campaign_id']}/links", alice, {"channel": "wechat"})
    task = tenant.call(
        "POST",
        "/admin/tasks",
        admin,
        {
            "campaign_id": campaign["campaign_id"],
            "title": "Share the spring launch",
            "copies": [{"text": "Spring is here"}],
            "channels": ["wechat", "line"],
            "audience": {"all": True},
            "deadline": (datetime.now(UTC) + timedelta(days=2)).isoformat().replace("+00:00", "Z"),
        },
    )
    card = tenant.call("PUT", "/me/card", alice, {"title": "Sales", "phone": "+81 90-1234-5678", "intro": "Hello"})
    return {"link": link, "card_url": card["card_url"], "task_id": task["task_id"]}


def _signed_in_views(page: Any, tenant: Tenant, name: str, problems: list[str]) -> Any:
    """Check the sign-in form of page ``name``, sign in, check every view; the page stays open."""
    from playwright.sync_api import expect

    admin = name == "console"
    page.goto(f"{tenant.base}/{name}")
    page.locator("#email").wait_for(state="visible")
    problems += _axe(page, f"{name}-sign-in")
    sign_in(page, tenant.token("boss" if admin else "alice", "admin" if admin else "employee"))
    for view in CONSOLE_VIEWS if admin else M_VIEWS:
        tab = page.locator(f"#tabs button[data-view={view}]")
        tab.click()
        expect(tab).to_have_attribute("aria-current", "page")
        page.wait_for_load_state("networkidle")
        problems += _axe(page, f"{name}-{view}")
    return page


def test_the_check_finds_what_it_should(browser: Any, tenant: Tenant, watch: Watch) -> None:
    """Guard against a check that cannot fail: an unlabelled input and grey-on-white text."""
    ctx = browser.new_context(**DESKTOP, locale="en-US")
    page = watch.page(ctx.new_page(), "axe-probe")
    page.goto(tenant.base + "/console")
    page.evaluate(
        """() => {
          const i = document.createElement('input'); document.body.appendChild(i);
          const p = document.createElement('p'); p.textContent = 'faint text';
          p.style.color = '#bbbbbb'; p.style.background = '#ffffff'; document.body.appendChild(p);
        }"""
    )
    found = " ".join(_axe(page, "probe"))
    assert "label" in found and "color-contrast" in found
    watch.close(ctx)


def test_every_page_and_view_has_no_serious_accessibility_violation(browser: Any, tenant: Tenant, watch: Watch) -> None:
    world = _world(tenant)
    problems: list[str] = []

    # the console: signed out, then every view (and a campaign) as an admin on a desktop
    ctx = browser.new_context(**DESKTOP, locale="en-US")
    page = _signed_in_views(watch.page(ctx.new_page(), "console"), tenant, "console", problems)
    page.locator("#tabs button[data-view=campaigns]").click()
    page.locator("#campaign-list tr", has_text="Spring launch").click()
    page.locator("#campaign-edit").wait_for(state="visible")
    problems += _axe(page, "console-campaign")
    watch.close(ctx)

    # the employee page: signed out, then every destination (and a task) on a phone
    ctx = browser.new_context(**PHONE, user_agent=IPHONE_UA, locale="en-US")
    page = _signed_in_views(watch.page(ctx.new_page(), "m"), tenant, "m", problems)
    page.locator("#tabs button[data-view=tasks]").click()
    page.locator(f".task-card[data-task={world['task_id']}]").tap()
    page.locator("#task-view").wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    problems += _axe(page, "m-task")
    watch.close(ctx)

    # what a customer sees: the hosted landing page and alice's business card
    ctx = browser.new_context(**PHONE, user_agent=IPHONE_UA, locale="en-US")
    page = watch.page(ctx.new_page(), "customer")
    page.goto(world["link"]["short_url"])
    page.locator("#f-name").wait_for(state="visible")
    problems += _axe(page, "landing")
    page.goto(world["card_url"])
    page.wait_for_load_state("networkidle")
    problems += _axe(page, "card")
    watch.close(ctx)

    assert problems == [], "\n".join(problems)
    watch.assert_clean()
