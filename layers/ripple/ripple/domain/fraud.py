"""Anti-fraud signals: patterns that withhold points, each recorded with its reason.

Pure rules over a batch of events and a little state the service reads. Withheld outcomes
still get their ledger entry (0 points, ``meta["withheld"]`` says why) so the same outcome
can never be paid later, and every signal is kept for admins:

* ``employee_click``: a signed-in employee of the same tenant clicked a colleague's link
  (decided at the redirect; earns nothing). Pairs who mostly click each other's links show
  up as *click rings* (``rings``).
* ``burst``: one visitor fingerprint opened many different employees' links within ten
  minutes (a click farm rotating through links). Decided from the visits recorded up to
  that visit (a GSI query), so it does not depend on how the stream batched them.
* ``velocity``: an employee earned more unique visits in an hour than the tenant allows,
  or more leads (counted apart: leads follow the visit rules, with the same hourly limit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from ripple.domain.model import Decision, LedgerEntry, Visit

__all__ = [
    "BURST_WINDOW_MS",
    "HOUR_MS",
    "VELOCITY_KINDS",
    "FraudSignal",
    "colleague_signals",
    "is_burst",
    "rings",
    "withhold",
    "withhold_velocity",
]

HOUR_MS = 3_600_000
BURST_WINDOW_MS = 600_000
# the outcomes the hourly velocity limit counts, each kind on its own
VELOCITY_KINDS = ("unique_visit", "lead")


@dataclass(frozen=True, slots=True)
class FraudSignal:
    tenant_id: str
    kind: str  # employee_click | burst | velocity
    source: str  # the visit id (stable: redelivery rewrites the same signal)
    ts: int
    employee_id: str = ""  # whose link
    campaign_id: str = ""
    visitor: str = ""
    clicker: str = ""  # employee_click: who clicked
    detail: str = ""


def colleague_signals(visits: Iterable[Visit]) -> list[FraudSignal]:
    return [
        FraudSignal(v.tenant_id, "employee_click", v.visit_id, v.ts, v.employee_id, v.campaign_id, v.visitor, v.viewer)
        for v in visits
        if v.decision is Decision.COLLEAGUE and v.viewer
    ]


def is_burst(reached: int, limit: int | None) -> bool:
    """A visitor who opened ``limit`` or more different employees' links within
    ``BURST_WINDOW_MS`` up to this visit is treated as a click farm."""
    return bool(limit) and reached >= int(limit or 0)


def withhold(entry: LedgerEntry, reason: str) -> LedgerEntry:
    """The entry with no points and the reason; its source key stays taken."""
    return replace(entry, points=0, meta={**entry.meta, "withheld": reason, "withheld_points": str(entry.points)})


def withhold_velocity(
    entries: Iterable[LedgerEntry], recent: Mapping[tuple[str, str, str], int], limits: Mapping[str, int | None]
) -> tuple[list[LedgerEntry], list[FraudSignal]]:
    """Withhold unique visits, and leads, beyond the tenant's hourly limit per employee and
    kind. ``recent`` maps (tenant, employee, kind) to how many the employee already earned
    in the hour before the batch's first such entry."""
    counts = dict(recent)
    out: list[LedgerEntry] = []
    signals: list[FraudSignal] = []
    for e in sorted(entries, key=lambda x: (x.ts, x.source_key)):
        limit = limits.get(e.tenant_id)
        if not limit or e.kind not in VELOCITY_KINDS or e.points <= 0:
            out.append(e)
            continue
        key = (e.tenant_id, e.employee_id, e.kind)
        if counts.get(key, 0) >= limit:
            out.append(withhold(e, "velocity"))
            what = "unique visits" if e.kind == "unique_visit" else "leads"
            signals.append(
                FraudSignal(
                    e.tenant_id,
                    "velocity",
                    e.source_id,
                    e.ts,
                    e.employee_id,
                    e.campaign_id,
                    detail=f"more than {limit} {what} in an hour",
                )
            )
        else:
            out.append(e)
        counts[key] = counts.get(key, 0) + 1
    return out, signals


def rings(signals: Iterable[FraudSignal], *, min_each_way: int = 2) -> list[dict[str, object]]:
    """Pairs of employees who click each other's links, strongest first."""
    clicks: dict[tuple[str, str], int] = defaultdict(int)
    for s in signals:
        if s.kind == "employee_click" and s.clicker and s.employee_id and s.clicker != s.employee_id:
            clicks[(s.clicker, s.employee_id)] += 1
    pairs: list[dict[str, object]] = []
    for (a, b), ab in clicks.items():
        if a < b:
            ba = clicks.get((b, a), 0)
            if ab >= min_each_way and ba >= min_each_way:
                pairs.append({"employees": [a, b], "clicks": {f"{a}->{b}": ab, f"{b}->{a}": ba}, "total": ab + ba})
    return sorted(pairs, key=lambda p: (-int(str(p["total"])), p["employees"]))
