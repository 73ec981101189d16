"""CSV exports over moto in-process: ``POST /admin/exports`` runs the ExportFunction (in-process
locally), the CSV lands in S3 and ``GET /admin/exports/{id}`` hands back a presigned URL that
downloads it. Plus the streaming writer's memory bound, measured with tracemalloc."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from tests.conftest import auth
from tests.functional.apihelpers import snapshot

ADMIN = auth("acme", "boss", "admin")
OTHER_ADMIN = auth("globex", "boss", "admin")
EMPLOYEE = auth("acme", "e1", "employee")


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


# Tokyo is UTC+9: 2026-03-01 starts at 2026-02-28T15:00Z and 2026-03-02 ends at 2026-03-02T15:00Z
BEFORE = _ms("2026-02-28T14:59:59.999")
FIRST = _ms("2026-02-28T15:00:00")
LAST = _ms("2026-03-02T14:59:59.999")
AFTER = _ms("2026-03-02T15:00:00")


@pytest.fixture
def api(aws: Any) -> Any:
    from chalice.test import Client

    from app import app

    client = Client(app)
    resp = _call(client, "PUT", "/admin/tenant", ADMIN, {"timezone": "Asia/Tokyo"})
    assert resp.status_code == 200, resp.body
    for emp, name in (("e1", "山田 太郎"), ("e2", "陳大文")):
        body = {"name": name, "team": "sales", "region": "tokyo"}
        assert _call(client, "PUT", f"/admin/employees/{emp}", ADMIN, body).status_code == 200
    return client


def _call(client: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": {**headers, "Content-Type": "application/json"}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    return getattr(client.http, method.lower())(path, **kwargs)


def _customer(tenant: str, cid: str, created: int, name: str, **extra: Any) -> None:
    from ripple.adapters.models import CustomerItem

    CustomerItem(
        CustomerItem.key(tenant, cid),
        gsi1pk=CustomerItem.listing(tenant),
        gsi1sk=f"{created:013d}#{cid}",
        tenant=tenant,
        customer_id=cid,
        name=name,
        created_at=created,
        owner="e1",
        **extra,
    ).save()


def _lead(tenant: str, cid: str, ts: int, message: str) -> None:
    from ripple.adapters.models import CustomerEventItem

    event_id = f"{ts:013d}Lx"
    CustomerEventItem(
        CustomerEventItem.key(tenant, cid, ts, event_id),
        gsi1pk=CustomerEventItem.history(tenant, cid),
        gsi1sk=f"{ts:013d}#{event_id}",
        tenant=tenant,
        customer_id=cid,
        kind="lead",
        ts=ts,
        data={"campaign_id": "spring", "channel": "line", "code": "abc", "employee_id": "e1", "message": message},
    ).save()


def _ledger(tenant: str, emp: str, ts: int, points: int, source: str) -> None:
    from ripple.adapters.models import LedgerItem

    LedgerItem(
        LedgerItem.key(tenant, source),
        tenant=tenant,
        source_key=source,
        employee_id=emp,
        owner=f"{tenant}#{emp}",
        sort=f"{ts:013d}#{source}",
        kind="unique_visit",
        points=points,
        ts=ts,
        campaign_id="spring",
        team="sales",
        day="2026-03-01",
    ).save()


def _export(api: Any, body: dict[str, Any], headers: dict[str, str] = ADMIN) -> tuple[dict[str, Any], list[list[str]]]:
    resp = _call(api, "POST", "/admin/exports", headers, body)
    assert resp.status_code == 201, resp.body
    started = json.loads(resp.body)
    # The start answers exactly what GET answers: a job that already finished carries its link.
    assert {"export_id", "status", "kind", "from", "to"} <= set(started), started
    assert (started["status"] == "done") == ("url" in started), started
    got = _call(api, "GET", f"/admin/exports/{started['export_id']}", headers)
    assert got.status_code == 200, got.body
    info = json.loads(got.body)
    assert info["status"] == "done", info
    download = requests.get(info["url"], timeout=30)
    assert download.status_code == 200
    raw = download.content
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
    assert info["rows"] == len(rows) - 1 and info["bytes"] == len(raw)
    return info, rows


def _visit(tenant: str, visit_id: str, ts: int, code: str = "=cmd") -> None:
    from ripple.adapters.repositories import DynamoVisits
    from ripple.domain.model import Decision, Visit

    DynamoVisits().record(
        Visit(visit_id, tenant, code, "spring", "emma", "wechat", f"v-{visit_id}", ts, Decision.ELIGIBLE, country="JP")
    )


def test_visits_export_reads_the_tenant_day_index(api: Any) -> None:
    _visit("acme", "v-before", BEFORE)
    _visit("acme", "v1", FIRST, "abc123")
    _visit("acme", "v2", LAST)
    _visit("acme", "v-after", AFTER)
    _visit("globex", "g1", FIRST)
    _, rows = _export(api, {"kind": "visits", "from": "2026-03-01", "to": "2026-03-02"})
    from ripple.domain.exports import COLUMNS

    assert rows[0] == list(COLUMNS["visits"])
    by_id = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert sorted(by_id) == ["v1", "v2"]
    assert by_id["v1"]["code"] == "abc123" and by_id["v1"]["employee_id"] == "emma"
    assert by_id["v1"]["decision"] == "eligible" and by_id["v1"]["country"] == "JP"
    assert by_id["v2"]["code"] == "'=cmd"  # formula injection escaped


def test_customers_export_is_the_range_in_the_tenant_zone_with_cjk_and_safe_cells(api: Any) -> None:
    _customer("acme", "c-before", BEFORE, "前日")
    _customer("acme", "c1", FIRST, "鈴木 花子", phone="+81312345678", tags=["vip", "東京"])
    _customer("acme", "c2", LAST, '=HYPERLINK("http://evil","x")', email="@evil.example")
    _customer("acme", "c-after", AFTER, "翌日")
    _customer("globex", "g1", FIRST, "other tenant")
    info, rows = _export(api, {"kind": "customers", "from": "2026-03-01", "to": "2026-03-02"})
    from ripple.domain.exports import COLUMNS

    assert rows[0] == list(COLUMNS["customers"])
    by_id = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert sorted(by_id) == ["c1", "c2"]
    assert by_id["c1"]["name"] == "鈴木 花子" and by_id["c1"]["tags"] == "vip 東京"
    assert by_id["c1"]["phone"] == "'+81312345678"  # a leading + is a formula in Excel too
    assert by_id["c2"]["name"] == '\'=HYPERLINK("http://evil","x")'
    assert by_id["c2"]["email"] == "'@evil.example"
    assert info["kind"] == "customers" and (info["from"], info["to"]) == ("2026-03-01", "2026-03-02")


def test_ledger_export_covers_every_employee_in_range_and_keeps_negative_points(api: Any) -> None:
    _ledger("acme", "e1", BEFORE, 5, "v-before")
    _ledger("acme", "e1", FIRST, 10, "v1")
    _ledger("acme", "e2", LAST, -3, "rev1")
    _ledger("acme", "e2", AFTER, 7, "v-after")
    _ledger("globex", "e1", FIRST, 99, "g1")
    _, rows = _export(api, {"kind": "ledger", "from": "2026-03-01", "to": "2026-03-02"})
    assert rows[0][:4] == ["ts", "employee_id", "kind", "points"]
    got = sorted((r[1], r[3], r[-1]) for r in rows[1:])
    assert got == [("e1", "10", "v1"), ("e2", "-3", "rev1")]  # our own numbers are not escaped


def test_leads_export_reads_lead_events_of_the_range(api: Any) -> None:
    _customer("acme", "c1", BEFORE, "古い顧客")
    _lead("acme", "c1", BEFORE, "too early")
    _lead("acme", "c1", FIRST, "資料をください")
    _lead("acme", "c1", AFTER, "too late")
    _, rows = _export(api, {"kind": "leads", "from": "2026-03-01", "to": "2026-03-02"})
    assert len(rows) == 2
    lead = dict(zip(rows[0], rows[1], strict=True))
    assert lead["customer_id"] == "c1" and lead["message"] == "資料をください" and lead["channel"] == "line"


def test_an_empty_range_gives_a_header_only_file(api: Any) -> None:
    info, rows = _export(api, {"kind": "customers", "from": "2025-01-01", "to": "2025-01-01"})
    assert info["rows"] == 0 and len(rows) == 1


def test_another_tenants_export_is_not_found(api: Any) -> None:
    resp = _call(api, "POST", "/admin/exports", ADMIN, {"kind": "ledger", "from": "2026-03-01", "to": "2026-03-01"})
    export_id = json.loads(resp.body)["export_id"]
    assert _call(api, "GET", f"/admin/exports/{export_id}", OTHER_ADMIN).status_code == 404
    assert _call(api, "GET", "/admin/exports/nope", ADMIN).status_code == 404
    assert _call(api, "GET", f"/admin/exports/{export_id}", EMPLOYEE).status_code == 403
    assert _call(api, "GET", f"/admin/exports/{export_id}", ADMIN).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "orders", "from": "2026-03-01", "to": "2026-03-02"},
        {"kind": "ledger", "from": "2026-03-02", "to": "2026-03-01"},
        {"kind": "ledger", "from": "2025-01-01", "to": "2026-01-02"},  # 367 days
        {"kind": "ledger", "from": "2026-02-30", "to": "2026-03-01"},
        {"kind": "ledger", "from": "20260301", "to": "2026-03-01"},
        {"kind": "ledger", "from": 20260301, "to": "2026-03-01"},
        {"kind": "ledger", "from": "2026-03-01"},
        {"kind": "ledger", "from": "2026-03-01", "to": "2026-03-01", "bucket": "x"},
    ],
)
def test_bad_kinds_and_ranges_are_422_and_write_nothing(api: Any, aws: Any, body: dict[str, Any]) -> None:
    import boto3

    before = snapshot(aws)
    resp = _call(api, "POST", "/admin/exports", ADMIN, body)
    assert resp.status_code == 422, resp.body
    assert set(json.loads(resp.body)["error"]) >= {"code", "message"}
    assert snapshot(aws) == before
    from tests.conftest import STACK

    listing = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=f"{STACK}-materialsbucket")
    assert not [o for o in listing.get("Contents", []) if o["Key"].startswith("exports/")]


def test_a_366_day_range_is_accepted_and_employees_cannot_export(api: Any) -> None:
    body = {"kind": "ledger", "from": "2024-01-01", "to": "2024-12-31"}  # leap year: 366 days
    assert _call(api, "POST", "/admin/exports", ADMIN, body).status_code == 201
    assert _call(api, "POST", "/admin/exports", EMPLOYEE, body).status_code == 403


# ------------------------------------------------------------------ the writer's memory bound


class _DiscardingS3:
    """A multipart-upload client that keeps only part sizes (so tracemalloc sees the writer)."""

    def __init__(self) -> None:
        self.parts: list[int] = []
        self.completed = False
        self.aborted = False

    def create_multipart_upload(self, **_: Any) -> dict[str, str]:
        return {"UploadId": "u1"}

    def upload_part(self, *, PartNumber: int, Body: bytes, **_: Any) -> dict[str, str]:  # noqa: N803
        assert PartNumber == len(self.parts) + 1
        self.parts.append(len(Body))
        return {"ETag": f'"{PartNumber}"'}

    def complete_multipart_upload(self, **_: Any) -> None:
        self.completed = True

    def abort_multipart_upload(self, **_: Any) -> None:
        self.aborted = True


def _synthetic(n: int) -> Iterator[tuple[Any, ...]]:
    for i in range(n):
        yield (
            f"cust-{i:08d}",
            "2026-03-01T12:34:56.789Z",
            f"顧客 {i} " + "山田花子" * 60,  # wide rows: many MiB, few rows (tracemalloc is slow per object)
            f"+8190{i:08d}",
            f"user{i}@example.com",
            "new",
            f"emp-{i % 500:04d}",
            "vip 東京 spring-campaign",
            "spring-2026",
            "line",
            f"emp-{i % 500:04d}",
            f"emp-{(i + 7) % 500:04d}",
            i % 5,
            i % 3,
            "2026-03-01T12:34:56.789Z",
        )


def test_the_streaming_writer_keeps_memory_bounded_for_60k_wide_rows() -> None:
    from ripple.adapters.exports import PART_SIZE, write_csv_to_s3
    from ripple.domain.exports import COLUMNS

    s3 = _DiscardingS3()
    tracemalloc.start()
    try:
        result = write_csv_to_s3(s3, "bucket", "exports/x.csv", COLUMNS["customers"], _synthetic(60_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    total = sum(s3.parts)
    print(f"\n60k rows: {total / 2**20:.1f} MiB of CSV in {len(s3.parts)} parts, peak {peak / 2**20:.1f} MiB")
    assert result.rows == 60_000 and result.size == total and s3.completed
    assert total > 40 * 2**20, "the bound below must be meaningful: more CSV than it allows"
    assert peak < 32 * 2**20
    assert all(size >= 5 * 2**20 for size in s3.parts[:-1]) and max(s3.parts) < PART_SIZE + 2**20


def test_the_writer_aborts_the_upload_when_the_rows_fail() -> None:
    from ripple.adapters.exports import write_csv_to_s3

    def broken() -> Iterator[tuple[str]]:
        yield ("ok",)
        raise RuntimeError("DynamoDB went away")

    s3 = _DiscardingS3()
    with pytest.raises(RuntimeError):
        write_csv_to_s3(s3, "bucket", "k", ("a",), broken())
    assert s3.aborted and not s3.completed
