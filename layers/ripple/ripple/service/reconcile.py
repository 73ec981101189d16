"""Reconciliation: every balance must equal the sum of its owner's ledger entries."""

from __future__ import annotations

from typing import Any

from ripple.service.context import Services

__all__ = ["drift", "reconcile_all", "split_problems"]


def drift(balances: dict[tuple[str, str], int], ledger_sums: dict[tuple[str, str], int]) -> dict[str, int]:
    """Owners whose stored balance differs from their ledger, with the difference."""
    out: dict[str, int] = {}
    for owner in set(balances) | set(ledger_sums):
        diff = balances.get(owner, 0) - ledger_sums.get(owner, 0)
        if diff:
            out[f"{owner[0]}#{owner[1]}"] = diff
    return out


def split_problems(split: dict[tuple[str, str], dict[str, int]]) -> dict[str, str]:
    """Owners whose balance is not available + pending, whose pending is not what is still
    held, or who have a negative figure."""
    out: dict[str, str] = {}
    for (tenant, employee), row in split.items():
        problems = []
        if row["available"] + row["pending"] != row["balance"]:
            problems.append("available + pending != balance")
        if row["pending"] != row["held"]:
            problems.append(f"pending {row['pending']} != held entries {row['held']}")
        if min(row["available"], row["pending"], row["balance"]) < 0:
            problems.append("negative")
        if problems:
            out[f"{tenant}#{employee}"] = "; ".join(problems)
    return out


def reconcile_all(svc: Services) -> dict[str, Any]:
    """Every balance against its ledger, and its split against the held entries."""
    balances, sums = svc.points.snapshot()
    found = drift(balances, sums)
    split = getattr(svc.points, "split_snapshot", None)
    problems = split_problems(split()) if split is not None else {}
    return {
        "job": "reconcile",
        "owners": len(set(balances) | set(sums)),
        "drift": found,
        "split": problems,
        "ok": not found and not problems,
    }
