"""Webhooks: endpoint configuration, ``emit`` (the outbox write) and the dispatcher.

Delivery is at least once: an event is written to the outbox once (keyed by its id) by the
use case that caused it, and the dispatcher (``functions/webhooks.py``, every minute) POSTs
it, signed, until a 2xx or the retry schedule runs out. A dispatcher claims each item with
a conditional update before sending, so two dispatchers never send the same attempt; a
crash between the POST and recording it means the receiver sees the delivery again, with
the same ``Ripple-Delivery`` id, which is what receivers dedupe on.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from ripple.domain.chatbots import FANOUT_AT_DISPATCH
from ripple.domain.errors import ConflictError, NotFoundError, ValidationError
from ripple.domain.model import Role
from ripple.domain.validation import reject_unknown_params, validate_limit
from ripple.domain.webhooks import EVENT_TYPES, MAX_ATTEMPTS, next_retry_ms, signature_header, validate_endpoint
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = [
    "LEASE_MS",
    "configure",
    "deliveries",
    "dispatch_due",
    "emit",
    "get_config",
    "redeliver",
    "safe_emit",
    "send_ping",
]

log = logging.getLogger("ripple.webhooks")
LEASE_MS = 60_000  # longer than one send (5 s timeout) plus its bookkeeping
BOT_KEY = "_bot"  # an outbox item for a chat bot carries its bot id under this key
TIMEOUT_S = 5.0
USER_AGENT = "Ripple-Webhooks/1"
Sender = Callable[..., Any]  # adapters.webhooks.http_post's signature


def _repo(svc: Services) -> Any:
    repo = getattr(svc, "webhooks", None)
    if repo is None:
        from ripple.adapters.webhooks import DynamoWebhooks  # services built by hand (tests) may leave it out

        repo = _DEFAULT.setdefault("repo", DynamoWebhooks())
    return repo


_DEFAULT: dict[str, Any] = {}


def _default_sender() -> Sender:
    from ripple.adapters.webhooks import http_post

    return http_post


def _masked(secret: str) -> str:
    return secret[:10] + "…" + "*" * 8


def _public(endpoint: dict[str, Any], *, reveal: bool) -> dict[str, Any]:
    return {
        "url": endpoint["url"],
        "events": endpoint["events"],
        "active": endpoint["active"],
        "secret": endpoint["secret"] if reveal else _masked(endpoint["secret"]),
        "created_at": endpoint["created_at"],
        "updated_at": endpoint["updated_at"],
    }


# ------------------------------------------------------------------ admin


def configure(svc: Services, principal: Principal, body: dict[str, Any], *, allow_private: bool) -> dict[str, Any]:
    """Create or replace the tenant's endpoint. The signing secret is generated on creation
    (and with ``"rotate_secret": true``) and shown in that response only."""
    require_role(principal, Role.ADMIN)
    clean = validate_endpoint(body, allow_private=allow_private)
    repo = _repo(svc)
    now = svc.clock()
    current = repo.get_endpoint(principal.tenant_id)
    fresh = current is None or clean["rotate_secret"]
    endpoint = {
        "url": clean["url"],
        "events": clean["events"],
        "active": clean["active"],
        "secret": "whsec_" + secrets.token_urlsafe(32) if fresh else current["secret"],
        "created_at": now if current is None else current["created_at"],
        "updated_at": now,
    }
    repo.put_endpoint(principal.tenant_id, endpoint, principal.sub)
    return _public(endpoint, reveal=fresh)


def get_config(svc: Services, principal: Principal) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    endpoint = _repo(svc).get_endpoint(principal.tenant_id)
    if endpoint is None:
        raise NotFoundError("no webhook endpoint is configured")
    return _public(endpoint, reveal=False)


def deliveries(svc: Services, principal: Principal, params: dict[str, str]) -> dict[str, Any]:
    """The delivery log, newest first, and beside it the endpoint it delivers to (secret
    masked; null when none is configured): the console's webhook screen is one read, and a
    tenant without an endpoint gets an empty log, not a 404."""
    require_role(principal, Role.ADMIN)
    reject_unknown_params(params, {"limit", "cursor"})
    limit = validate_limit(params.get("limit"), default=20, maximum=100)
    repo = _repo(svc)
    try:
        rows, cursor = repo.deliveries(principal.tenant_id, limit, params.get("cursor") or None)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError("cursor is not valid", details={"field": "cursor"}) from exc
    endpoint = repo.get_endpoint(principal.tenant_id)
    return {
        "items": rows,
        "next_cursor": cursor,
        "endpoint": None if endpoint is None else _public(endpoint, reveal=False),
        "event_types": list(EVENT_TYPES),  # what an endpoint can subscribe to
    }


def redeliver(svc: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Retry an event whose delivery gave up (the log shows it failed with no next try):
    it goes back into the outbox, due now, signed and logged like every attempt."""
    require_role(principal, Role.ADMIN)
    unknown = sorted(set(body) - {"type", "event_id"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    event_type = body.get("type")
    if event_type == "ping":
        raise ValidationError("a test ping is not retried: send a new test", details={"field": "type"})
    if event_type not in EVENT_TYPES:
        raise ValidationError(f"type must be one of: {', '.join(EVENT_TYPES)}", details={"field": "type"})
    event_id = body.get("event_id")
    # the log's event id as shown (settlement ids hold "#"): printable ASCII, no spaces
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 200 or not all("!" <= ch <= "~" for ch in event_id):
        raise ValidationError("event_id must be the event id the delivery log shows", details={"field": "event_id"})
    repo = _repo(svc)
    endpoint = repo.get_endpoint(principal.tenant_id)
    if endpoint is None or not endpoint["active"]:
        raise ConflictError("the webhook endpoint is missing or paused: nothing would be delivered")
    now = svc.clock()
    outcome = repo.rearm(principal.tenant_id, event_type, event_id, now)
    if outcome == "missing":
        raise NotFoundError(f"no {event_type} event {event_id} in the outbox")
    if outcome != "rearmed":
        raise ConflictError(f"only a delivery that gave up is retried; this one is {outcome}")
    return {"type": event_type, "event_id": event_id, "state": "pending", "due_at": now}


def send_ping(
    svc: Services, principal: Principal, *, allow_private: bool, send: Sender | None = None
) -> dict[str, Any]:
    """Send a ``ping`` event now (not through the outbox) and log it like any attempt."""
    require_role(principal, Role.ADMIN)
    repo = _repo(svc)
    endpoint = repo.get_endpoint(principal.tenant_id)
    if endpoint is None:
        raise NotFoundError("no webhook endpoint is configured")
    now = svc.clock()
    event_id = f"ping_{now:013d}{svc.ids(8)}"
    record = _attempt(
        svc, endpoint, principal.tenant_id, "ping", event_id, {"message": "ping"}, now, 1, allow_private, send
    )
    repo.log(principal.tenant_id, record, endpoint["url"])
    return record


# ------------------------------------------------------------------ emit


def emit(
    svc: Services,
    tenant_id: str,
    event_type: str,
    payload: dict[str, Any],
    event_id: str,
    *,
    due_at: int | None = None,
) -> bool:
    """Put the event in the outbox if the tenant subscribes to it, due now or at ``due_at``
    (the dispatcher checks the subscription again when it is due). Idempotent: a second
    emit of the same event id writes nothing. Returns whether an item was written."""
    repo = _repo(svc)
    from ripple.service.chatbots import enqueue_for_bots

    enqueue_for_bots(svc, repo, tenant_id, event_type, payload, event_id, due_at)
    endpoint = repo.get_endpoint(tenant_id)
    if endpoint is None or not endpoint["active"] or event_type not in endpoint["events"]:
        return False
    return bool(repo.enqueue(tenant_id, event_type, event_id, payload, svc.clock(), due_at))


def outbox_for(svc: Services, tenant_id: str, event_type: str, payload: dict[str, Any], event_id: str) -> Any:
    """The outbox item for this event if the tenant subscribes to it (else None), for a use
    case to write inside its own transaction: the event exists iff the business write does."""
    repo = _repo(svc)
    endpoint = repo.get_endpoint(tenant_id)
    if endpoint is None or not endpoint["active"] or event_type not in endpoint["events"]:
        return None
    from ripple.adapters.webhooks import outbox_item

    return outbox_item(tenant_id, event_type, event_id, payload, svc.clock())


def safe_emit(
    svc: Services,
    tenant_id: str,
    event_type: str,
    payload: dict[str, Any],
    event_id: str,
    *,
    due_at: int | None = None,
) -> None:
    """``emit`` for use cases whose own write already happened: a failed outbox write is
    logged, never turned into an error for a request that did succeed."""
    try:
        emit(svc, tenant_id, event_type, payload, event_id, due_at=due_at)
    except Exception:  # the business write is committed: do not fail the request
        log.exception("webhook outbox write failed: %s %s %s", tenant_id, event_type, event_id)


# ------------------------------------------------------------------ dispatch


def envelope(tenant_id: str, event_type: str, event_id: str, payload: dict[str, Any], created_at: int) -> bytes:
    body = {"id": event_id, "type": event_type, "tenant_id": tenant_id, "created_at": created_at, "data": payload}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _attempt(
    svc: Services,
    endpoint: dict[str, Any],
    tenant_id: str,
    event_type: str,
    event_id: str,
    payload: dict[str, Any],
    created_at: int,
    attempt: int,
    allow_private: bool,
    send: Sender | None,
) -> dict[str, Any]:
    body = envelope(tenant_id, event_type, event_id, payload, created_at)
    now = svc.clock()
    ts = now // 1000
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Ripple-Event": event_type,
        "Ripple-Delivery": event_id,
        "Ripple-Timestamp": str(ts),
        "Ripple-Signature": signature_header(endpoint["secret"], ts, body),
    }
    result = (send or _default_sender())(endpoint["url"], body, headers, timeout=TIMEOUT_S, allow_private=allow_private)
    return {
        "event_id": event_id,
        "type": event_type,
        "attempt": attempt,
        "at": now,
        "ok": bool(result.ok),
        "status_code": result.status_code,
        "latency_ms": int(result.latency_ms),
        "next_retry_at": None,
        "error": result.error,
    }


def dispatch_due(svc: Services, *, allow_private: bool, limit: int = 50, send: Sender | None = None) -> dict[str, int]:
    """Deliver every outbox item that is due (at most ``limit`` per run)."""
    repo = _repo(svc)
    counts = {"due": 0, "delivered": 0, "retrying": 0, "failed": 0, "skipped": 0, "lost_claims": 0}
    endpoints: dict[str, dict[str, Any] | None] = {}
    bots: dict[str, list[dict[str, Any]]] = {}  # each tenant's chat bots, read once per run
    fanned = 0  # bot items this run wrote (FANOUT_AT_DISPATCH): delivered in this run too
    for entry in repo.due(svc.clock(), limit):
        counts["due"] += 1
        token = svc.ids(16)
        if not repo.claim(entry, token, svc.clock() + LEASE_MS):
            counts["lost_claims"] += 1  # another dispatcher has it
            continue
        if BOT_KEY in entry.payload:  # a group chat bot's message (service/chatbots.py)
            from ripple.service.chatbots import deliver_to_bot

            if entry.tenant_id not in bots:
                bots[entry.tenant_id] = repo.bots(entry.tenant_id)
            counts[
                deliver_to_bot(svc, repo, bots[entry.tenant_id], entry, token, allow_private=allow_private, send=send)
            ] += 1
            continue
        if entry.event_type in FANOUT_AT_DISPATCH:
            # an event written inside a use case's transaction (the settlement's) reaches the
            # groups from here (once: the bot items' keys are the event's)
            from ripple.service.chatbots import enqueue_for_bots

            if entry.tenant_id not in bots:
                bots[entry.tenant_id] = repo.bots(entry.tenant_id)
            fanned += enqueue_for_bots(
                svc, repo, entry.tenant_id, entry.event_type, entry.payload, entry.event_id, None, bots[entry.tenant_id]
            )
        if entry.tenant_id not in endpoints:
            endpoints[entry.tenant_id] = repo.get_endpoint(entry.tenant_id)
        endpoint = endpoints[entry.tenant_id]
        if endpoint is None or not endpoint["active"] or entry.event_type not in endpoint["events"]:
            repo.settle_attempt(
                entry, token, state="skipped", attempts=entry.attempts, next_at=None, status_code=None, error=None
            )
            counts["skipped"] += 1
            continue
        attempt = entry.attempts + 1
        record = _attempt(
            svc,
            endpoint,
            entry.tenant_id,
            entry.event_type,
            entry.event_id,
            entry.payload,
            entry.created_at,
            attempt,
            allow_private,
            send,
        )
        counts[finish_attempt(repo, entry, token, record, endpoint["url"])] += 1
    if fanned and counts["due"] < limit:
        more = dispatch_due(svc, allow_private=allow_private, limit=limit - counts["due"], send=send)
        counts = {k: counts[k] + more[k] for k in counts}
    return counts


def finish_attempt(repo: Any, entry: Any, token: str, record: dict[str, Any], logged_url: str) -> str:
    """After one attempt of a claimed item (to the endpoint or to a chat bot): its next state
    (delivered, retried after the backoff, or failed once the attempts run out), recorded on
    the item and in the delivery log; returns the dispatcher counter it moves."""
    attempt = int(record["attempt"])
    next_at = None if record["ok"] else next_retry_ms(attempt, int(record["at"]))
    state = "delivered" if record["ok"] else ("pending" if next_at is not None else "failed")
    if attempt >= MAX_ATTEMPTS and not record["ok"]:
        state, next_at = "failed", None
    record["next_retry_at"] = next_at
    repo.settle_attempt(
        entry,
        token,
        state=state,
        attempts=attempt,
        next_at=next_at,
        status_code=record["status_code"],
        error=record["error"],
    )
    repo.log(entry.tenant_id, record, logged_url)
    return {"delivered": "delivered", "pending": "retrying", "failed": "failed"}[state]
