"""Live pages by push: who hears about what (pure rules, no I/O).

A page subscribes to exactly one *topic*, derived from its verified token, never from what
it asks for: an admin hears their tenant (``T#<tenant>``), an employee only themselves
(``E#<tenant>#<employee>``). No topic names two tenants, so no subscription can cross one.

After the consumer commits a batch, each topic it touched gets one small message naming
*what kind* of thing changed (``balance``, ``board``, ``task``, ``lead``, ``visit``). The
message carries no numbers: it is a hint to refresh, and the page then reads the real
figures through the API with its own permissions. That is why at-least-once delivery (a
redelivered batch pushes again) and a lost push (the fallback poll catches up) are both fine.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Final

from ripple.domain.model import LedgerEntry, Role, Visit

__all__ = [
    "KINDS",
    "MAX_MESSAGE_BYTES",
    "changes",
    "employee_topic",
    "message",
    "tenant_topic",
    "topic_for",
]

KINDS: Final = ("balance", "board", "task", "lead", "visit")
MAX_MESSAGE_BYTES: Final = 1024  # far below API Gateway's 128 KB frame; we only ever send kinds


def _safe(part: str) -> str:
    if not part or "#" in part:
        raise ValueError(f"not a topic part: {part!r}")
    return part


def tenant_topic(tenant_id: str) -> str:
    """What a tenant's admins hear: every change in the tenant (boards, tasks, leads)."""
    return f"T#{_safe(tenant_id)}"


def employee_topic(tenant_id: str, employee_id: str) -> str:
    """What one employee hears: their own balance, tasks and leads."""
    return f"E#{_safe(tenant_id)}#{_safe(employee_id)}"


def topic_for(tenant_id: str, employee_id: str, role: Role) -> str:
    """The one topic a verified caller may subscribe to."""
    return tenant_topic(tenant_id) if role is Role.ADMIN else employee_topic(tenant_id, employee_id)


def changes(visits: Iterable[Visit], inserted: Iterable[LedgerEntry]) -> dict[str, set[str]]:
    """Topic -> kinds of change, for one applied batch.

    Every visit or lead of an employee's link touches that employee (their task outcomes and
    dashboard move even when it earns nothing) and the tenant; every inserted ledger entry
    moves its employee's balance and the boards. Ids that cannot form a topic are skipped
    (a push is only a hint: nothing is lost by not sending one)."""
    out: dict[str, set[str]] = {}

    def add(topic_args: tuple[str, ...], *kinds: str) -> None:
        try:
            topic = tenant_topic(*topic_args) if len(topic_args) == 1 else employee_topic(*topic_args)
        except ValueError:
            return
        out.setdefault(topic, set()).update(kinds)

    for v in visits:
        kind = "lead" if v.kind == "lead" else "visit"
        add((v.tenant_id,), kind, "task")
        add((v.tenant_id, v.employee_id), kind, "task")
    for e in inserted:
        add((e.tenant_id,), "board")
        add((e.tenant_id, e.employee_id), "balance", "board")
    return out


def message(kinds: Iterable[str], at_ms: int) -> bytes:
    """The frame a page receives: ``{"type": "changed", "kinds": [...], "at": ms}``."""
    known = sorted(k for k in set(kinds) if k in KINDS)
    body = json.dumps({"type": "changed", "kinds": known, "at": at_ms}, separators=(",", ":")).encode()
    assert len(body) <= MAX_MESSAGE_BYTES
    return body


def parse_topic(topic: str) -> Mapping[str, str]:
    """``{"tenant": ..., "employee"?: ...}`` of a topic (tests and logs)."""
    parts = topic.split("#")
    if parts[0] == "T" and len(parts) == 2:
        return {"tenant": parts[1]}
    if parts[0] == "E" and len(parts) == 3:
        return {"tenant": parts[1], "employee": parts[2]}
    raise ValueError(f"not a topic: {topic!r}")
