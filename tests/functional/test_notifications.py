"""Notifications in-process: use cases announce, the dispatcher handler (job ``notify``)
expands and sends through moto's SES; what SES accepted is read back from the mailbox
(``infra.ses`` parses each raw MIME message). Exactly once under replays and racing
dispatchers, preferences, quiet hours, the hourly limit, offboarding and unsubscribe."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from tests.conftest import auth
from tests.functional.apihelpers import body_of, call

ADMIN = auth("acme", "boss", "admin")
HOUR = 3_600_000
STAFF = {"alice": "north", "bob": "north", "carol": "north", "dave": "south", "erin": "north"}


def emp(name: str) -> dict[str, str]:
    """A signed-in employee's token: their Cognito user's ``sub``, invitation accepted."""
    from infra.moto_tokens import id_token
    from ripple import bootstrap

    employees = bootstrap.services().employees
    employee = employees.get("acme", name)
    assert employee is not None and employee.subject
    employees.mark_signed_in("acme", name)
    return {"Authorization": f"Bearer {id_token('acme', name, 'employee', ttl=3600, sub=employee.subject)}"}


@pytest.fixture
def nenv(env: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The Chalice client, with an SES sender configured and verified in moto."""
    from infra import cognito_patches
    from infra.ses import SENDER, create_sender
    from ripple import bootstrap

    monkeypatch.setenv("RIPPLE_MAIL_FROM", SENDER)
    create_sender(boto3.client("sesv2", region_name="us-east-1"))
    bootstrap.reset()
    cognito_patches.MAILBOX.clear()
    client = env[0]
    for name, team in STAFF.items():
        body = {"name": name.title(), "team": team, "region": "east", "email": f"{name}@acme.example.com"}
        resp = call(client, "PUT", f"/admin/employees/{name}", ADMIN, body)
        assert resp.status_code == 200, resp.body
    assert call(client, "POST", "/admin/employees/erin/offboard", ADMIN, {"to": "pool"}).status_code == 200
    resp = call(
        client,
        "POST",
        "/admin/campaigns",
        ADMIN,
        {"name": "Spring", "destination_url": "https://shop.example.com/", "points": {"unique_visit": 1}},
    )
    assert resp.status_code == 201, resp.body
    client.campaign_id = body_of(resp)["campaign_id"]
    return client


def sent(kind: str | None = None) -> list[dict[str, Any]]:
    from infra.cognito_patches import MAILBOX

    return [m for m in MAILBOX if m["kind"] == "ses" and (kind is None or m["headers"].get("X-Ripple-Kind") == kind)]


def notify() -> dict[str, Any]:
    import webhooks

    from infra.lambda_context import LocalContext

    return webhooks.handler({"job": "notify"}, LocalContext())  # type: ignore[no-any-return]


def shift_clock(ms: int) -> None:
    from ripple import bootstrap

    svc = bootstrap.services()
    real = svc.clock
    svc.clock = lambda: real() + ms


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat().replace("+00:00", "Z")


def make_task(client: Any, deadline: timedelta = timedelta(days=3), **over: Any) -> str:
    body = {
        "campaign_id": client.campaign_id,
        "title": "Share the <b>spring</b> sale",
        "copies": [{"text": "Spring!"}],
        "channels": ["wechat"],
        "audience": {"teams": ["north"]},
        "deadline": iso(deadline),
        **over,
    }
    resp = call(client, "POST", "/admin/tasks", ADMIN, body)
    assert resp.status_code == 201, resp.body
    return str(body_of(resp)["task_id"])


def test_task_assigned_reaches_each_active_employee_once(nenv: Any) -> None:
    task_id = make_task(nenv)
    first = notify()
    assert first["events"] == 1 and first["messages"] == 3 and first["sent"] == 3
    mails = sent("task.assigned")
    assert sorted(m["to"] for m in mails) == [
        "alice@acme.example.com",
        "bob@acme.example.com",
        "carol@acme.example.com",
    ]
    mail = mails[0]
    # the task's own page on /m, in the text and the HTML (escaped there), and RFC 8058 headers
    assert f"/m#/task/{task_id}" in mail["text"]
    assert "Share the &lt;b&gt;spring&lt;/b&gt; sale" in mail["html"] and "<b>spring</b>" not in mail["html"]
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        mail["headers"]["List-Unsubscribe"].startswith("<http")
        and "/unsubscribe?t=" in mail["headers"]["List-Unsubscribe"]
    )
    # a second run, and the same event announced again (a replayed cause), send nothing new
    assert notify()["sent"] == 0
    from ripple import bootstrap
    from ripple.service.notifications import announce

    svc = bootstrap.services()
    assert announce(svc, "acme", "task.assigned", task_id, ["alice", "bob", "carol"], {"task_id": task_id}) is False
    assert notify()["sent"] == 0
    assert len(sent("task.assigned")) == 3
    # each employee sees what happened to theirs
    mine = body_of(call(nenv, "GET", "/me/notifications", emp("alice")))
    assert [(m["kind"], m["state"]) for m in mine["recent"]] == [("task.assigned", "sent")]


def test_replayed_event_half_expanded_sends_each_message_once(nenv: Any) -> None:
    """A dispatcher that died after writing some messages: the next one writes only the rest."""
    from ripple import bootstrap
    from ripple.service.notifications import announce

    svc = bootstrap.services()
    store = svc.notifications
    assert announce(svc, "acme", "lead.assigned", "L1", ["alice", "bob"], {"customer_id": "c1", "name": "Bai"})
    [event] = store.due_events(svc.clock(), 10)
    assert store.claim_event(event, svc.clock() - 1)  # lease already over: as if it crashed
    assert store.put_messages(event, ["alice"], "email", svc.clock()) == 1
    counts = notify()
    assert counts["events"] == 1 and counts["messages"] == 1
    assert sorted(m["to"] for m in sent("lead.assigned")) == ["alice@acme.example.com", "bob@acme.example.com"]


def test_two_dispatchers_racing_send_each_message_once(nenv: Any) -> None:
    make_task(nenv)
    barrier = threading.Barrier(2)
    results: list[dict[str, Any]] = []

    def run() -> None:
        barrier.wait()
        results.append(notify())

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    notify()
    assert len(sent("task.assigned")) == 3
    assert sum(r["sent"] for r in results) <= 3


def test_preferences_quiet_hours_and_offboarding(nenv: Any) -> None:
    bad = call(nenv, "PUT", "/me/notifications", emp("bob"), {"email": {"task.assigned": "no"}})
    assert bad.status_code == 422
    resp = call(nenv, "PUT", "/me/notifications", emp("bob"), {"email": {"task.assigned": False}})
    assert resp.status_code == 200 and body_of(resp)["preferences"]["email"]["task.assigned"] is False
    # carol is quiet for the whole day around now, in Tokyo
    now = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    start = (now - timedelta(hours=1)).strftime("%H:%M")
    end = (now + timedelta(hours=2)).strftime("%H:%M")
    quiet = {"quiet_hours": {"start": start, "end": end}, "timezone": "Asia/Tokyo", "language": "ja"}
    resp = call(nenv, "PUT", "/me/notifications", emp("carol"), quiet)
    assert resp.status_code == 200, resp.body
    make_task(nenv)
    counts = notify()
    assert counts["sent"] == 1 and counts["skipped"] == 1 and counts["deferred"] == 1
    assert [m["to"] for m in sent("task.assigned")] == ["alice@acme.example.com"]
    # after the quiet window carol gets hers, in Japanese; bob's stays skipped
    shift_clock(3 * HOUR)
    assert notify()["sent"] == 1
    carol = [m for m in sent("task.assigned") if m["to"].startswith("carol")]
    assert len(carol) == 1 and "新しいタスク" in carol[0]["subject"]
    bob = body_of(call(nenv, "GET", "/me/notifications", emp("bob")))["recent"]
    assert [(m["state"], m["reason"]) for m in bob] == [("skipped", "preference")]


def test_offboarded_before_sending_gets_nothing(nenv: Any) -> None:
    make_task(nenv)
    assert call(nenv, "POST", "/admin/employees/alice/offboard", ADMIN, {"to": "pool"}).status_code == 200
    counts = notify()
    assert counts["sent"] == 2 and counts["skipped"] == 1
    assert "alice@acme.example.com" not in [m["to"] for m in sent()]


def test_hourly_limit_defers_instead_of_dropping(nenv: Any) -> None:
    from ripple import bootstrap
    from ripple.domain.notifications import RATE_PER_HOUR
    from ripple.service.notifications import lead_assigned

    svc = bootstrap.services()
    for i in range(RATE_PER_HOUR + 2):
        lead_assigned(svc, "acme", "dave", f"L{i}", f"c{i}", f"Lead {i}")
    counts = notify()
    assert counts["sent"] == RATE_PER_HOUR and counts["deferred"] == 2
    shift_clock(HOUR)
    assert notify()["sent"] == 2
    assert len(sent("lead.assigned")) == RATE_PER_HOUR + 2
    link = sent("lead.assigned")[0]["text"]
    assert "/m#/customer/c" in link


def test_unsubscribe_link_get_shows_post_unsubscribes(nenv: Any) -> None:
    make_task(nenv)
    notify()
    mail = next(m for m in sent("task.assigned") if m["to"].startswith("alice"))
    url = mail["headers"]["List-Unsubscribe"].strip("<>")
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}"
    page = nenv.http.get(path, headers={"Accept-Language": "ja"})
    assert page.status_code == 200 and b'method="post"' in page.body and "配信" in page.body.decode()
    prefs = body_of(call(nenv, "GET", "/me/notifications", emp("alice")))["preferences"]
    assert prefs["email"]["task.assigned"] is True  # a GET changes nothing
    one_click = nenv.http.post(
        path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body="List-Unsubscribe=One-Click"
    )
    assert one_click.status_code == 200, one_click.body
    assert body_of(one_click)["unsubscribed"] == ["task.assigned"]
    prefs = body_of(call(nenv, "GET", "/me/notifications", emp("alice")))["preferences"]
    assert prefs["email"]["task.assigned"] is False and prefs["email"]["lead.assigned"] is True
    # forged, truncated and missing tokens: a JSON 422, nothing changed
    token = parse_qs(parts.query)["t"][0]
    for bad in (token[:-2] + "xx", token.split(".")[0], ""):
        resp = nenv.http.post(f"/unsubscribe?t={bad}", headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status_code == 422 and json.loads(resp.body)["error"]["code"] == "validation_error"


def test_due_reminder_goes_to_those_who_have_not_shared(nenv: Any) -> None:
    from ripple.adapters.tasks import TaskAssignmentItem

    task_id = make_task(nenv, deadline=timedelta(hours=30))
    notify()
    TaskAssignmentItem(TaskAssignmentItem.key("acme", task_id, "alice")).update(
        actions=[TaskAssignmentItem.shared_at.set(1)]
    )
    assert notify()["events"] == 0  # not due yet: 24 h before the deadline
    shift_clock(7 * HOUR)
    counts = notify()
    assert counts["events"] == 1 and counts["sent"] == 2
    assert sorted(m["to"] for m in sent("task.due")) == ["bob@acme.example.com", "carol@acme.example.com"]
    assert "24" in sent("task.due")[0]["subject"]


def test_permanent_send_failure_is_recorded_not_retried(nenv: Any) -> None:
    boto3.client("sesv2", region_name="us-east-1").delete_email_identity(EmailIdentity="notifications@ripple.test")
    make_task(nenv)
    counts = notify()
    assert counts["failed"] == 3 and sent() == []
    recent = body_of(call(nenv, "GET", "/me/notifications", emp("alice")))["recent"]
    assert recent[0]["state"] == "failed" and "MessageRejected" in recent[0]["reason"]
    shift_clock(3 * HOUR)
    assert notify()["sent"] == 0


def test_a_dispatcher_dying_mid_send_never_causes_a_second_email(nenv: Any) -> None:
    from ripple import bootstrap
    from ripple.service.notifications import lead_assigned

    svc = bootstrap.services()
    lead_assigned(svc, "acme", "dave", "L9", "c9", "Bai")
    store = svc.notifications
    [event] = store.due_events(svc.clock(), 10)
    store.claim_event(event, svc.clock() + 1000)
    store.put_messages(event, event.recipients, "email", svc.clock())
    store.finish_event(event)
    [message] = store.due_messages(svc.clock(), 10)
    assert store.claim_message(message, "dead", svc.clock() - 1)  # claimed, then the process died
    counts = notify()
    assert counts["sent"] == 0 and sent() == []
    recent = body_of(call(nenv, "GET", "/me/notifications", emp("dave")))["recent"]
    assert recent[0]["state"] == "unknown"


def test_admin_settings_turn_email_off_and_shift_the_reminder(nenv: Any) -> None:
    resp = call(nenv, "GET", "/admin/notifications", ADMIN)
    assert body_of(resp) == {"email": True, "from_name": "", "due_hours": 24, "email_configured": True}
    assert call(nenv, "GET", "/admin/notifications", emp("alice")).status_code == 403
    for bad in ({"due_hours": 0}, {"from_name": "a\nb"}, {"email": "yes"}, {"bcc": "x"}):
        assert call(nenv, "PUT", "/admin/notifications", ADMIN, bad).status_code == 422, bad
    resp = call(nenv, "PUT", "/admin/notifications", ADMIN, {"email": False, "from_name": "Acme Advocacy"})
    assert resp.status_code == 200 and body_of(resp)["email"] is False
    make_task(nenv)
    counts = notify()
    assert counts["skipped"] == 3 and sent() == []


def test_task_and_offboarding_webhook_events_are_in_the_outbox(nenv: Any) -> None:
    from ripple import bootstrap

    body = {"url": "http://127.0.0.1:9/hook", "events": ["task.created", "task.completed", "employee.offboarded"]}
    assert call(nenv, "PUT", "/admin/webhooks", ADMIN, body).status_code == 200
    task_id = make_task(nenv)
    assert call(nenv, "POST", "/admin/employees/dave/offboard", ADMIN, {"to": "pool"}).status_code == 200
    outbox = bootstrap.services().webhooks.outbox("acme")
    kinds = sorted((o["kind"], o["event_id"]) for o in outbox)
    assert ("task.created", task_id) in kinds and ("task.completed", task_id) in kinds
    assert [k for k, _ in kinds].count("employee.offboarded") == 1


def test_weekly_digest_on_monday_morning_in_the_tenants_zone(nenv: Any, env: tuple[Any, Any]) -> None:
    import scheduled

    from infra.lambda_context import LocalContext
    from ripple import bootstrap

    poller = env[1]
    link = body_of(call(nenv, "POST", f"/campaigns/{nenv.campaign_id}/links", emp("alice"), {"channel": "wechat"}))
    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.{n}"
    for n in range(3):
        assert nenv.http.get(f"/{link['code']}", headers={"User-Agent": ua.format(n=n)}).status_code == 302
    poller.drain()
    now = datetime.now(UTC)
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=8, minute=30, second=0, microsecond=0)
    week = now.isocalendar()
    svc = bootstrap.services()

    def at(when: datetime) -> None:
        svc.clock = lambda: int(when.timestamp() * 1000)

    def digest() -> dict[str, Any]:
        return scheduled.handler({"job": "digest"}, LocalContext())  # type: ignore[no-any-return]

    at(monday)
    assert digest()["announced"] == 0  # Monday, but before 09:00
    at(monday + timedelta(hours=1))
    assert digest()["announced"] == 1
    assert digest()["announced"] == 0  # the next hourly run: the same week, nothing new
    counts = notify()
    mails = sent("digest.weekly")
    # alice earned 3; bob and carol are in her team (north: 3); dave's team earned nothing
    assert sorted(m["to"].split("@")[0] for m in mails) == ["alice", "bob", "carol"]
    assert counts["skipped"] == 1
    alice = next(m for m in mails if m["to"].startswith("alice"))
    assert f"{week.year:04d}-W{week.week:02d}" in alice["subject"] and "3 points" in alice["subject"]
    assert "#1" in alice["subject"] and "/m#/points" in alice["text"]
    bob = next(m for m in mails if m["to"].startswith("bob"))
    assert "0 points" in bob["subject"] and "Team north: 3 points, rank 1" in bob["text"]


def test_daily_summary_goes_to_active_admins_once_a_day_with_the_days_figures(nenv: Any, env: tuple[Any, Any]) -> None:
    """From 08:00 in the tenant's zone, yesterday's program: totals, who earned, the top by
    name and the anti-fraud signals, to each active admin once (a replayed hourly job and a
    second dispatcher run add nothing); employees get none; an admin demoted before it is
    due gets none; a day with nothing in it is not sent."""
    import scheduled

    from infra.lambda_context import LocalContext
    from ripple import bootstrap

    poller = env[1]
    for name in ("olga", "petra"):
        body = {
            "name": name.title(),
            "team": "hq",
            "region": "east",
            "email": f"{name}@acme.example.com",
            "role": "admin",
        }
        assert call(nenv, "PUT", f"/admin/employees/{name}", ADMIN, body).status_code == 200
    assert call(nenv, "PUT", "/admin/tenant", ADMIN, {"fraud": {"velocity_per_hour": 2}}).status_code == 200
    svc = bootstrap.services()
    real = svc.clock
    day = datetime.fromtimestamp(real() / 1000, UTC).date()
    link = body_of(call(nenv, "POST", f"/campaigns/{nenv.campaign_id}/links", emp("alice"), {"channel": "wechat"}))
    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.{n}"
    for n in range(3):  # the third is beyond the hourly limit: withheld, one velocity signal
        assert nenv.http.get(f"/{link['code']}", headers={"User-Agent": ua.format(n=n)}).status_code == 302
    poller.drain()

    def at(when: datetime) -> None:
        svc.clock = lambda: int(when.timestamp() * 1000)

    def summary() -> dict[str, Any]:
        return scheduled.handler({"job": "summary"}, LocalContext())  # type: ignore[no-any-return]

    morning = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=7, minutes=30)
    at(morning)
    assert summary()["announced"] == 0  # the next day, but before 08:00
    # petra stops being an admin before the summary is due: she gets none
    demoted = {"name": "Petra", "team": "hq", "region": "east", "email": "petra@acme.example.com", "role": "employee"}
    at(morning + timedelta(hours=1))
    assert summary()["announced"] == 1
    assert call(nenv, "PUT", "/admin/employees/petra", ADMIN, demoted).status_code == 200
    assert summary()["announced"] == 0  # the next hourly run: the same day, nothing new
    notify()
    assert notify()["sent"] == 0  # a second run sends nothing again
    mails = sent("summary.daily")
    assert [m["to"] for m in mails] == ["olga@acme.example.com"]
    text = mails[0]["text"]
    assert mails[0]["subject"] == f"Program {day.isoformat()}: 3 visits, 0 leads"
    assert "2 points" in text and "1 of 6 employees earned points" in text  # erin is offboarded
    assert "Top: Alice (2)" in text and "Anti-fraud signals to review: 1" in text
    assert "/console#/dashboard" in text
    assert not sent("digest.weekly") and all(m["to"] == "olga@acme.example.com" for m in sent())

    # a quiet day: announced, then skipped as nothing to report
    at(morning + timedelta(days=1, hours=1))
    assert summary()["announced"] == 1
    counts = notify()
    assert counts["skipped"] == 1 and len(sent("summary.daily")) == 1
    # only admins are offered the kind in their preferences
    kinds_of = lambda who: body_of(call(nenv, "GET", "/me/notifications", who))["kinds"]  # noqa: E731
    assert "summary.daily" not in kinds_of(emp("alice"))
    assert "summary.daily" in kinds_of(ADMIN)
