"""Promotion tasks (issue 5): validation, audience resolution, copy rotation, status and
the outcome deltas the stream consumer applies. Pure Python, no I/O.

A task is distributed once, synchronously: one assignment per targeted employee, each
with the employee's own links (one per channel), the copy variant chosen for them and the
poster URL(s). The stream consumer then moves each assignment delivered -> shared and
counts outcomes (unique visits, forwards, leads) that happen after delivery.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ripple.domain.errors import ValidationError
from ripple.domain.model import CHANNELS, Employee, LedgerEntry
from ripple.domain.timeutil import parse_iso_ms
from ripple.domain.validation import check_id

__all__ = [
    "AUDIENCE_KINDS",
    "MAX_COPIES",
    "MAX_COPY_CHARS",
    "MAX_SYNC_LINKS",
    "OUTCOME_KINDS",
    "AssignmentState",
    "Audience",
    "Copy",
    "OutcomeConflict",
    "OutcomeDelta",
    "TaskSpec",
    "copy_index",
    "counts_for_task",
    "plan_outcomes",
    "progress_keys",
    "resolve_audience",
    "status_of",
    "validate_proof",
    "validate_task",
]

MAX_COPIES = 10
MAX_COPY_CHARS = 2000
MAX_MATERIALS = 20
MAX_AUDIENCE_IDS = 500
MAX_TASK_BODY_BYTES = 64 * 1024  # ten 2000-character CJK variants exceed the API's default 16 KB
# Distribution is synchronous (inside one API call, under API Gateway's 29 s limit): the
# links it may have to issue (audience x channels) are bounded; split larger audiences.
MAX_SYNC_LINKS = 1000
MAX_DEADLINE_MS = 366 * 24 * 3600 * 1000
AUDIENCE_KINDS = ("all", "teams", "regions", "employees")
# Ledger kinds that count as task outcomes, and the counter each one moves.
OUTCOME_KINDS = {"unique_visit": "unique_visits", "forward": "forwards", "lead": "leads"}
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}\Z")


@dataclass(frozen=True, slots=True)
class Copy:
    text: str
    lang: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"lang": self.lang, "text": self.text}


@dataclass(frozen=True, slots=True)
class Audience:
    kind: str  # one of AUDIENCE_KINDS
    ids: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"all": True} if self.kind == "all" else {self.kind: list(self.ids)}


@dataclass(frozen=True, slots=True)
class TaskSpec:
    campaign_id: str
    title: str
    copies: tuple[Copy, ...]
    channels: tuple[str, ...]
    audience: Audience
    deadline: int
    materials: tuple[str, ...] = ()
    poster_template_id: str | None = None


def _fail(message: str, name: str) -> ValidationError:
    return ValidationError(message, details={"field": name})


def _plain(value: object, name: str, max_len: int, *, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise _fail(f"{name} must be a string", name)
    text = value.strip()
    if not text:
        raise _fail(f"{name} must not be empty", name)
    if len(text) > max_len:
        raise _fail(f"{name} must be at most {max_len} characters", name)
    allowed = "\n\t" if multiline else ""
    if any((ord(c) < 32 and c not in allowed) or ord(c) == 127 for c in text):
        raise _fail(f"{name} must not contain control characters", name)
    return text


def _id_list(value: object, name: str, max_items: int, *, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _fail(f"{name} must be a list", name)
    if not value and not allow_empty:
        raise _fail(f"{name} must not be empty", name)
    if len(value) > max_items:
        raise _fail(f"{name} must have at most {max_items} entries", name)
    out: list[str] = []
    for item in value:
        check_id(item, name)
        if item in out:
            raise _fail(f"{name} lists {item!r} twice", name)
        out.append(item)
    return tuple(out)


def _copies(value: object) -> tuple[Copy, ...]:
    if not isinstance(value, list) or not value:
        raise _fail("copies must be a non-empty list of {'lang'?, 'text'}", "copies")
    if len(value) > MAX_COPIES:
        raise _fail(f"copies must have at most {MAX_COPIES} variants", "copies")
    out: list[Copy] = []
    for i, raw in enumerate(value):
        name = f"copies[{i}]"
        if not isinstance(raw, dict):
            raise _fail(f"{name} must be an object", name)
        unknown = sorted(set(raw) - {"lang", "text"})
        if unknown:
            raise ValidationError(f"unknown field(s) in {name}: {', '.join(unknown)}", details={"fields": unknown})
        if "text" not in raw:
            raise _fail(f"{name}.text is required", f"{name}.text")
        text = _plain(raw["text"], f"{name}.text", MAX_COPY_CHARS, multiline=True)
        lang = raw.get("lang")
        if lang is not None and (not isinstance(lang, str) or not _LANG.match(lang)):
            raise _fail(f"{name}.lang must be a language tag such as 'en' or 'zh-Hans'", f"{name}.lang")
        out.append(Copy(text, lang))
    return tuple(out)


def _audience(value: object) -> Audience:
    if not isinstance(value, dict) or len(value) != 1:
        raise _fail(
            'audience must be exactly one of {"all": true}, {"teams"}, {"regions"} or {"employees"}', "audience"
        )
    ((kind, raw),) = value.items()
    if kind not in AUDIENCE_KINDS:
        raise ValidationError(f"unknown field(s) in audience: {kind}", details={"fields": [kind]})
    if kind == "all":
        if raw is not True:
            raise _fail('audience "all" must be true', "audience.all")
        return Audience("all")
    return Audience(kind, _id_list(raw, f"audience.{kind}", MAX_AUDIENCE_IDS))


def validate_task(body: Mapping[str, Any], now: int) -> TaskSpec:
    allowed = {"campaign_id", "title", "materials", "copies", "poster_template_id", "channels", "audience", "deadline"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    for name in ("campaign_id", "title", "copies", "channels", "audience", "deadline"):
        if name not in body or body[name] is None:
            raise _fail(f"{name} is required", name)
    campaign_id = check_id(body["campaign_id"], "campaign_id")
    title = _plain(body["title"], "title", 200)
    channels = _id_list(body["channels"], "channels", len(CHANNELS))
    bad = [c for c in channels if c not in CHANNELS]
    if bad:
        raise _fail(f"channels must be among: {', '.join(CHANNELS)} (not {', '.join(bad)})", "channels")
    materials = _id_list(body.get("materials") or [], "materials", MAX_MATERIALS, allow_empty=True)
    template = body.get("poster_template_id")
    if template is not None:
        check_id(template, "poster_template_id")
    deadline = parse_iso_ms(body["deadline"], "deadline")
    if deadline <= now:
        raise _fail("deadline must be in the future", "deadline")
    if deadline > now + MAX_DEADLINE_MS:
        raise _fail("deadline must be within a year", "deadline")
    return TaskSpec(
        campaign_id=campaign_id,
        title=title,
        copies=_copies(body["copies"]),
        channels=channels,
        audience=_audience(body["audience"]),
        deadline=deadline,
        materials=materials,
        poster_template_id=template,
    )


def resolve_audience(audience: Audience, employees: Iterable[Employee]) -> tuple[list[Employee], list[str]]:
    """(targeted employees, listed ids that are not targeted). Only active employees are
    targeted. The order is (team, region, employee id): colleagues of one team are
    neighbours, which is what copy rotation spreads variants over."""
    pool = list(employees)
    if audience.kind == "all":
        chosen = [e for e in pool if e.active]
    elif audience.kind == "teams":
        wanted = set(audience.ids)
        chosen = [e for e in pool if e.active and e.team in wanted]
    elif audience.kind == "regions":
        wanted = set(audience.ids)
        chosen = [e for e in pool if e.active and e.region in wanted]
    else:
        by_id = {e.employee_id: e for e in pool}
        chosen = [by_id[i] for i in audience.ids if i in by_id and by_id[i].active]
    picked = {e.employee_id for e in chosen}
    skipped = [i for i in audience.ids if audience.kind == "employees" and i not in picked]
    return sorted(chosen, key=lambda e: (e.team, e.region, e.employee_id)), skipped


def copy_index(position: int, variants: int) -> int:
    """Round-robin over the audience order: neighbours (same team, adjacent ids) always get
    different variants while there are at least two, and the variants are used evenly
    (counts differ by at most one)."""
    return position % variants if variants > 0 else 0


def status_of(opened_at: int | None, shared_at: int | None) -> str:
    """delivered -> opened -> shared (sharing without opening the task still counts)."""
    if shared_at is not None:
        return "shared"
    if opened_at is not None:
        return "opened"
    return "delivered"


def validate_proof(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``{"url": "https://..."}`` or ``{"screenshot_material_id": id}``: (url, material)."""
    from ripple.domain.validation import validate_destination_url

    unknown = sorted(set(body) - {"url", "screenshot_material_id"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    given = [k for k in ("url", "screenshot_material_id") if body.get(k) is not None]
    if len(given) != 1:
        raise _fail("give exactly one of url or screenshot_material_id", "url")
    if given[0] == "url":
        try:
            url = validate_destination_url(body["url"])
        except ValidationError as exc:
            raise _fail(exc.message.replace("destination_url", "url"), "url") from exc
        return url, None
    return None, check_id(body["screenshot_material_id"], "screenshot_material_id")


# ------------------------------------------------------------------ stream outcomes


@dataclass(frozen=True, slots=True)
class AssignmentState:
    tenant_id: str
    task_id: str
    employee_id: str
    team: str
    region: str
    delivered_at: int
    shared_at: int | None = None


@dataclass(slots=True)
class OutcomeDelta:
    """What one group of ledger entries does to one assignment (and its task's progress).

    ``source_keys`` become idempotency markers written in the same transaction;
    ``shared_at`` is set when this delta moves the assignment to "shared" (the write is
    then conditional on it not being shared yet)."""

    state: AssignmentState
    source_keys: list[str] = field(default_factory=list)
    unique_visits: int = 0
    forwards: int = 0
    leads: int = 0
    shared_at: int | None = None

    def counters(self) -> dict[str, int]:
        return {
            "shared": 1 if self.shared_at is not None else 0,
            "unique_visits": self.unique_visits,
            "forwards": self.forwards,
            "leads": self.leads,
        }


class OutcomeConflict(Exception):
    """A transaction of outcome deltas was cancelled: ``applied`` are (tenant, task, employee,
    source key) markers that already exist (counted before), ``stale`` the assignments whose
    shared state changed meanwhile. The caller drops the former and re-plans the latter."""

    def __init__(self, applied: set[tuple[str, str, str, str]], stale: set[tuple[str, str, str]]) -> None:
        super().__init__(f"{len(applied)} already counted, {len(stale)} stale")
        self.applied = applied
        self.stale = stale


def counts_for_task(entry: LedgerEntry) -> bool:
    """A human outcome: an entry of an outcome kind that was not withheld as fraud."""
    return entry.kind in OUTCOME_KINDS and bool(entry.campaign_id) and "withheld" not in entry.meta


def plan_outcomes(
    states: Mapping[tuple[str, str, str], AssignmentState],
    entries: Mapping[tuple[str, str, str], Sequence[LedgerEntry]],
    *,
    max_keys: int = 90,
) -> list[OutcomeDelta]:
    """Deltas per (tenant, task, employee). Entries before delivery do not count. The first
    unique visit after delivery shares an assignment that is not shared yet. A group with
    more than ``max_keys`` entries is split (the transition rides on the first part)."""
    out: list[OutcomeDelta] = []
    for pair in sorted(entries):
        state = states.get(pair)
        if state is None:
            continue
        counted = sorted(
            (e for e in entries[pair] if counts_for_task(e) and e.ts >= state.delivered_at),
            key=lambda e: (e.ts, e.source_key),
        )
        shared = state.shared_at is not None
        for start in range(0, len(counted), max_keys):
            delta = OutcomeDelta(state)
            for e in counted[start : start + max_keys]:
                delta.source_keys.append(e.source_key)
                counter = OUTCOME_KINDS[e.kind]
                setattr(delta, counter, getattr(delta, counter) + 1)
                if e.kind == "unique_visit" and not shared:
                    delta.shared_at = e.ts
                    shared = True
            out.append(delta)
    return out


def progress_keys(team: str, region: str) -> list[tuple[str, str]]:
    """The (dimension, member) rows one assignment counts on: the task total, its team, its region."""
    return [("all", "-"), ("team", team), ("region", region)]
