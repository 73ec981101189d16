"""The console's Employees screen in headless Chromium against the local stack: an admin
checks a Shift_JIS CSV (the dry run lists its row errors and nothing is imported), fixes it,
imports it and watches the job finish, then finds an employee by search and filters, edits
their team and role, and offboards them with their customers handed to the lead pool."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ripple.web.console import STATIC_DIR
from tests.e2e.conftest import DESKTOP, Tenant, Watch, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

EN: dict[str, str] = json.loads((STATIC_DIR / "i18n.json").read_text(encoding="utf-8"))["en"]
HEADER = "id,name,email,team,region,role\r\n"
ROWS = [
    "yamada,山田 太郎,yamada@example.jp,sales,kanto,employee",
    "sato,佐藤 花子,sato@example.jp,sales,kansai,admin",
    "suzuki,鈴木 一郎,suzuki@example.jp,marketing,kanto,employee",
]


def _csv(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_bytes((HEADER + "\r\n".join(rows) + "\r\n").encode("cp932"))
    return path


def test_import_a_csv_then_find_edit_and_offboard_an_employee(
    browser: Any, tenant: Tenant, watch: Watch, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    admin_token = tenant.token("boss", "admin")
    tenant.call("PUT", "/admin/tenant", admin_token, {"name": "E2E Co.", "timezone": "Asia/Tokyo"})
    ctx = browser.new_context(**DESKTOP, locale="en-US")
    page = watch.page(ctx.new_page(), "console")
    page.goto(tenant.base + "/console")
    sign_in(page, admin_token)
    page.locator("#tabs button[data-view=employees]").click()

    # a file with mistakes: the dry run names them, the import stays disabled, nothing written
    bad = _csv(
        tmp_path,
        "bad.csv",
        [*ROWS, "tanaka,=HYPERLINK(1),t@example.jp,sales,kanto,employee", "sato,Dup,x@example.jp,sales,kanto,employee"],
    )
    page.locator("#import-file").set_input_files(str(bad))
    page.locator("#import-check").click()
    report = page.locator("#import-report")
    expect(report.locator("[data-field='imp.encoding'] dd")).to_have_text("cp932")
    expect(report.locator("tbody tr")).to_have_count(2)
    expect(report.locator("tbody tr").nth(0)).to_contain_text("formula")
    expect(report.locator("tbody tr").nth(1)).to_contain_text("duplicate_id")
    expect(page.locator("#import-run")).to_be_disabled()
    assert tenant.call("GET", "/admin/employees", admin_token)["items"] == []
    shot(page, "employees-import-errors")

    # the fixed file: clean dry run, then the job runs to the end with progress
    good = _csv(tmp_path, "good.csv", ROWS)
    page.locator("#import-file").set_input_files(str(good))
    page.locator("#import-check").click()
    expect(report.locator("[data-field='imp.create'] dd")).to_have_text("3")
    expect(report.locator(".empty")).to_have_text(EN["imp.no_errors"])
    expect(page.locator("#import-run")).to_be_enabled()
    page.locator("#import-run").click()
    expect(page.locator("#import-status")).to_have_attribute("data-status", "done", timeout=30_000)
    expect(page.locator("#import-status")).to_contain_text("3 new, 0 updated, 0 unchanged, 0 failed")
    rows = page.locator("#employee-list tbody tr")
    expect(rows).to_have_count(3)
    shot(page, "employees-imported")

    # search and filters
    page.locator("#employee-search").fill("佐藤")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("sato@example.jp")
    expect(rows.first).to_contain_text(EN["role.admin"])
    page.locator("#employee-search").fill("")
    page.locator("#employee-team-filter").select_option("sales")
    expect(rows).to_have_count(2)
    page.locator("#employee-region-filter").select_option("kanto")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("yamada")

    # open yamada: edit the team, then offboard with handover to the pool
    rows.first.click()
    detail = page.locator("#employee-detail")
    expect(detail).to_have_attribute("data-employee", "yamada")
    # its links, ledger and customers load in the background (slow under a loaded machine)
    expect(detail.locator("#ed-links .empty")).to_have_text(EN["emp.no_links"], timeout=20_000)
    expect(detail.locator("#ed-customers .empty")).to_have_text(EN["emp.no_customers"], timeout=20_000)
    page.locator("#ed-team").fill("field-sales")
    page.locator("#employee-edit button[type=submit]").click()
    expect(page.locator("#toast")).to_have_text(EN["employee.saved"])
    stored = {e["employee_id"]: e for e in tenant.call("GET", "/admin/employees", admin_token)["items"]}
    assert stored["yamada"]["team"] == "field-sales" and stored["yamada"]["name"] == "山田 太郎"
    page.locator("#ed-offboard-to").select_option("pool")
    page.locator("#employee-offboard button[type=submit]").click()
    expect(page.locator("#toast")).to_contain_text("Offboarded")
    expect(page.locator("#ed-status")).to_have_attribute("data-active", "false")
    page.locator("#employee-region-filter").select_option("")
    page.locator("#employee-team-filter").select_option("")
    page.locator("#employee-status-filter").select_option("offboarded")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("yamada")
    assert tenant.call("GET", "/admin/employees?active=false", admin_token)["items"][0]["employee_id"] == "yamada"
    shot(page, "employees-offboarded")
    watch.close(ctx)
    watch.assert_clean()
