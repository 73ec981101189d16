"""Nobody misses a task: an admin distributes a task, the notification job sends the e-mail
through (moto's) SES, the employee finds it in the dev mailbox page, opens the task from the
link in it and lands on that task on /m after signing in; there they turn a kind off in
their notification settings, and the e-mail's unsubscribe page turns off another."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ripple.web.console import STATIC_DIR
from tests.e2e.conftest import PHONE, Shop, Tenant, Watch, sign_in
from tests.stack import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

EN: dict[str, str] = json.loads((STATIC_DIR / "i18n.json").read_text(encoding="utf-8"))["en"]


def _notify(tenant: Tenant) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "ripple.cli", "notify"],
        cwd=ROOT,
        env={**tenant.stack.cli_env(), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(json.loads(out.stdout))


def test_an_employee_opens_a_task_from_its_email_and_manages_notifications(
    browser: Any, tenant: Tenant, watch: Watch, shop: Shop
) -> None:
    from playwright.sync_api import expect

    admin = tenant.token("boss", "admin")
    tenant.call("PUT", "/admin/employees/nora", admin, {"name": "Nora Lin", "team": "sales", "region": "east"})
    nora = tenant.token("nora", "employee")  # invited, first sign-in done: a real account
    campaign = tenant.call(
        "POST",
        "/admin/campaigns",
        admin,
        {"name": "Autumn", "destination_url": f"{shop.base}/autumn", "points": {"unique_visit": 5}},
    )
    title = "Share the autumn fair " + tenant.tenant_id
    deadline = (datetime.now(UTC) + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    task = tenant.call(
        "POST",
        "/admin/tasks",
        admin,
        {
            "campaign_id": campaign["campaign_id"],
            "title": title,
            "copies": [{"text": "Come to the fair"}],
            "channels": ["wechat"],
            "audience": {"employees": ["nora"]},
            "deadline": deadline,
        },
    )
    _notify(tenant)  # the minute job, now (the stack's scheduler may have run it already)

    mailbox_url = json.loads(tenant.stack.state_file.read_text())["mailbox_url"]
    ctx = browser.new_context(**PHONE, locale="en-US")
    page = watch.page(ctx.new_page(), "mailbox")
    message = page.locator(f"article.msg[data-to='{tenant.email('nora')}']", has_text=title)
    for _ in range(30):  # the CLI's dispatch, or the scheduler's, has sent it
        page.goto(f"{mailbox_url}/?to={tenant.email('nora')}")
        if message.count():
            break
        time.sleep(1)
    expect(message).to_have_count(1)
    expect(message.locator("h2")).to_have_text(f"New task: {title}")
    message.locator("pre.text a", has_text="/m#/task/").click()

    # the link opens /m on that task, after signing in
    page.locator("#login").wait_for(state="visible")
    sign_in(page, nora)
    expect(page.locator(f"#task-view[data-task='{task['task_id']}']")).to_be_visible()
    assert page.evaluate("() => location.hash") == f"#/task/{task['task_id']}"

    # notification settings, from the tasks tab: reminders off
    page.locator("#tabs button[data-view=tasks]").click()
    page.locator("#open-notifications").click()
    expect(page.locator("#notify-task-due")).to_be_checked()
    page.locator("#notify-task-due").uncheck()
    page.locator("#notify-save").click()
    expect(page.locator("#toast")).to_have_text(EN["notify.saved"])
    expect(page.locator("#notify-recent")).to_contain_text(EN["notify.kind.task.assigned"])
    page.reload()
    expect(page.locator("#notify-task-due")).not_to_be_checked()
    expect(page.locator("#notify-task-assigned")).to_be_checked()

    # the e-mail's unsubscribe link: a page with one button, which turns new-task e-mails off
    page.goto(f"{mailbox_url}/?to={tenant.email('nora')}")
    message.locator("p.meta a").click()
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("[role=status]")).to_contain_text("no longer get e-mails about new tasks")
    prefs = tenant.call("GET", "/me/notifications", nora)["preferences"]["email"]
    assert prefs == {
        "task.assigned": False,
        "task.due": False,
        "lead.assigned": True,
        "reward.fulfilled": True,
        "digest.weekly": True,
    }


def test_an_admin_sets_the_channel_and_adds_a_group_bot_from_the_console(
    browser: Any, tenant: Tenant, watch: Watch
) -> None:
    """The tasks view's notification card and chat bot card: settings saved, a Slack-format
    bot added against a loopback receiver, its test message arrives, then it is removed."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from playwright.sync_api import expect

    from tests.e2e.conftest import DESKTOP

    got: list[dict[str, Any]] = []

    class Group(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Group)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        admin = tenant.token("boss", "admin")
        page = watch.page(browser.new_context(**DESKTOP, locale="en-US").new_page(), "console")
        page.goto(tenant.base + "/console#/tasks")
        sign_in(page, admin)
        expect(page.locator("#notify-settings-save")).to_be_enabled()
        page.locator("#notify-from-name").fill("Acme Advocacy")
        page.locator("#notify-due-hours").fill("12")
        page.locator("#notify-settings-save").click()
        expect(page.locator("#toast")).to_have_text(EN["notify.admin.saved"])
        assert tenant.call("GET", "/admin/notifications", admin)["due_hours"] == 12

        page.locator("#bot-id").fill("sales-slack")
        page.locator("#bot-provider").select_option("slack")
        expect(page.locator("#bot-secret")).to_be_hidden()  # Slack webhooks are not signed
        page.locator("#bot-url").fill(f"http://127.0.0.1:{server.server_address[1]}/services/T/B/secret-part")
        page.locator("#bot-save").click()
        expect(page.locator("#toast")).to_have_text(EN["bot.saved"])
        row = page.locator("#bot-list tr", has_text="sales-slack")
        expect(row).to_be_visible()
        assert "secret-part" not in row.inner_text()  # the URL is a credential: masked
        row.locator("[data-test-bot]").click()
        expect(page.locator("#toast")).to_have_text(EN["bot.test_ok"])
        assert len(got) == 1 and got[0]["blocks"][0]["type"] == "section"
        row.locator("[data-delete-bot]").click()
        expect(page.locator("#bot-list")).to_contain_text(EN["bot.none"])
    finally:
        server.shutdown()
