"""Leaderboard ranking: highest score first, ties in a stable order.

Ties share a rank (standard competition ranking, "1224") and are listed by member id so
two reads of the same board always agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["RankedEntry", "rank"]


@dataclass(frozen=True, slots=True)
class RankedEntry:
    rank: int
    id: str
    score: int

    def to_dict(self) -> dict[str, object]:
        return {"rank": self.rank, "id": self.id, "score": self.score}


def rank(rows: Iterable[tuple[str, int]], limit: int) -> list[RankedEntry]:
    ordered = sorted(((member, score) for member, score in rows if score > 0), key=lambda r: (-r[1], r[0]))
    out: list[RankedEntry] = []
    previous: int | None = None
    current_rank = 0
    for position, (member, score) in enumerate(ordered[:limit], start=1):
        if score != previous:
            current_rank = position
            previous = score
        out.append(RankedEntry(current_rank, member, score))
    return out
