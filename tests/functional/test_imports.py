"""Employee CSV import over moto in-process: encodings Excel writes, the dry run's per-row
errors, the job applying rows through ``upsert_employee``, idempotency, a crash resumed,
and bad input (too large, too many rows, binary, formulas, mixed encodings) writing nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import auth
from tests.functional.apihelpers import snapshot

ADMIN = auth("acme", "boss", "admin")
OTHER_ADMIN = auth("globex", "boss", "admin")
EMPLOYEE = auth("acme", "alice", "employee")
HEADER = "id,name,email,team,region,role\r\n"


@pytest.fixture
def api(aws: Any) -> Any:
    from chalice.test import Client

    from app import app
    from infra.moto_patches import apply

    apply()  # moto's transactions item-scoped and thread-safe, as on AWS (8 rows in flight)
    return Client(app)


def _post(
    api: Any, data: bytes, *, dry_run: bool = False, headers: dict[str, str] | None = None, ctype: str = "text/csv"
) -> Any:
    path = "/admin/employees/import" + ("?dry_run=true" if dry_run else "")
    resp = api.http.post(path, headers={"Content-Type": ctype, **(ADMIN if headers is None else headers)}, body=data)
    if resp.status_code != 415:  # Chalice's own answer to a content type the route does not take
        _conforms(api, "/admin/employees/import", "post", resp)
    return resp


def _json(resp: Any) -> Any:
    return json.loads(resp.body)


_ROUTES = {
    "/admin/employees/import": "/admin/employees/import",
    "/admin/employees/imports/": "/admin/employees/imports/{import_id}",
}


def _conforms(api: Any, route: str, method: str, resp: Any) -> Any:
    """The answer matches what /openapi.json publishes for this operation and status."""
    import jsonschema

    doc = json.loads(api.http.get("/openapi.json").body)
    responses = doc["paths"][route][method]["responses"]
    key = str(resp.status_code) if str(resp.status_code) in responses else f"{str(resp.status_code)[0]}XX"
    schema = responses[key]["content"]["application/json"]["schema"]
    body = _json(resp)
    jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(body)
    return body


def _employees(api: Any, headers: dict[str, str] = ADMIN) -> dict[str, dict[str, Any]]:
    resp = api.http.get("/admin/employees", headers=headers)
    assert resp.status_code == 200, resp.body
    return {e["employee_id"]: e for e in _json(resp)["items"]}


CSV_JA = (
    HEADER
    + "yamada,山田 太郎,Yamada@Example.jp,sales,kanto,employee\r\n"
    + "sato,佐藤 花子,sato@example.jp,sales,kansai,admin\r\n"
)
CSV_ZH = (
    HEADER + "wang,王小明,wang@example.cn,sales,huadong,employee\r\nli,李华,li@example.cn,market,huabei,employee\r\n"
)


@pytest.mark.parametrize(
    ("data", "encoding", "names"),
    [
        (CSV_JA.encode("utf-8"), "utf-8", {"yamada": "山田 太郎", "sato": "佐藤 花子"}),
        (b"\xef\xbb\xbf" + CSV_JA.encode("utf-8"), "utf-8-sig", {"yamada": "山田 太郎", "sato": "佐藤 花子"}),
        (CSV_JA.encode("cp932"), "cp932", {"yamada": "山田 太郎", "sato": "佐藤 花子"}),
        (CSV_ZH.encode("gbk"), "gb18030", {"wang": "王小明", "li": "李华"}),
        (CSV_ZH.encode("gb18030"), "gb18030", {"wang": "王小明", "li": "李华"}),
    ],
    ids=["utf8", "utf8-bom", "shift_jis", "gbk", "gb18030"],
)
def test_files_in_every_excel_encoding_are_decoded(
    api: Any, aws: Any, data: bytes, encoding: str, names: dict[str, str]
) -> None:
    before = snapshot(aws)
    dry = _post(api, data, dry_run=True)
    assert dry.status_code == 200, dry.body
    report = _json(dry)
    assert report["encoding"] == encoding
    assert (
        report["dry_run"] is True
        and report["errors"] == []
        and report["planned"] == {"create": 2, "update": 0, "unchanged": 0}
    )
    assert snapshot(aws) == before, "a dry run writes nothing"
    resp = _post(api, data)
    assert resp.status_code == 202, resp.body
    job = _json(resp)
    assert job["status"] == "done" and job["created"] == 2 and job["processed"] == 2 and job["progress"] == 1.0
    got = _employees(api)
    assert {k: v["name"] for k, v in got.items()} == names
    first = next(iter(names))
    assert got[first]["email"] == ("yamada@example.jp" if first == "yamada" else "wang@example.cn")
    status = api.http.get(f"/admin/employees/imports/{job['import_id']}", headers=ADMIN)
    assert _conforms(api, "/admin/employees/imports/{import_id}", "get", status) == job


def test_dry_run_lists_every_row_error_and_the_import_then_refuses_with_nothing_written(api: Any, aws: Any) -> None:
    api.http.put(
        "/admin/employees/carol",
        headers={**ADMIN, "Content-Type": "application/json"},
        body=json.dumps({"name": "Carol", "team": "ops", "region": "west", "email": "carol@example.com"}),
    )
    data = (
        HEADER
        + "alice,Alice,alice@example.com,sales,east,employee\r\n"  # 2 ok
        + "bob,Bob,ALICE@example.com,sales,east,employee\r\n"  # 3 duplicate e-mail in the file
        + "alice,Alice 2,a2@example.com,sales,east,employee\r\n"  # 4 duplicate id
        + "dave,Dave,carol@example.com,sales,east,employee\r\n"  # 5 e-mail of a stored employee
        + "erin,Erin,erin@example.com,sales team,east,employee\r\n"  # 6 bad team
        + "=cmd,Frank,frank@example.com,sales,east,employee\r\n"  # 7 formula
        + "gus,@SUM(A1),gus@example.com,sales,east,employee\r\n"  # 8 formula
        + "hal,Hal,not-an-email,sales,east,employee\r\n"  # 9 bad e-mail
        + "ivy,Ivy,ivy@example.com,sales,east,boss\r\n"  # 10 bad role
        + "jon,Jon,jon@example.com,sales\r\n"  # 11 too few cells
    )
    before = snapshot(aws)
    report = _json(_post(api, data.encode(), dry_run=True))
    codes = {(e["line"], e["code"], e["field"]) for e in report["errors"]}
    assert codes == {
        (3, "duplicate_email", "email"),
        (4, "duplicate_id", "id"),
        (5, "email_taken", "email"),
        (6, "invalid", "team"),
        (7, "formula", "id"),
        (8, "formula", "name"),
        (9, "invalid", "email"),
        (10, "invalid", "role"),
        (11, "invalid", None),
    }
    assert report["rows"] == 10 and report["valid"] == 1 and report["error_count"] == 9
    resp = _post(api, data.encode())
    assert resp.status_code == 422, resp.body
    err = _json(resp)["error"]
    assert err["details"]["error_count"] == 9
    assert snapshot(aws) == before, "nothing half-created"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"", 422, "empty"),
        (b"id,name,team,region,salary\r\nalice,Alice,s,r,1\r\n", 422, "columns"),
        (b"id,name,email\r\nalice,Alice,a@example.com\r\n", 422, "columns"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + b"\x00" * 200, 422, "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 422, "binary"),
        (
            (HEADER + "yamada,山田,y@example.jp,sales,kanto,employee\r\n").encode("utf-8")
            + "sato,佐藤,s@example.jp,sales,kanto,employee\r\n".encode("cp932"),
            422,
            "mixed_encoding",
        ),
        (b"\xff\xfei\x00d\x00", 422, "encoding"),
        ((HEADER + 'alice,"Alice,x@example.com,sales,east,employee\r\n').encode(), 422, "csv"),
    ],
    ids=["empty", "unknown-column", "missing-columns", "xlsx", "png", "mixed", "utf16", "broken-quote"],
)
def test_bad_files_are_refused_with_a_clear_code_and_nothing_written(
    api: Any, aws: Any, data: bytes, status: int, code: str
) -> None:
    before = snapshot(aws)
    for dry_run in (True, False):
        resp = _post(api, data, dry_run=dry_run)
        assert resp.status_code == status, resp.body
        assert _json(resp)["error"]["details"]["code"] == code
    assert snapshot(aws) == before


def test_too_large_and_too_many_rows(api: Any, aws: Any) -> None:
    from ripple.domain.imports import MAX_BYTES, MAX_ROWS

    before = snapshot(aws)
    big = (HEADER + "x" * 100 + "\r\n").encode() * (20 * 1024 * 1024 // 100)  # ~20 MB
    assert len(big) > MAX_BYTES
    resp = _post(api, big)
    assert resp.status_code == 413, resp.body[:300]
    rows = "".join(f"e{i},Employee {i},e{i}@example.com,sales,east,employee\r\n" for i in range(50_000))
    assert MAX_ROWS < 50_000
    resp = _post(api, (HEADER + rows).encode(), dry_run=True)
    assert resp.status_code == 422 and _json(resp)["error"]["details"]["code"] == "too_many_rows"
    assert snapshot(aws) == before


def test_same_file_twice_is_idempotent_and_changed_rows_update(api: Any, aws: Any) -> None:
    data = (HEADER + "alice,Alice,alice@example.com,sales,east,employee\r\nbob,Bob,,sales,west,employee\r\n").encode()
    first = _json(_post(api, data))
    assert (first["created"], first["updated"], first["unchanged"]) == (2, 0, 0)
    state = _employees(api)
    second = _json(_post(api, data))
    assert second["import_id"] != first["import_id"]
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 2)
    assert _employees(api) == state
    changed = data.replace(b"bob,Bob,,sales,west", b"bob,Bob,bob@example.com,ops,west")
    third = _json(_post(api, changed))
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 1, 1)
    # an e-mail gives bob a sign-in: the use case invites him (what PUT /admin/employees does)
    assert _employees(api)["bob"] == {**state["bob"], "team": "ops", "email": "bob@example.com", "status": "invited"}


def test_rows_go_through_the_employee_use_case(api: Any, aws: Any, monkeypatch: Any) -> None:
    """The import calls ``upsert_employee`` (what PUT /admin/employees/{id} calls) for every
    row it writes, so what that use case does for an employee happens for imported ones."""
    import ripple.service.admin as admin

    seen: list[str] = []
    real = admin.upsert_employee

    def spy(svc: Any, principal: Any, employee_id: str, body: dict[str, Any]) -> Any:
        seen.append(employee_id)
        return real(svc, principal, employee_id, body)

    monkeypatch.setattr(admin, "upsert_employee", spy)
    rows = "".join(f"e{i},E {i},e{i}@example.com,sales,east,employee\r\n" for i in range(450))
    job = _json(_post(api, (HEADER + rows).encode()))
    assert job["created"] == 450 and sorted(seen) == sorted(f"e{i}" for i in range(450))


def test_a_crashed_job_resumes_from_its_cursor_and_counts_every_row_once(api: Any, aws: Any, monkeypatch: Any) -> None:
    from ripple import bootstrap
    from ripple.service.imports import run_import

    rows = "".join(f"e{i:04d},E {i},e{i}@example.com,sales,east,employee\r\n" for i in range(1000))
    monkeypatch.setenv("RIPPLE_IMPORT_INVOKE", "none")  # start nothing: the test plays the worker
    calls: list[dict[str, Any]] = []
    import ripple.adapters.imports as adapter

    monkeypatch.setattr(adapter, "invoke_import_function", calls.append)
    resp = _post(api, (HEADER + rows).encode())
    assert resp.status_code == 202
    job = _json(resp)
    assert job["status"] == "queued" and job["total"] == 1000 and calls
    svc = bootstrap.services()
    applied: list[str] = []

    def crash_after_500(principal: Any, row: Any) -> None:
        if len(applied) >= 500:
            raise RuntimeError("Lambda timed out")
        from ripple.service.admin import upsert_employee

        upsert_employee(svc, principal, row.employee_id, row.body())
        applied.append(row.employee_id)

    import ripple.service.imports as imports

    monkeypatch.setattr(imports, "WORKERS", 1)
    with pytest.raises(RuntimeError):
        run_import(svc, "acme", job["import_id"], apply_row=crash_after_500)
    mid = _json(api.http.get(f"/admin/employees/imports/{job['import_id']}", headers=ADMIN))
    assert mid["status"] == "running" and mid["processed"] == 400  # two whole chunks of 200 recorded
    # the resume endpoint starts a worker again (the lease was given back by the crash)
    resumed = api.http.post(f"/admin/employees/imports/{job['import_id']}/resume", headers=ADMIN)
    assert resumed.status_code == 202, resumed.body
    result = run_import(svc, "acme", job["import_id"])
    assert result["status"] == "done"
    done = _json(api.http.get(f"/admin/employees/imports/{job['import_id']}", headers=ADMIN))
    assert done["processed"] == 1000 and done["created"] == 1000 and done["failed"] == 0
    assert len(_employees(api)) == 1000
    assert api.http.post(f"/admin/employees/imports/{job['import_id']}/resume", headers=ADMIN).status_code == 409
    assert run_import(svc, "acme", job["import_id"])["status"] == "done"  # a redelivered event: nothing


def test_only_admins_and_only_their_tenant(api: Any, aws: Any) -> None:
    data = (HEADER + "alice,Alice,alice@example.com,sales,east,employee\r\n").encode()
    assert _post(api, data, headers=EMPLOYEE).status_code == 403
    assert _post(api, data, headers={}).status_code == 401
    job = _json(_post(api, data))
    assert api.http.get(f"/admin/employees/imports/{job['import_id']}", headers=OTHER_ADMIN).status_code == 404
    assert api.http.get("/admin/employees/imports/nope", headers=ADMIN).status_code == 404
    assert _employees(api, OTHER_ADMIN) == {}
    resp = _post(api, data, dry_run=True, ctype="application/json")
    assert resp.status_code == 415
    resp = api.http.post("/admin/employees/import?dry=1", headers={"Content-Type": "text/csv", **ADMIN}, body=data)
    assert resp.status_code == 422


def test_an_email_belongs_to_one_employee_and_a_changed_address_is_released(api: Any, aws: Any) -> None:
    def put(emp: str, email: str) -> Any:
        body = {"name": emp, "team": "sales", "region": "east", "email": email}
        return api.http.put(
            f"/admin/employees/{emp}", headers={**ADMIN, "Content-Type": "application/json"}, body=json.dumps(body)
        )

    assert put("alice", "a@example.com").status_code == 200
    before = snapshot(aws)
    resp = put("bob", "A@Example.com")
    assert resp.status_code == 409 and _json(resp)["error"]["details"] == {"field": "email"}
    assert snapshot(aws) == before
    assert put("alice", "alice@example.com").status_code == 200  # alice moves to a new address
    assert put("bob", "a@example.com").status_code == 200  # the old one is free again
    assert put("carol", "alice@example.com").status_code == 409
    assert {k: v["email"] for k, v in _employees(api).items()} == {"alice": "alice@example.com", "bob": "a@example.com"}
