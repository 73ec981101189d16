"""Period-end settlement in-process (moto): freeze, awards, idempotency, concurrency, the
API, the scheduled job, late events and the CLI's input checks."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from tests.conftest import STACK, auth

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.{n}"
SH = "Asia/Shanghai"
DAY = "2026-11-30"  # a Monday in Shanghai: ISO week 2026-W49, month 2026-11
AFTER_DAY = "2026-12-01T00:30:00+08:00"  # 30 minutes after DAY ended in Shanghai
TEAMS = {"ann": "red", "bob": "red", "cat": "blue", "dan": "blue", "eve": "green"}


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).astimezone(UTC).timestamp() * 1000)


def _json(client: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"headers": {**headers, "Content-Type": "application/json"}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    resp = getattr(client.http, method)(path, **kwargs)
    return resp.status_code, json.loads(resp.body or b"null")


def _set_clock(iso: str) -> None:
    from ripple import bootstrap

    bootstrap.services().clock = lambda: ms(iso)


@pytest.fixture
def client(aws: Any) -> Any:
    from chalice.test import Client

    from app import app

    return Client(app)


def _tenant(client: Any, tenant: str = "acme", tz: str = SH) -> dict[str, str]:
    admin = auth(tenant, "boss", "admin")
    assert _json(client, "put", "/admin/tenant", admin, {"timezone": tz})[0] == 200
    for emp, team in TEAMS.items():
        body = {"name": emp, "team": team, "region": "east"}
        assert _json(client, "put", f"/admin/employees/{emp}", admin, body)[0] == 200
    return admin


def _earn(tenant: str, points: dict[str, int], iso: str, *, tz: str = SH, tag: str = "a", campaign: str = "") -> None:
    """Seed board rows through the real ledger path (DynamoPoints.record)."""
    from ripple import bootstrap
    from ripple.domain.model import LedgerEntry
    from ripple.domain.timeutil import period_keys

    ts = ms(iso)
    p = period_keys(ts, tz)
    entries = [
        LedgerEntry(tenant, f"seed#{tag}#{emp}", emp, "unique_visit", pts, ts, campaign, TEAMS[emp], "east", *p)
        for emp, pts in points.items()
    ]
    assert len(bootstrap.services().points.record(entries).inserted) == len(entries)


PRIZES = {
    "day": [
        {"dimension": "employee", "rank": 1, "points": 100},
        {"dimension": "employee", "rank": 2, "points": 50},
        {"dimension": "team", "rank": 1, "points": 31},
    ],
    "week": [{"dimension": "employee", "rank": 1, "points": 7}],
}


def _balances(tenant: str = "acme") -> dict[str, int]:
    from ripple import bootstrap

    return {e: bootstrap.services().points.balance(tenant, e) for e in TEAMS}


def _prize_entries(tenant: str = "acme") -> list[tuple[str, str, int]]:
    from ripple import bootstrap

    out = []
    for emp in TEAMS:
        out += [
            (emp, e.source_key, e.points) for e in bootstrap.services().points.ledger(tenant, emp) if e.kind == "prize"
        ]
    return sorted(out)


def _assert_ledger_matches_balances() -> None:
    from ripple import bootstrap

    balances, sums = bootstrap.services().points.snapshot()
    assert balances == sums


EXPECTED_DAY_AWARDS = [
    # ann 40 and cat 40 tie at rank 1; bob 30 is rank 3 (no prize); team red (ann+bob 70) wins
    ("ann", "st#2026-11-30#employee#ann#1", 100),
    ("ann", "st#2026-11-30#team#red#1#ann", 16),  # 31 split 16/15: remainder to the top scorer
    ("bob", "st#2026-11-30#team#red#1#bob", 15),
    ("cat", "st#2026-11-30#employee#cat#1", 100),
]


def _seed_day(client: Any) -> dict[str, str]:
    admin = _tenant(client)
    assert _json(client, "put", "/admin/prizes", admin, PRIZES)[0] == 200
    _earn("acme", {"ann": 40, "bob": 30, "cat": 40, "dan": 20}, "2026-11-30T10:00:00+08:00")
    _earn("acme", {"eve": 5}, "2026-11-29T10:00:00+08:00", tag="b")  # another day: not in DAY's boards
    return admin


def test_settle_a_day_freezes_the_boards_and_awards_exactly(client: Any) -> None:
    from ripple import bootstrap
    from ripple.service.settlement import settle

    _seed_day(client)
    _set_clock(AFTER_DAY)
    before = _balances()
    summary = settle(bootstrap.services(), "acme", DAY)
    assert summary["period"] == DAY and summary["granularity"] == "day"
    assert summary["boards"] == 3  # employee, team, region across all campaigns (no campaign-scoped rows)
    assert summary["rows"] == 4 + 2 + 1
    assert (summary["winners"], summary["awards"], summary["points_awarded"]) == (3, 4, 231)
    assert summary["late_events"] == 0
    assert _prize_entries() == EXPECTED_DAY_AWARDS
    after = _balances()
    assert {e: after[e] - before[e] for e in TEAMS} == {"ann": 116, "bob": 15, "cat": 100, "dan": 0, "eve": 0}
    _assert_ledger_matches_balances()

    # rows written to the live board afterwards (bypassing the late-event shift) do not
    # touch the frozen result
    _earn("acme", {"dan": 500}, "2026-11-30T20:00:00+08:00", tag="c")
    status, body = _json(client, "get", f"/settlements/{DAY}", auth("acme", "dan", "employee"))
    assert status == 200, body
    assert body["summary"] == summary
    employee_board = next(b for b in body["boards"] if b["dimension"] == "employee" and b["campaign_id"] is None)
    assert employee_board["entries"] == [
        {"rank": 1, "id": "ann", "score": 40},
        {"rank": 1, "id": "cat", "score": 40},
        {"rank": 3, "id": "bob", "score": 30},
        {"rank": 4, "id": "dan", "score": 20},
    ]
    assert {(w["dimension"], w["id"], w["rank"], w["awarded"]) for w in body["winners"]} == {
        ("employee", "ann", 1, 100),
        ("employee", "cat", 1, 100),
        ("team", "red", 1, 31),
    }
    outbox = bootstrap.services().settlements.outbox("acme")
    assert [(o["kind"], o["summary"]["settlement_id"]) for o in outbox] == [
        ("settlement.completed", "acme#day#2026-11-30")
    ]


def test_running_twice_awards_nothing_twice(client: Any) -> None:
    from ripple import bootstrap
    from ripple.service.settlement import settle

    _seed_day(client)
    _set_clock(AFTER_DAY)
    first = settle(bootstrap.services(), "acme", DAY)
    balances = _balances()
    second = settle(bootstrap.services(), "acme", DAY)
    assert second == first
    assert _balances() == balances
    assert _prize_entries() == EXPECTED_DAY_AWARDS
    assert len(bootstrap.services().settlements.outbox("acme")) == 1


@pytest.mark.parametrize("lease_ms", [0, 15 * 60 * 1000])
def test_concurrent_runs_award_once(client: Any, lease_ms: int) -> None:
    """lease 0: every runner takes over the record and runs all steps, so only the ledger's
    unique source keys stand between them and double awards; default lease: one runner
    works, the others are told it is running (409) or get the finished summary."""
    import infra.moto_patches
    from ripple import bootstrap
    from ripple.service.settlement import SettlementBusyError, settle

    infra.moto_patches.apply()
    _seed_day(client)
    _set_clock(AFTER_DAY)
    svc = bootstrap.services()
    results: list[Any] = []
    barrier = threading.Barrier(6)

    def run() -> None:
        barrier.wait()
        try:
            results.append(settle(svc, "acme", DAY, lease_ms=lease_ms))
        except SettlementBusyError as err:
            results.append(err)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    summaries = [r for r in results if isinstance(r, dict)]
    assert len(results) == 6 and summaries
    assert all(isinstance(r, (dict, SettlementBusyError)) for r in results)
    assert _prize_entries() == EXPECTED_DAY_AWARDS
    _assert_ledger_matches_balances()
    final = settle(svc, "acme", DAY)
    assert all(s == final for s in summaries)
    assert final["points_awarded"] == 231
    assert len(svc.settlements.outbox("acme")) == 1


def test_settlement_api_contract(client: Any) -> None:
    from ripple import bootstrap
    from ripple.service.settlement import settle

    admin = _seed_day(client)
    alice = auth("acme", "ann", "employee")
    assert _json(client, "get", f"/settlements/{DAY}", alice)[0] == 404
    _set_clock(AFTER_DAY)
    settle(bootstrap.services(), "acme", DAY)
    for bad in ("all", "2026-13", "2026-W60", "2026-02-30", "junk", "2026-11-30x"):
        status, body = _json(client, "get", f"/settlements/{bad}", alice)
        assert status == 422, (bad, body)
    assert _json(client, "get", f"/settlements/{DAY}?x=1", alice)[0] == 422
    assert _json(client, "get", f"/settlements/{DAY}?limit=0", alice)[0] == 422
    status, body = _json(client, "get", f"/settlements/{DAY}?limit=1", admin)
    assert status == 200 and all(len(b["entries"]) == 1 for b in body["boards"])
    assert body["boards"][0]["rows"] >= 1
    assert _json(client, "get", "/settlements/2026-11-29", alice)[0] == 404  # not settled
    assert _json(client, "get", f"/settlements/{DAY}", auth("other", "boss", "admin"))[0] == 404
    assert _json(client, "get", f"/settlements/{DAY}", {})[0] == 401


def test_prize_configuration_api(client: Any) -> None:
    admin = _tenant(client)
    assert _json(client, "get", "/admin/prizes", admin) == (200, {"day": [], "week": [], "month": []})
    status, body = _json(client, "put", "/admin/prizes", admin, PRIZES)
    assert status == 200 and body["day"] == PRIZES["day"] and body["month"] == []
    assert _json(client, "get", "/admin/prizes", admin)[1] == body
    employee = auth("acme", "ann", "employee")
    assert _json(client, "put", "/admin/prizes", employee, PRIZES)[0] == 403
    assert _json(client, "get", "/admin/prizes", employee)[0] == 403
    bad = {"day": [{"dimension": "employee", "rank": 1, "points": 5, "campaign_id": "nope"}]}
    assert _json(client, "put", "/admin/prizes", admin, bad)[0] == 422
    assert _json(client, "put", "/admin/prizes", admin, {"day": [{"dimension": "x", "rank": 1, "points": 1}]})[0] == 422
    assert _json(client, "get", "/admin/prizes", admin)[1] == body  # nothing written on error
    assert _json(client, "get", "/admin/prizes", auth("other", "boss", "admin"))[1]["day"] == []


def test_settling_an_unfinished_period_is_refused(client: Any) -> None:
    from ripple import bootstrap
    from ripple.domain.errors import ConflictError
    from ripple.service.settlement import settle

    _seed_day(client)
    _set_clock("2026-11-30T23:59:00+08:00")
    with pytest.raises(ConflictError):
        settle(bootstrap.services(), "acme", DAY)
    assert bootstrap.services().settlements.get("acme", "day", DAY) is None


def _run_job(**event: Any) -> dict[str, Any]:
    import scheduled

    from infra.lambda_context import LocalContext

    result: dict[str, Any] = scheduled.handler({"job": "settle", **event}, LocalContext(function_name="Settlement"))
    return result


def test_scheduled_job_settles_due_periods_in_each_tenants_zone(client: Any) -> None:
    _seed_day(client)
    ny = _tenant(client, "nyc", "America/New_York")
    _json(client, "put", "/admin/prizes", ny, PRIZES)
    _earn("nyc", {"ann": 10}, "2026-11-30T10:00:00-05:00", tz="America/New_York")
    _set_clock(AFTER_DAY)  # 30 November 11:30 in New York: its day has not ended
    report = _run_job()
    assert report["ok"] and not report["failed"]
    assert "acme#day#2026-11-30" in report["settled"]
    assert "acme#week#2026-W48" in report["settled"] and "acme#month#2026-10" in report["settled"]
    assert not [s for s in report["settled"] if s.startswith("nyc#") and "2026-11-30" in s]
    assert "nyc#day#2026-11-29" in report["settled"]
    assert [a for a in _prize_entries("acme") if a[1].startswith(f"st#{DAY}#")] == EXPECTED_DAY_AWARDS
    # eve alone earned on 29 November (ISO week 2026-W48): that day's and that week's prizes
    assert ("eve", "st#2026-W48#employee#eve#1", 7) in _prize_entries("acme")
    assert ("eve", "st#2026-11-29#team#green#1#eve", 31) in _prize_entries("acme")
    assert _prize_entries("nyc") == []
    # the next hourly run finds nothing new to do
    assert _run_job()["settled"] == []
    # New York's day ends 13 hours later
    _set_clock("2026-12-01T00:15:00-05:00")
    report = _run_job()
    assert "nyc#day#2026-11-30" in report["settled"] and not [s for s in report["settled"] if s.startswith("acme#")]
    assert _prize_entries("nyc") == [
        ("ann", "st#2026-11-30#employee#ann#1", 100),
        ("ann", "st#2026-11-30#team#red#1#ann", 16),
        ("bob", "st#2026-11-30#team#red#1#bob", 15),
    ]
    _assert_ledger_matches_balances()


def _visit(tenant: str, campaign: str, employee: str, visitor: str, iso: str) -> Any:
    from ripple.domain.model import Decision, Visit

    return Visit(f"v-{visitor}", tenant, "code1", campaign, employee, "wechat", visitor, ms(iso), Decision.ELIGIBLE)


def test_late_event_counts_in_the_next_period_and_is_reported(client: Any) -> None:
    from ripple import bootstrap
    from ripple.domain.points import ALL_CAMPAIGNS, board_id
    from ripple.service.points import apply_visits
    from ripple.service.settlement import settle

    admin = _tenant(client)
    _json(client, "put", "/admin/prizes", admin, PRIZES)
    status, camp = _json(
        client,
        "post",
        "/admin/campaigns",
        admin,
        {"name": "C", "destination_url": "https://example.com/", "points": {"unique_visit": 10}},
    )
    assert status == 201
    cid = camp["campaign_id"]
    svc = bootstrap.services()
    _set_clock("2026-11-30T12:00:00+08:00")
    on_time = _visit("acme", cid, "ann", "v1", "2026-11-30T11:00:00+08:00")
    assert len(apply_visits(svc, [on_time]).result.inserted) == 1

    _set_clock(AFTER_DAY)
    assert settle(svc, "acme", DAY)["late_events"] == 0
    day_board = board_id("acme", "employee", ALL_CAMPAIGNS, DAY)
    next_board = board_id("acme", "employee", ALL_CAMPAIGNS, "2026-12-01")
    assert dict(svc.points.top(day_board, 10)) == {"ann": 10}

    # a visit of 30 November that reaches the consumer after the day was settled
    bob_before = svc.points.balance("acme", "bob")  # 15: his share of the day's team prize
    late = _visit("acme", cid, "bob", "v2", "2026-11-30T23:50:00+08:00")
    report = apply_visits(svc, [late, on_time])  # with a redelivery of the on-time visit
    assert [e.source_key for e in report.result.inserted] == [f"uv#{cid}#v2"]
    (entry,) = report.result.inserted
    assert (entry.day, entry.week, entry.month) == ("2026-12-01", "2026-W49", "2026-11")  # only the day moved
    assert dict(svc.points.top(day_board, 10)) == {"ann": 10}  # the frozen day is untouched
    assert dict(svc.points.top(next_board, 10)) == {"bob": 10}
    assert svc.points.balance("acme", "bob") == bob_before + 10  # never dropped
    assert apply_visits(svc, [late]).result.inserted == []  # redelivered: still once

    _set_clock("2026-12-02T00:30:00+08:00")
    summary = settle(svc, "acme", "2026-12-01")
    assert summary["late_events"] == 1  # the redelivered on-time visit is not reported as late
    status, body = _json(client, "get", "/settlements/2026-12-01", admin)
    assert body["late"] == [{"source_key": f"uv#{cid}#v2", "employee_id": "bob", "points": 10, "from": DAY}]
    assert _prize_entries() == [
        ("ann", "st#2026-11-30#employee#ann#1", 100),
        ("ann", "st#2026-11-30#team#red#1#ann", 16),
        ("ann", "st#2026-12-01#team#red#1#ann", 15),
        ("bob", "st#2026-11-30#team#red#1#bob", 15),
        ("bob", "st#2026-12-01#employee#bob#1", 100),  # the late visit made bob the day's winner
        ("bob", "st#2026-12-01#team#red#1#bob", 16),
    ]
    _assert_ledger_matches_balances()


def test_real_visits_through_the_redirect_and_stream_settle(client: Any, aws: Any) -> None:
    import points_consumer

    from infra.poller import StreamPoller
    from ripple import bootstrap
    from ripple.domain.timeutil import period_keys
    from ripple.service.settlement import settle

    admin = _tenant(client, "acme", "UTC")
    _json(client, "put", "/admin/prizes", admin, {"day": [{"dimension": "employee", "rank": 1, "points": 100}]})
    cid = _json(
        client,
        "post",
        "/admin/campaigns",
        admin,
        {"name": "C", "destination_url": "https://example.com/", "points": {"unique_visit": 10}},
    )[1]["campaign_id"]
    codes = {}
    for emp in ("ann", "bob"):
        codes[emp] = _json(
            client, "post", f"/campaigns/{cid}/links", auth("acme", emp, "employee"), {"channel": "line"}
        )[1]["code"]
    for n in range(3):
        assert client.http.get(f"/{codes['ann']}", headers={"User-Agent": UA.format(n=n)}).status_code == 302
    assert client.http.get(f"/{codes['bob']}", headers={"User-Agent": UA.format(n=9)}).status_code == 302
    poller = StreamPoller(
        streams=boto3.client("dynamodbstreams", region_name="us-east-1"),
        dynamodb=aws,
        table_name=f"{STACK}-visits",
        handler=points_consumer.handler,
        interval=0,
    )
    poller.drain()
    svc = bootstrap.services()
    real_clock: Callable[[], int] = svc.clock
    today = period_keys(real_clock(), "UTC").day
    svc.clock = lambda: real_clock() + 2 * 86_400_000
    summary = settle(svc, "acme", today)
    assert (summary["awards"], summary["points_awarded"]) == (1, 100)
    _, body = _json(client, "get", f"/settlements/{today}", admin)
    board = next(b for b in body["boards"] if b["dimension"] == "employee" and b["campaign_id"] is None)
    assert board["entries"] == [{"rank": 1, "id": "ann", "score": 30}, {"rank": 2, "id": "bob", "score": 10}]
    assert {b["campaign_id"] for b in body["boards"]} == {None, cid}
    assert svc.points.balance("acme", "ann") == 130
    _assert_ledger_matches_balances()


def test_cli_settle_rejects_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    from ripple.cli import main

    for argv in (["--tenant", "demo", "--period", "2026-13"], ["--tenant", "de mo", "--period", "2026-11"]):
        with pytest.raises(SystemExit) as exc:
            main(["settle", *argv])
        assert exc.value.code == 2
    assert "ripple settle:" in capsys.readouterr().err
