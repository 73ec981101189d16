"""Provisioning over real HTTP against the local stack: the independent SCIM checker
``scim2-tester`` against /scim/v2 (no failure for anything ServiceProviderConfig claims), a
SCIM-created user appearing as an employee, and a CSV import run by the ImportFunction in
the background with its progress polled to the end."""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.conftest import auth
from tests.integration.conftest import RunningStack, wait_for

ADMIN = auth("provisioning", "boss", "admin")
# the second test's own tenant: scim2-tester leaves users behind in the first
ADMIN2 = auth("provisioning2", "boss", "admin")


def _scim_token(base: str, admin: dict[str, str] = ADMIN) -> str:
    resp = requests.post(f"{base}/admin/scim/token", headers={**admin, "Content-Type": "application/json"}, data="{}")
    assert resp.status_code == 201, resp.text
    return str(resp.json()["token"])


def test_scim2_tester_reports_no_failure(local_stack: RunningStack) -> None:
    from httpx2 import Client
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_tester import Status, check_server

    token = _scim_token(local_stack.base)
    http = Client(base_url=f"{local_stack.base}/scim/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    results = check_server(SyncSCIMClient(http))
    failures = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    ran = {r.title for r in results if r.status == Status.SUCCESS}
    assert not failures, "\n".join(f"{r.resource_type or ''} {r.title}: {r.reason}" for r in failures)
    # the checker really exercised CRUD and PATCH on both resource types, not only discovery
    assert {"object_creation", "object_replacement", "object_deletion", "check_add_attribute"} <= ran, ran


def test_a_scim_user_becomes_an_employee_and_a_csv_import_runs_in_the_background(local_stack: RunningStack) -> None:
    base = local_stack.base
    headers = {"Authorization": f"Bearer {_scim_token(base, ADMIN2)}", "Content-Type": "application/scim+json"}
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "okta.user@example.com"}
    resp = requests.post(f"{base}/scim/v2/Users", headers=headers, data=json.dumps(body))
    assert resp.status_code == 201 and resp.headers["Content-Type"].startswith("application/scim+json")
    employees = requests.get(f"{base}/admin/employees", headers=ADMIN2).json()["items"]
    assert [(e["employee_id"], e["email"]) for e in employees] == [("okta.user", "okta.user@example.com")]

    rows = "".join(f"e{i:04d},社員 {i},e{i:04d}@example.jp,team{i % 7},region{i % 3},employee\r\n" for i in range(1500))
    data = ("id,name,email,team,region,role\r\n" + rows).encode("cp932")
    resp = requests.post(f"{base}/admin/employees/import", headers={**ADMIN2, "Content-Type": "text/csv"}, data=data)
    assert resp.status_code == 202, resp.text
    job = resp.json()
    assert job["total"] == 1500 and job["status"] in ("queued", "running", "done")

    def status() -> Any:
        return requests.get(f"{base}/admin/employees/imports/{job['import_id']}", headers=ADMIN2).json()["status"]

    final, _ = wait_for(status, "done", timeout=240)
    assert final == "done"
    done = requests.get(f"{base}/admin/employees/imports/{job['import_id']}", headers=ADMIN2).json()
    assert (done["processed"], done["created"], done["failed"]) == (1500, 1500, 0)
    employees = requests.get(f"{base}/admin/employees", headers=ADMIN2).json()["items"]
    assert len(employees) == 1501
    assert next(e for e in employees if e["employee_id"] == "e0042")["name"] == "社員 42"
