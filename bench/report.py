"""The result table: figure, measured, target, PASS/MISS (INFO rows carry no target)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Row", "render"]


@dataclass(frozen=True, slots=True)
class Row:
    figure: str
    measured: str
    target: str = ""
    ok: bool | None = None  # None: information only

    @property
    def status(self) -> str:
        if self.ok is None:
            return "INFO"
        return "PASS" if self.ok else "MISS"


def render(rows: list[Row], notes: list[str]) -> str:
    headers = ("figure", "measured", "target", "")
    table = [headers, *((r.figure, r.measured, r.target, r.status) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    sep = "  ".join("-" * w for w in widths)
    lines = [sep]
    for index, line in enumerate(table):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if index == 0:
            lines.append(sep)
    lines.append(sep)
    lines.extend(f"  * {note}" for note in notes)
    return "\n".join(lines)
