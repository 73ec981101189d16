"""Ledger use cases: reading it, releasing held points, reversing them, conversions.

Every change to a balance is a ledger entry with a unique source key; this module adds the
ones that do not come from visits: reversals (``rv#<source key>``) after a fraud review,
and the release of held points (a state change of the held entry, not a new amount: the
balance stays, points move from pending to available).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from ripple.domain.customers import CustomerStatus
from ripple.domain.errors import ConflictError, NotFoundError, ValidationError
from ripple.domain.model import Decision, LedgerEntry, Role, Visit
from ripple.domain.points import board_id
from ripple.domain.timeutil import PERIOD_ALL, ms_to_iso
from ripple.domain.validation import check_id, decode_cursor, encode_cursor, reject_unknown_params, validate_limit
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services
from ripple.service.ports import CustomerEvent, StaleCustomerError

__all__ = [
    "convert_customer",
    "entry_view",
    "fraud_report",
    "ledger_for",
    "release_due",
    "release_withheld",
    "reverse_points",
]


def entry_view(e: LedgerEntry) -> dict[str, Any]:
    view: dict[str, Any] = {
        "source_key": e.source_key,
        "kind": e.kind,
        "points": e.points,
        "status": e.status,
        "at": ms_to_iso(e.ts),
        "campaign_id": e.campaign_id or None,
    }
    if e.release_at is not None:
        view["release_at"] = ms_to_iso(e.release_at)
    if e.rules_version:
        view["rules_version"] = e.rules_version
    if e.meta:
        view["meta"] = dict(e.meta)
    return view


def ledger_for(svc: Services, principal: Principal, employee_id: str | None, params: dict[str, str]) -> dict[str, Any]:
    """``GET /me/ledger`` (employee_id None) and ``GET /admin/employees/{id}/ledger``."""
    if employee_id is None:
        require_role(principal, Role.EMPLOYEE)
        employee_id = principal.sub
    else:
        require_role(principal, Role.ADMIN)
        check_id(employee_id, "employee_id")
        if svc.employees.get(principal.tenant_id, employee_id) is None:
            raise NotFoundError(f"employee {employee_id} not found")
    reject_unknown_params(params, {"limit", "cursor"})
    limit = validate_limit(params.get("limit"), default=50)
    cursor = decode_cursor(params.get("cursor"), _is_sort_key, max_len=400)
    entries, next_cursor = svc.points.ledger_page(principal.tenant_id, employee_id, limit, cursor)
    return {
        "employee_id": employee_id,
        "points": svc.points.balances(principal.tenant_id, employee_id),
        "items": [entry_view(e) for e in entries],
        "next_cursor": encode_cursor(next_cursor),
    }


def _is_sort_key(value: str) -> bool:
    """Ledger cursors name an entry's sort key, ``<13-digit ms>#<source key>``."""
    return "#" in value and value[:13].isdigit()


def _review_decision(body: dict[str, Any], where: str) -> tuple[str, str]:
    """``{"source_key", "reason"}`` of a review decision (reverse, release): the entry and a
    reason the ledger keeps, stripped."""
    unknown = sorted(set(body) - {"source_key", "reason"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    source_key, reason = body.get("source_key"), body.get("reason")
    if not isinstance(source_key, str) or not 1 <= len(source_key) <= 300:
        raise ValidationError(f"source_key is required (from {where})", details={"field": "source_key"})
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        raise ValidationError("reason is required (1..500 characters)", details={"field": "reason"})
    return source_key, reason.strip()


def reverse_points(svc: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Admin fraud review: reverse a *pending* entry (points still held), with a reason.
    Its points leave the balance and every leaderboard row they counted on."""
    require_role(principal, Role.ADMIN)
    source_key, reason = _review_decision(body, "the ledger")
    original = svc.points.entry(principal.tenant_id, source_key)
    if original is None:
        raise NotFoundError("no such ledger entry")
    held = svc.points.pending(principal.tenant_id, source_key)
    if held is None:
        raise ConflictError("only held (pending) points can be reversed; these were spendable at once")
    if held.state != "pending":
        raise ConflictError(f"these points were already {held.state}")
    now = svc.clock()
    reversal = replace(
        original,
        source_key=f"rv#{source_key}",
        kind="reversal",
        points=-int(held.points),
        ts=now,
        source_id=source_key,
        meta={"reason": reason, "by": principal.sub, "reverses": source_key},
        node="",
        via="",
        via_parent="",
        depth=0,
        status="pending",
        release_at=None,
    )
    if not svc.points.reverse(held, reversal, reason, now):
        raise ConflictError("these points were released or reversed meanwhile")
    return {"reversal": entry_view(reversal), "points": svc.points.balances(principal.tenant_id, original.employee_id)}


def release_due(svc: Services) -> dict[str, int]:
    """Scheduled: held points whose holding period is over and whose campaign threshold
    the employee has reached become available. Exactly once per entry (state condition)."""
    now = svc.clock()
    report = {"tenants": 0, "due": 0, "released": 0, "below_threshold": 0}
    for tenant_id in svc.tenants.all_ids():
        report["tenants"] += 1
        due = svc.points.due(tenant_id, now)
        report["due"] += len(due)
        rows = {
            (board_id(tenant_id, "employee", str(item.campaign_id), PERIOD_ALL), str(item.employee_id))
            for item in due
            if int(item.threshold or 0) > 0
        }
        earned = svc.points.scores(rows) if rows else {}
        for item in due:
            threshold = int(item.threshold or 0)
            row = (board_id(tenant_id, "employee", str(item.campaign_id), PERIOD_ALL), str(item.employee_id))
            if threshold and earned.get(row, 0) < threshold:
                report["below_threshold"] += 1
                continue
            if svc.points.release(item, now):
                report["released"] += 1
    return report


def convert_customer(svc: Services, principal: Principal, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Record a won deal. The customer's first-touch employee earns the campaign's
    ``points.conversion`` once per customer and campaign, through the stream consumer."""
    require_role(principal, Role.ADMIN)
    check_id(customer_id, "customer_id")
    unknown = sorted(set(body) - {"amount", "currency", "campaign_id"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    raw_amount = body.get("amount")
    if isinstance(raw_amount, bool) or not isinstance(raw_amount, (int, float, str)):
        raise ValidationError("amount must be a number", details={"field": "amount"})
    try:
        amount = Decimal(str(raw_amount))
    except InvalidOperation as exc:
        raise ValidationError("amount must be a number", details={"field": "amount"}) from exc
    if not amount.is_finite() or not Decimal(0) < amount <= Decimal(10) ** 12:
        raise ValidationError("amount must be > 0 and at most 10^12", details={"field": "amount"})
    currency = body.get("currency", "CNY")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise ValidationError("currency must be a 3-letter ISO code", details={"field": "currency"})
    customer = svc.customers.get(principal.tenant_id, customer_id)
    if customer is None:
        raise NotFoundError(f"customer {customer_id} not found")
    campaign_id = body.get("campaign_id", customer.source_campaign)
    if not isinstance(campaign_id, str) or campaign_id not in customer.campaigns:
        raise ValidationError("campaign_id must be one of the customer's campaigns", details={"field": "campaign_id"})
    campaign = svc.campaigns.get(principal.tenant_id, campaign_id)
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    now = svc.clock()
    deal = f"{amount.quantize(Decimal('0.01'))} {currency.upper()}"
    conversion_id = svc.ids(12)
    result = {
        "customer_id": customer_id,
        "status": "won",
        "deal": deal,
        "campaign_id": campaign_id,
        "credited_to": customer.first_touch_employee,
    }
    from ripple.service.webhooks import outbox_for

    # the customer.converted webhook event commits with the customer or not at all
    outbox = outbox_for(svc, principal.tenant_id, "customer.converted", {**result, "at": now}, conversion_id)
    for _ in range(6):
        current = svc.customers.get(principal.tenant_id, customer_id)
        assert current is not None
        updated = replace(
            current,
            tags=list(current.tags),
            campaigns=list(current.campaigns),
            status=CustomerStatus.WON,
            updated_at=now,
            last_contacted_at=now,
        )
        event = CustomerEvent(
            conversion_id, "conversion", now, principal.sub, {"amount": deal, "campaign_id": campaign_id}
        )
        try:
            svc.customers.save(
                updated,
                expected_version=current.version,
                events=[event],
                extra=[outbox] if outbox is not None else [],
            )
            break
        except StaleCustomerError:
            continue
    else:
        raise ConflictError("customer is being changed concurrently; please retry")
    svc.visits.record(
        Visit(
            visit_id=f"{now:013d}C{svc.ids(11)}",
            tenant_id=principal.tenant_id,
            code=customer.source_code,
            campaign_id=campaign_id,
            employee_id=customer.first_touch_employee,
            channel=customer.source_channel,
            visitor=f"customer:{customer_id}",
            ts=now,
            decision=Decision.ELIGIBLE,
            kind="conversion",
            customer_id=customer_id,
            node=customer.node,
            amount=deal,
        )
    )
    return result


def fraud_report(svc: Services, principal: Principal, params: dict[str, str]) -> dict[str, Any]:
    """Admins: recent anti-fraud signals (withheld points with their reasons) and the click
    rings they reveal (pairs of employees who click each other's links)."""
    from ripple.domain.fraud import rings

    require_role(principal, Role.ADMIN)
    reject_unknown_params(params, {"days", "kind"})
    days_raw = params.get("days", "7")
    if not (days_raw.isascii() and days_raw.isdigit()) or not 1 <= int(days_raw) <= 90:
        raise ValidationError("days must be 1..90", details={"field": "days"})
    kind = params.get("kind")
    if kind is not None and kind not in ("burst", "velocity", "employee_click"):
        raise ValidationError("kind must be burst, velocity or employee_click", details={"field": "kind"})
    since = svc.clock() - int(days_raw) * 86_400_000
    signals = svc.fraud.recent(principal.tenant_id, since) if svc.fraud is not None else []
    shown = [s for s in signals if kind is None or s.kind == kind][:MAX_REVIEWED_SIGNALS]
    # the withheld entry each signal names (one Query each, at most MAX_REVIEWED_SIGNALS), and
    # whether it was released since (one BatchGet): what the review can act on
    entries = {
        s.source: e
        for s in shown
        if s.employee_id
        and (e := svc.points.withheld_at(principal.tenant_id, s.employee_id, s.ts, s.source)) is not None
    }
    released = svc.points.existing(principal.tenant_id, [f"rl#{e.source_key}" for e in entries.values()])
    out = []
    for s in shown:
        row: dict[str, Any] = {
            "kind": s.kind,
            "at": ms_to_iso(s.ts),
            "employee_id": s.employee_id or None,
            "campaign_id": s.campaign_id or None,
            "clicker": s.clicker or None,
            "visit_id": s.source,
            "detail": s.detail or None,
        }
        entry = entries.get(s.source)
        if entry is not None:
            row["source_key"] = entry.source_key
            row["withheld_points"] = _withheld_points(entry)
            row["released"] = f"rl#{entry.source_key}" in released
        out.append(row)
    return {"signals": out, "rings": rings(signals)}


MAX_REVIEWED_SIGNALS = 200  # the newest ones: the report is a review queue, not an export


def _withheld_points(entry: LedgerEntry) -> int:
    raw = str(entry.meta.get("withheld_points", "0"))
    return int(raw) if raw.lstrip("-").isdigit() else 0


def release_withheld(svc: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Admin fraud review: pay an outcome the anti-fraud rules withheld, found genuine, with
    a reason. A new ledger entry ``rl#<source key>`` (once: a second release is a 409) adds
    the withheld points to the balance, spendable at once, and to every leaderboard row the
    original would have counted on (its own day, week and month)."""
    require_role(principal, Role.ADMIN)
    source_key, reason = _review_decision(body, "the fraud report")
    original = svc.points.entry(principal.tenant_id, source_key)
    if original is None:
        raise NotFoundError("no such ledger entry")
    points = _withheld_points(original)
    if not original.meta.get("withheld") or points <= 0:
        raise ConflictError("only points the anti-fraud rules withheld can be released")
    employee = svc.employees.get(principal.tenant_id, original.employee_id)
    if employee is None or not employee.active:
        raise ConflictError("the employee is offboarded: withheld points are not paid")
    now = svc.clock()
    release = replace(
        original,
        source_key=f"rl#{source_key}",
        kind="release",
        points=points,
        ts=now,
        source_id=source_key,
        meta={"reason": reason, "by": principal.sub, "releases": source_key},
        node="",
        via="",
        via_parent="",
        depth=0,
        status="available",
        release_at=None,
    )
    if not svc.points.release_withheld(release):
        raise ConflictError("these points were already released")
    return {"release": entry_view(release), "points": svc.points.balances(principal.tenant_id, original.employee_id)}


_known_devices: set[tuple[str, str, str]] = set()


def remember_device(svc: Services, principal: Principal, cookie: str) -> None:
    """Note that this signed visitor cookie belongs to this employee (once per process).

    The API and the short links share an origin, so an employee's phone carries the same
    first-party cookie when it opens a colleague's link without being signed in; the
    consumer then treats that visit as an employee click, not a customer."""
    from ripple.domain.tracking import identify_visitor, verify_visitor_cookie

    if verify_visitor_cookie(cookie, svc.settings.visitor_secret) is None:
        return
    identity = identify_visitor(
        tenant_id=principal.tenant_id, cookie=cookie, client_ip="", user_agent="", secret=svc.settings.visitor_secret
    )
    key = (principal.tenant_id, identity.visitor_key, principal.sub)
    if key in _known_devices:
        return
    svc.fraud.remember_device(principal.tenant_id, identity.visitor_key, principal.sub)
    _known_devices.add(key)
