"""Reconciliation: every balance must equal the sum of its owner's ledger entries."""

from __future__ import annotations

from typing import Any

from ripple.service.context import Services

__all__ = ["drift", "reconcile_all"]


def drift(balances: dict[tuple[str, str], int], ledger_sums: dict[tuple[str, str], int]) -> dict[str, int]:
    """Owners whose stored balance differs from their ledger, with the difference."""
    out: dict[str, int] = {}
    for owner in set(balances) | set(ledger_sums):
        diff = balances.get(owner, 0) - ledger_sums.get(owner, 0)
        if diff:
            out[f"{owner[0]}#{owner[1]}"] = diff
    return out


def reconcile_all(svc: Services) -> dict[str, Any]:
    balances, sums = svc.points.snapshot()
    found = drift(balances, sums)
    return {"job": "reconcile", "owners": len(set(balances) | set(sums)), "drift": found, "ok": not found}
