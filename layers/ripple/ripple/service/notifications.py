"""Notifications (issue 15): use cases announce events, the dispatcher turns them into
messages and sends them; employees choose what they get, admins configure the channels.

Why two steps: a use case (a task distributed to 800 people, a lead) writes one event, the
cheapest possible thing in a request; the dispatcher (every minute, ``functions/webhooks.py``
job ``notify``) expands it into one message per recipient, each written with
``attribute_not_exists`` so a replayed event, a redelivered stream batch or two dispatchers
produce each message once. Whether a message is sent is decided when it is due
(``domain.notifications.decide``): an employee offboarded meanwhile gets nothing, quiet
hours and the hourly limit move it later. A message is claimed (``sending``) before the
provider is called; a dispatcher that dies in that call leaves it ``unknown`` rather than
sending it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ripple.domain.errors import NotFoundError, ValidationError
from ripple.domain.model import Employee, Role, Tenant
from ripple.domain.notifications import (
    ADMIN_KINDS,
    CHANNELS,
    KINDS,
    RATE_PER_HOUR,
    Preferences,
    decide,
    digest_due,
    hour_window,
    rank_of,
    read_unsubscribe_token,
    render,
    summary_due,
    top_names,
    unsubscribe_token,
    validate_notification_settings,
    validate_preferences,
)
from ripple.domain.timeutil import day_bounds_ms
from ripple.domain.validation import reject_unknown_params
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services
from ripple.service.ports import DueEvent, DueMessage, MailError, OutgoingMail

__all__ = [
    "announce",
    "announce_digests",
    "announce_summaries",
    "dispatch",
    "get_preferences",
    "get_settings",
    "lead_assigned",
    "put_preferences",
    "put_settings",
    "reward_fulfilled",
    "safe_announce",
    "task_distributed",
    "unsubscribe",
    "unsubscribe_target",
]

log = logging.getLogger("ripple.notifications")
LEASE_MS = 120_000  # far longer than one SES call
_MINUTE = 60_000
RETRY_MS = (5 * _MINUTE, 30 * _MINUTE, 120 * _MINUTE)
MAX_SEND_ATTEMPTS = len(RETRY_MS) + 1
_HOUR = 3_600_000


def _key(svc: Services) -> bytes:
    """The unsubscribe tokens' key, derived from the visitor secret (a separate HMAC domain)."""
    return svc.settings.visitor_secret


def _tenant_settings(svc: Services, tenant_id: str) -> dict[str, Any]:
    return validate_notification_settings({}, svc.notifications.settings(tenant_id))


# ------------------------------------------------------------------ announce


def announce(
    svc: Services,
    tenant_id: str,
    kind: str,
    key: str,
    recipients: Sequence[str],
    data: dict[str, Any],
    *,
    due_at: int | None = None,
) -> bool:
    """Write the event once (idempotent by ``(tenant, kind, key)``); False if it existed."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind}")
    if not recipients:
        return False
    now = svc.clock()
    return svc.notifications.put_event(
        tenant_id, kind, key, list(recipients), data, now=now, due_at=now if due_at is None else due_at
    )


def safe_announce(svc: Services, *args: Any, **kwargs: Any) -> None:
    """``announce`` after a committed business write: a failure is logged, never turned
    into an error for a request that did succeed."""
    try:
        announce(svc, *args, **kwargs)
    except Exception:  # the business write is committed
        log.exception("notification event write failed: %s", args[:3])


def task_distributed(
    svc: Services, tenant_id: str, task_id: str, title: str, deadline: int, recipients: Sequence[str]
) -> None:
    """A task went out: "task assigned" now, and the reminder for those who have not
    shared it ``due_hours`` before the deadline (if that is still ahead by an hour)."""
    data = {"task_id": task_id, "title": title, "deadline": deadline}
    safe_announce(svc, tenant_id, "task.assigned", task_id, recipients, data)
    hours = int(_tenant_settings(svc, tenant_id)["due_hours"])
    remind_at = deadline - hours * _HOUR
    if remind_at > svc.clock() + _HOUR:
        safe_announce(svc, tenant_id, "task.due", task_id, recipients, {**data, "hours": hours}, due_at=remind_at)


def lead_assigned(svc: Services, tenant_id: str, employee_id: str, lead_id: str, customer_id: str, name: str) -> None:
    safe_announce(svc, tenant_id, "lead.assigned", lead_id, [employee_id], {"customer_id": customer_id, "name": name})


def reward_fulfilled(svc: Services, tenant_id: str, employee_id: str, redemption_id: str, reward: str) -> None:
    safe_announce(svc, tenant_id, "reward.fulfilled", redemption_id, [employee_id], {"reward": reward})


def announce_summaries(svc: Services, tenants: Sequence[str] | None = None) -> dict[str, int]:
    """Hourly: each tenant whose 08:00 has come gets yesterday's program summary event for
    its active admins (once a day: keyed by the day it covers)."""
    now = svc.clock()
    counts = {"tenants": 0, "announced": 0}
    for tenant_id in tenants if tenants is not None else svc.tenants.all_ids():
        counts["tenants"] += 1
        day = summary_due(svc.tenants.get(tenant_id).timezone or "UTC", now)
        if day is None:
            continue
        admins = [e.employee_id for e in svc.employees.in_tenant(tenant_id) if e.active and e.role == "admin"]
        if admins and announce(svc, tenant_id, "summary.daily", day, admins, {"day": day}):
            counts["announced"] += 1
    return counts


def announce_digests(svc: Services, tenants: Sequence[str] | None = None) -> dict[str, int]:
    """Hourly: each tenant whose Monday 09:00 has come gets this week's digest event for its
    active employees (once: keyed by the week it covers)."""
    now = svc.clock()
    counts = {"tenants": 0, "announced": 0}
    for tenant_id in tenants if tenants is not None else svc.tenants.all_ids():
        counts["tenants"] += 1
        week = digest_due(svc.tenants.get(tenant_id).timezone or "UTC", now)
        if week is None:
            continue
        staff = [e.employee_id for e in svc.employees.in_tenant(tenant_id) if e.active]
        if staff and announce(svc, tenant_id, "digest.weekly", week, staff, {"week": week}):
            counts["announced"] += 1
    return counts


_BOARD_DEPTH = 100  # ranks beyond the top 100 are shown as "100+"


def _digest_figures(run: _Run, message: DueMessage, employee: Employee) -> dict[str, Any] | None:
    """My week (points, rank among those who earned, balance) and my team's; None when
    neither I nor my team earned anything (a digest of zeros is noise)."""
    from ripple.domain.points import ALL_CAMPAIGNS, board_id

    svc, week = run.svc, str(message.data.get("week", ""))
    people = run.board(board_id(message.tenant_id, "employee", ALL_CAMPAIGNS, week), _BOARD_DEPTH)
    teams = run.board(board_id(message.tenant_id, "team", ALL_CAMPAIGNS, week), _BOARD_DEPTH)
    rank, points = rank_of(people, employee.employee_id)
    team_rank, team_points = rank_of(teams, employee.team)
    if not points and not team_points:
        return None
    balance = svc.points.balances(message.tenant_id, employee.employee_id).get("balance", 0)
    return {
        "week": week,
        "points": points,
        "rank": rank if rank is not None else f"{_BOARD_DEPTH}+",
        "ranked": len(people),
        "balance": balance,
        "team": employee.team,
        "team_points": team_points,
        "team_rank": team_rank if team_rank is not None else f"{_BOARD_DEPTH}+",
    }


def _summary_figures(run: _Run, message: DueMessage) -> dict[str, Any] | None:
    """The program's day: the tenant's totals, how many of the active employees earned, the
    top three by name and the anti-fraud signals of the day; None for a day with nothing in
    it (no visits, points, leads or signals). Read once per tenant and day in a run."""
    from ripple.domain.points import ALL_CAMPAIGNS, board_id
    from ripple.service.analytics import day_totals

    day = str(message.data.get("day", ""))
    key = f"{message.tenant_id}#{day}"
    if key not in run.summaries:
        svc = run.svc
        totals = day_totals(svc, message.tenant_id, day)
        board = run.board(board_id(message.tenant_id, "employee", ALL_CAMPAIGNS, day), _BOARD_DEPTH)
        staff = [e for e in svc.employees.in_tenant(message.tenant_id) if e.active]
        start, end = day_bounds_ms(day, run.tenant(message.tenant_id).timezone or "UTC")
        signals = sum(1 for s in svc.fraud.recent(message.tenant_id, start) if s.ts < end)
        names = {e.employee_id: e.name for e in staff}
        figures: dict[str, Any] | None = {
            "day": day,
            **totals,
            "earners": sum(1 for _, score in board if score > 0),
            "staff": len(staff),
            "top": top_names(board, names) or "-",
            "signals": signals,
        }
        if not (totals.get("visits") or totals.get("points") or totals.get("leads") or signals):
            figures = None
        run.summaries[key] = figures
    return run.summaries[key]


# ------------------------------------------------------------------ dispatch


def _recipients(svc: Services, event: DueEvent) -> list[str]:
    """Who gets the event now: the reminder only goes to those who have not shared yet."""
    if event.kind != "task.due":
        return list(event.recipients)
    task_id = str(event.data.get("task_id", ""))
    states = svc.tasks.states([(event.tenant_id, task_id, e) for e in event.recipients])
    return [e for e in event.recipients if (s := states.get((event.tenant_id, task_id, e))) and s.shared_at is None]


def _link(base: str, kind: str, data: dict[str, Any]) -> str:
    if kind in ("task.assigned", "task.due"):
        return f"{base}/m#/task/{data.get('task_id', '')}"
    if kind == "lead.assigned":
        return f"{base}/m#/customer/{data.get('customer_id', '')}"
    if kind == "digest.weekly":
        return f"{base}/m#/points"
    if kind == "summary.daily":
        return f"{base}/console#/dashboard"
    return f"{base}/m#/rewards"


class _Run:
    """Per-run caches: one dispatcher run reads each tenant, employee, preference and
    digest board once."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.tenants: dict[str, Tenant] = {}
        self.settings: dict[str, dict[str, Any]] = {}
        self.employees: dict[tuple[str, str], Employee | None] = {}
        self.prefs: dict[tuple[str, str], Preferences] = {}
        self.boards: dict[str, list[tuple[str, int]]] = {}
        self.summaries: dict[str, dict[str, Any] | None] = {}

    def board(self, board: str, depth: int) -> list[tuple[str, int]]:
        """A week's board, read once for every digest of the run (not once per recipient)."""
        if board not in self.boards:
            self.boards[board] = self.svc.points.top(board, depth)
        return self.boards[board]

    def tenant(self, tenant_id: str) -> Tenant:
        if tenant_id not in self.tenants:
            self.tenants[tenant_id] = self.svc.tenants.get(tenant_id)
        return self.tenants[tenant_id]

    def tenant_settings(self, tenant_id: str) -> dict[str, Any]:
        if tenant_id not in self.settings:
            self.settings[tenant_id] = _tenant_settings(self.svc, tenant_id)
        return self.settings[tenant_id]

    def employee(self, tenant_id: str, employee_id: str) -> Employee | None:
        key = (tenant_id, employee_id)
        if key not in self.employees:
            self.employees[key] = self.svc.employees.get(tenant_id, employee_id)
        return self.employees[key]

    def preferences(self, tenant_id: str, employee_id: str) -> Preferences:
        key = (tenant_id, employee_id)
        if key not in self.prefs:
            self.prefs[key] = self.svc.notifications.preferences(tenant_id, employee_id)
        return self.prefs[key]


def dispatch(svc: Services, *, limit: int = 200) -> dict[str, int]:
    """Expand every due event, then decide and send every due message (``limit`` each)."""
    store = svc.notifications
    counts = {"events": 0, "messages": 0, "sent": 0, "skipped": 0, "deferred": 0, "failed": 0, "lost_claims": 0}
    for event in store.due_events(svc.clock(), limit):
        if not store.claim_event(event, svc.clock() + LEASE_MS):
            counts["lost_claims"] += 1
            continue
        recipients = _recipients(svc, event)
        for channel in CHANNELS:
            counts["messages"] += store.put_messages(event, recipients, channel, svc.clock())
        store.finish_event(event)
        counts["events"] += 1
    run = _Run(svc)
    for message in store.due_messages(svc.clock(), limit):
        if message.state == "sending":  # its dispatcher died mid-send: never send twice
            store.abandon(message, svc.clock())
            counts["failed"] += 1
            continue
        token = svc.ids(16)
        if not store.claim_message(message, token, svc.clock() + LEASE_MS):
            counts["lost_claims"] += 1
            continue
        counts[_deliver(run, message, token)] += 1
    return counts


def _deliver(run: _Run, message: DueMessage, token: str) -> str:
    """Decide, rate-limit, render and send one claimed message; the counter it moves."""
    svc, store = run.svc, run.svc.notifications
    now = svc.clock()
    employee = run.employee(message.tenant_id, message.employee_id)
    prefs = run.preferences(message.tenant_id, message.employee_id)
    tenant = run.tenant(message.tenant_id)
    settings = run.tenant_settings(message.tenant_id)
    verdict = decide(
        kind=message.kind,
        channel=message.channel,
        active=employee is not None and employee.active,
        has_address=employee is not None and bool(employee.email),
        tenant_enabled=svc.mailer is not None and bool(settings["email"]),
        prefs=prefs,
        zone=tenant.timezone,
        now_ms=now,
    )
    if verdict.action == "skip":
        store.settle_message(message, token, state="skipped", reason=verdict.reason, at=now)
        return "skipped"
    if verdict.action == "later":
        store.settle_message(message, token, state="pending", reason=verdict.reason, at=now, retry_at=verdict.at)
        return "deferred"
    assert employee is not None and svc.mailer is not None
    data = message.data
    if message.kind == "digest.weekly":
        figures = _digest_figures(run, message, employee)
        if figures is None:
            store.settle_message(message, token, state="skipped", reason="nothing_to_report", at=now)
            return "skipped"
        data = {**data, **figures}
    if message.kind == "summary.daily":
        if employee.role != "admin":  # no longer an admin when it became due
            store.settle_message(message, token, state="skipped", reason="not_admin", at=now)
            return "skipped"
        summary = _summary_figures(run, message)
        if summary is None:
            store.settle_message(message, token, state="skipped", reason="nothing_to_report", at=now)
            return "skipped"
        data = {**data, **summary}
    hour, next_hour = hour_window(now)
    if not store.take_rate(message.tenant_id, message.employee_id, hour, RATE_PER_HOUR):
        store.settle_message(message, token, state="pending", reason="rate_limited", at=now, retry_at=next_hour)
        return "deferred"
    base = svc.settings.public_base_url.rstrip("/")
    unsubscribe_url = (
        f"{base}/unsubscribe?t={unsubscribe_token(_key(svc), message.tenant_id, message.employee_id, message.kind)}"
    )
    lang = prefs.language or str(message.data.get("lang") or "en")
    rendered = render(
        message.kind,
        lang,
        data,
        url=_link(base, message.kind, data),
        unsubscribe_url=unsubscribe_url,
        company=tenant.name,
    )
    mail = OutgoingMail(
        to=employee.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        from_name=str(settings["from_name"] or tenant.name),
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Ripple-Kind": message.kind,
        },
    )
    try:
        provider_id = svc.mailer.send(mail)
    except MailError as exc:
        attempt = message.attempts + 1
        if exc.permanent or attempt >= MAX_SEND_ATTEMPTS:
            store.settle_message(message, token, state="failed", reason=str(exc)[:300], at=svc.clock())
            return "failed"
        retry_at = svc.clock() + RETRY_MS[attempt - 1]
        store.settle_message(message, token, state="failed", reason=str(exc)[:300], at=svc.clock(), retry_at=retry_at)
        return "deferred"
    store.settle_message(message, token, state="sent", reason=None, at=svc.clock(), provider_id=provider_id)
    return "sent"


# ------------------------------------------------------------------ preferences and settings


def _offered(principal: Principal) -> list[str]:
    """The kinds this person can receive: the admins' summary is offered to admins only."""
    return [k for k in KINDS if k not in ADMIN_KINDS or principal.role is Role.ADMIN]


def _preferences_view(prefs: Preferences, principal: Principal) -> dict[str, Any]:
    kinds = _offered(principal)
    view = prefs.to_public()
    view["email"] = {k: on for k, on in view["email"].items() if k in kinds}
    return {"preferences": view, "kinds": kinds}


def get_preferences(svc: Services, principal: Principal) -> dict[str, Any]:
    prefs = svc.notifications.preferences(principal.tenant_id, principal.sub)
    recent = svc.notifications.messages_of(principal.tenant_id, principal.sub, 20)
    return {**_preferences_view(prefs, principal), "recent": recent}


def put_preferences(svc: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    current = svc.notifications.preferences(principal.tenant_id, principal.sub)
    prefs = validate_preferences(body, current)
    svc.notifications.save_preferences(principal.tenant_id, principal.sub, prefs)
    return _preferences_view(prefs, principal)


def get_settings(svc: Services, principal: Principal) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    return {**_tenant_settings(svc, principal.tenant_id), "email_configured": svc.mailer is not None}


def put_settings(svc: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    clean = validate_notification_settings(body, svc.notifications.settings(principal.tenant_id))
    svc.notifications.save_settings(principal.tenant_id, clean)
    return {**clean, "email_configured": svc.mailer is not None}


def unsubscribe_target(svc: Services, params: dict[str, str]) -> tuple[str, str, str]:
    """(tenant, employee, kind) a link names; ValidationError for a forged or broken one."""
    reject_unknown_params(params, {"t"})
    if not params.get("t"):
        raise ValidationError("t (the unsubscribe token) is required", details={"field": "t"})
    return read_unsubscribe_token(_key(svc), params["t"])


def unsubscribe(svc: Services, params: dict[str, str]) -> dict[str, Any]:
    """RFC 8058 one-click: turn the kind (or every kind) off by e-mail, idempotently."""
    tenant_id, employee_id, kind = unsubscribe_target(svc, params)
    if svc.employees.get(tenant_id, employee_id) is None:
        raise NotFoundError("this unsubscribe link's employee no longer exists")
    current = svc.notifications.preferences(tenant_id, employee_id)
    off = KINDS if kind == "*" else (kind,)
    prefs = validate_preferences({"email": dict.fromkeys(off, False)}, current)
    svc.notifications.save_preferences(tenant_id, employee_id, prefs)
    return {"unsubscribed": list(off), "preferences": prefs.to_public()}
