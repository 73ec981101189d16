"""Group chat bots (issue 15): their configuration, and their messages through the webhook
outbox. ``emit`` of a subscribed event writes one outbox item per bot (event id
``<event id>~<bot id>``, so a replayed emit writes nothing), and so does the dispatcher for
events a use case wrote inside its own transaction (the settlement's ``settlement.completed``,
a period's leaderboard); the dispatcher hands those to
``deliver_to_bot``, which formats the product's own payload, signs it the product's way,
POSTs it and records the attempt like any webhook (retries with the same backoff)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ripple.domain.chatbots import (
    BOT_EVENTS,
    MAX_BOTS,
    accepted,
    bot_message,
    chat_request,
    mask_url,
    validate_bot,
)
from ripple.domain.errors import ConflictError, NotFoundError
from ripple.domain.model import Role
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = ["delete_bot", "deliver_to_bot", "enqueue_for_bots", "list_bots", "put_bot", "send_test_message"]

TIMEOUT_S = 5.0


def _public(bot: dict[str, Any]) -> dict[str, Any]:
    return {
        "bot_id": bot["bot_id"],
        "provider": bot["provider"],
        "url": mask_url(bot["url"]),
        "events": bot["events"],
        "signed": bool(bot.get("secret")),
        "name": bot.get("name", ""),
        "language": bot.get("language", "en"),
        "active": bool(bot.get("active", True)),
    }


def list_bots(svc: Services, principal: Principal) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    return {"items": [_public(b) for b in svc.webhooks.bots(principal.tenant_id)], "events": list(BOT_EVENTS)}


def put_bot(svc: Services, principal: Principal, bot_id: str, body: dict[str, Any], *, allow_private: bool) -> Any:
    """Create or replace one bot; the URL and secret are never shown again (masked)."""
    require_role(principal, Role.ADMIN)
    clean = validate_bot(bot_id, body, allow_private=allow_private)
    bots = [b for b in svc.webhooks.bots(principal.tenant_id) if b["bot_id"] != bot_id]
    if len(bots) >= MAX_BOTS:
        raise ConflictError(f"a tenant has at most {MAX_BOTS} chat bots")
    svc.webhooks.put_bots(principal.tenant_id, [*bots, clean])
    return _public(clean)


def delete_bot(svc: Services, principal: Principal, bot_id: str) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    bots = svc.webhooks.bots(principal.tenant_id)
    kept = [b for b in bots if b["bot_id"] != bot_id]
    if len(kept) == len(bots):
        raise NotFoundError(f"chat bot {bot_id} not found")
    svc.webhooks.put_bots(principal.tenant_id, kept)
    return {"bot_id": bot_id, "deleted": True}


def enqueue_for_bots(
    svc: Services,
    repo: Any,
    tenant_id: str,
    event_type: str,
    payload: dict[str, Any],
    event_id: str,
    due_at: int | None,
    bots: list[dict[str, Any]] | None = None,
) -> int:
    """One outbox item per active bot subscribed to the event; returns how many were new
    (``bots``: the tenant's bots if the caller has read them already)."""
    if event_type not in BOT_EVENTS:
        return 0
    from ripple.service.webhooks import BOT_KEY

    written = 0
    for bot in repo.bots(tenant_id) if bots is None else bots:
        if bot.get("active", True) and event_type in bot["events"]:
            item = {**payload, BOT_KEY: bot["bot_id"]}
            written += bool(
                repo.enqueue(tenant_id, event_type, f"{event_id}~{bot['bot_id']}", item, svc.clock(), due_at)
            )
    return written


def _deadline(svc: Services, tenant_id: str, deadline: Any) -> str:
    if not isinstance(deadline, int):
        return ""
    zone = svc.tenants.get(tenant_id).timezone or "UTC"
    return datetime.fromtimestamp(deadline / 1000, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M ") + zone


def _leader_names(svc: Services, tenant_id: str, payload: dict[str, Any]) -> dict[str, str]:
    """The names of a settlement's leading employees (one BatchGet; ids stay where unknown)."""
    top = payload.get("top") or {}
    rows = top.get("employee") if isinstance(top, dict) else None
    ids = {str(r.get("id")) for r in rows or [] if isinstance(r, dict) and r.get("id")}
    found = svc.employees.batch_get({(tenant_id, i) for i in ids}) if ids else {}
    return {employee_id: e.name for (_, employee_id), e in found.items() if e.name}


def _send(
    svc: Services,
    tenant_id: str,
    bot: dict[str, Any],
    event_type: str,
    payload: dict[str, Any],
    *,
    allow_private: bool,
    send: Any,
) -> tuple[bool, int | None, str | None, int]:
    from ripple.service.webhooks import USER_AGENT, _default_sender

    message = bot_message(
        event_type,
        payload,
        bot.get("language", "en"),
        base_url=svc.settings.public_base_url.rstrip("/"),
        deadline=_deadline(svc, tenant_id, payload.get("deadline")),
        names=_leader_names(svc, tenant_id, payload) if event_type == "settlement.completed" else None,
    )
    request = chat_request(bot["provider"], message, url=bot["url"], secret=bot.get("secret"), now_ms=svc.clock())
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    result = (send or _default_sender())(
        request.url, request.body, headers, timeout=TIMEOUT_S, allow_private=allow_private
    )
    ok, error = accepted(bot["provider"], result.status_code, bytes(result.body or b""))
    return ok, result.status_code, error or result.error, int(result.latency_ms)


def deliver_to_bot(
    svc: Services,
    repo: Any,
    bots: list[dict[str, Any]],
    entry: Any,
    token: str,
    *,
    allow_private: bool,
    send: Any,
) -> str:
    """Send one claimed outbox item to its bot (one of the tenant's ``bots``); the
    dispatcher counter it moves. Retries and the log are the webhook's (``finish_attempt``)."""
    from ripple.service.webhooks import BOT_KEY, finish_attempt

    payload = {k: v for k, v in entry.payload.items() if k != BOT_KEY}
    bot = next((b for b in bots if b["bot_id"] == entry.payload[BOT_KEY]), None)
    if bot is None or not bot.get("active", True) or entry.event_type not in bot["events"]:
        repo.settle_attempt(
            entry, token, state="skipped", attempts=entry.attempts, next_at=None, status_code=None, error=None
        )
        return "skipped"
    ok, status, error, latency = _send(
        svc, entry.tenant_id, bot, entry.event_type, payload, allow_private=allow_private, send=send
    )
    record = {
        "event_id": entry.event_id,
        "type": entry.event_type,
        "attempt": entry.attempts + 1,
        "at": svc.clock(),
        "ok": ok,
        "status_code": status,
        "latency_ms": latency,
        "next_retry_at": None,
        "error": error,
    }
    return finish_attempt(repo, entry, token, record, mask_url(bot["url"]))


def send_test_message(
    svc: Services, principal: Principal, bot_id: str, *, allow_private: bool, send: Any = None
) -> Any:
    """Post a sample "new task" message to the bot now (not through the outbox); logged."""
    require_role(principal, Role.ADMIN)
    bot = next((b for b in svc.webhooks.bots(principal.tenant_id) if b["bot_id"] == bot_id), None)
    if bot is None:
        raise NotFoundError(f"chat bot {bot_id} not found")
    sample = {"task_id": "test", "title": "Ripple test message", "audience_size": 0, "deadline": svc.clock()}
    ok, status, error, latency = _send(
        svc, principal.tenant_id, bot, "task.created", sample, allow_private=allow_private, send=send
    )
    now = svc.clock()
    record = {
        "event_id": f"bottest_{now:013d}{svc.ids(6)}",
        "type": "bot.test",
        "attempt": 1,
        "at": now,
        "ok": ok,
        "status_code": status,
        "latency_ms": latency,
        "next_retry_at": None,
        "error": error,
    }
    svc.webhooks.log(principal.tenant_id, record, mask_url(bot["url"]))
    return record
