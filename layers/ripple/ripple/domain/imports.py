"""Employee CSV import: decoding, header and row rules, the plan of what a file would change.

Pure (no boto3): ``decode_csv`` turns the bytes Excel saved into text, ``parse_employee_csv``
checks every row and returns the rows plus per-row errors, ``plan_import`` compares them
with the stored employees. The service layer stores the plan and applies it row by row
through the ``upsert_employee`` use case, so nothing here can write anything.

Encodings: UTF-8 (with or without the BOM Excel's "CSV UTF-8" writes), Shift_JIS/CP932
(Japanese Excel's "CSV") and GBK/GB18030 (Chinese Excel's "CSV"). A file is one encoding:
a file in which some lines are UTF-8 and others are not is refused as mixed, naming lines,
rather than guessed (a wrong guess would store mojibake names for thousands of people).

Formula-looking cells (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) are **refused**
(a row error), not neutralised: ids, teams and regions cannot contain them anyway, and
silently prefixing a name with ``'`` would store a name the admin never typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ripple.domain.errors import PayloadTooLargeError, RippleError, ValidationError
from ripple.domain.validation import check_id, validate_employee

__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "ImportRow",
    "ParsedFile",
    "RowError",
    "decode_csv",
    "parse_employee_csv",
    "plan_import",
]

MAX_BYTES = 5 * 1024 * 1024  # under Lambda's 6 MB request payload; 20,000 rows are ~2 MB
MAX_ROWS = 20_000
MAX_LISTED_ERRORS = 200  # the report lists this many; ``error_count`` has them all
COLUMNS = ("id", "name", "email", "team", "region", "role")
REQUIRED = ("id", "name", "team", "region")
# header spellings Excel users type, normalised (lower-case, spaces/hyphens removed)
_ALIASES = {
    "id": "id",
    "employeeid": "id",
    "employee_id": "id",
    "name": "name",
    "email": "email",
    "e_mail": "email",
    "mail": "email",
    "team": "team",
    "region": "region",
    "role": "role",
}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # 1-based line of the file (the header is line 1)
    field: str | None
    code: str  # invalid | duplicate_id | duplicate_email | email_taken | formula | columns
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    employee_id: str
    name: str
    team: str
    region: str
    email: str = ""
    role: str = "employee"

    def body(self) -> dict[str, str]:
        """The ``PUT /admin/employees/{id}`` body this row amounts to."""
        out = {"name": self.name, "team": self.team, "region": self.region, "role": self.role}
        if self.email:
            out["email"] = self.email
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "id": self.employee_id,
            "name": self.name,
            "team": self.team,
            "region": self.region,
            "email": self.email,
            "role": self.role,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ImportRow:
        return cls(
            line=int(raw["line"]),
            employee_id=str(raw["id"]),
            name=str(raw["name"]),
            team=str(raw["team"]),
            region=str(raw["region"]),
            email=str(raw.get("email") or ""),
            role=str(raw.get("role") or "employee"),
        )


@dataclass(slots=True)
class ParsedFile:
    encoding: str
    columns: list[str]
    count: int = 0  # data rows read (blank lines not counted)
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# ------------------------------------------------------------------ decoding


def _binary(data: bytes) -> bool:
    """NUL bytes or C0 controls other than tab/CR/LF: an Excel workbook, an image, a zip."""
    sample = data[:65536]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return controls > 0


def _utf8_lines(data: bytes) -> tuple[list[int], list[int]]:
    """1-based lines that are valid UTF-8 with non-ASCII text, and lines that are not UTF-8."""
    good: list[int] = []
    bad: list[int] = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
        else:
            good.append(number)
    return good, bad


def _weirdness(text: str) -> int:
    """How implausible a decoding is for names typed in Japanese or Chinese Excel:
    half-width katakana (GBK read as CP932 turns into it), private-use and replacement
    characters, C1 controls."""
    score = 0
    for ch in text:
        o = ord(ch)
        if 0xFF61 <= o <= 0xFF9F or 0xE000 <= o <= 0xF8FF or o == 0xFFFD or 0x80 <= o <= 0x9F:
            score += 1
    return score


def _kana(text: str) -> int:
    return sum(1 for ch in text if 0x3041 <= ord(ch) <= 0x30FF)


def decode_csv(data: bytes) -> tuple[str, str]:
    """``(text, encoding)`` or a ``ValidationError`` saying why the bytes are no CSV we read."""
    if not data or not data.strip():
        raise ValidationError("the file is empty", details={"code": "empty"})
    if len(data) > MAX_BYTES:
        raise PayloadTooLargeError(f"the file exceeds {MAX_BYTES} bytes", details={"max_bytes": MAX_BYTES})
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            if encoding == "utf-16":
                raise ValidationError(
                    'UTF-16 ("Unicode text") files are not CSV: save as "CSV UTF-8"',
                    details={"code": "encoding", "encoding": "utf-16"},
                )
            try:
                return data.decode(encoding), "utf-8-sig"
            except UnicodeDecodeError as exc:
                good, bad = _utf8_lines(data)
                raise _mixed(good, bad) from exc
    if _binary(data):
        raise ValidationError("this is a binary file, not CSV text", details={"code": "binary"})
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    good, bad = _utf8_lines(data)
    if good:
        raise _mixed(good, bad)
    candidates: list[tuple[int, int, str, str]] = []
    for rank, encoding in enumerate(("cp932", "gb18030")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # fewest implausible characters wins; then the one with kana (Japanese); then CP932
        candidates.append((_weirdness(text), -_kana(text) if encoding == "cp932" else 0, str(rank), encoding))
    if not candidates:
        raise ValidationError(
            "the file is neither UTF-8, Shift_JIS/CP932 nor GBK/GB18030 text", details={"code": "encoding"}
        )
    best = min(candidates)
    return data.decode(best[3]), best[3]


def _mixed(good: list[int], bad: list[int]) -> ValidationError:
    return ValidationError(
        "the file mixes encodings: some lines are UTF-8 and others are not; save it again in one encoding",
        details={"code": "mixed_encoding", "utf8_lines": good[:20], "other_lines": bad[:20]},
    )


# ------------------------------------------------------------------ rows


def _columns(header: list[str]) -> tuple[list[str], list[RowError]]:
    errors: list[RowError] = []
    columns: list[str] = []
    for raw in header:
        key = raw.strip().lower().replace(" ", "_").replace("-", "_")
        name = _ALIASES.get(key)
        if name is None:
            errors.append(RowError(1, raw.strip(), "columns", f"unknown column {raw.strip()!r}"))
            columns.append("")
        elif name in columns:
            errors.append(RowError(1, name, "columns", f"column {name!r} appears twice"))
            columns.append("")
        else:
            columns.append(name)
    for name in REQUIRED:
        if name not in columns:
            errors.append(RowError(1, name, "columns", f"required column {name!r} is missing"))
    return columns, errors


def _row(line: int, cells: Mapping[str, str]) -> tuple[ImportRow | None, list[RowError]]:
    errors: list[RowError] = []
    for name, value in cells.items():
        if value and value[0] in _FORMULA:
            errors.append(
                RowError(line, name, "formula", f"{name} starts with {value[0]!r}: formula-looking cells are refused")
            )
    if errors:
        return None, errors
    try:
        employee_id = check_id(cells.get("id", ""), "id")
    except RippleError as exc:
        return None, [RowError(line, "id", "invalid", exc.message)]
    body: dict[str, Any] = {k: cells[k] for k in ("name", "team", "region")}
    if cells.get("email"):
        body["email"] = cells["email"]
    body["role"] = cells.get("role") or "employee"
    try:
        fields = validate_employee(body)
    except RippleError as exc:
        where = (exc.details or {}).get("field")
        return None, [RowError(line, where if isinstance(where, str) else None, "invalid", exc.message)]
    return (
        ImportRow(
            line=line,
            employee_id=employee_id,
            name=fields["name"],
            team=fields["team"],
            region=fields["region"],
            email=fields.get("email", ""),
            role=fields.get("role", "employee"),
        ),
        [],
    )


def parse_employee_csv(data: bytes) -> ParsedFile:
    """Every row checked on its own and against the others (ids and e-mails unique in the
    file); file-level problems (encoding, size, columns, row count) raise."""
    text, encoding = decode_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise ValidationError("the file is empty", details={"code": "empty"}) from exc
    except csv.Error as exc:
        raise ValidationError(f"line 1 is not valid CSV: {exc}", details={"code": "csv", "line": 1}) from exc
    columns, column_errors = _columns(header)
    if column_errors:
        raise ValidationError(
            "the header row is not id,name,email,team,region,role",
            details={"code": "columns", "errors": [e.to_dict() for e in column_errors], "expected": list(COLUMNS)},
        )
    parsed = ParsedFile(encoding=encoding, columns=columns)
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    count = 0
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines Excel leaves at the end
            count += 1
            parsed.count = count
            if count > MAX_ROWS:
                raise ValidationError(
                    f"the file has more than {MAX_ROWS} rows; split it",
                    details={"code": "too_many_rows", "max_rows": MAX_ROWS},
                )
            if len(cells) != len(columns):
                parsed.errors.append(
                    RowError(line, None, "invalid", f"{len(cells)} cells where the header has {len(columns)}")
                )
                continue
            row, errors = _row(line, {c: v.strip() for c, v in zip(columns, cells, strict=True)})
            if row is None:
                parsed.errors.extend(errors)
                continue
            if row.employee_id in seen_ids:
                parsed.errors.append(
                    RowError(
                        line, "id", "duplicate_id", f"id {row.employee_id} is also on line {seen_ids[row.employee_id]}"
                    )
                )
                continue
            if row.email and row.email in seen_emails:
                parsed.errors.append(
                    RowError(line, "email", "duplicate_email", f"{row.email} is also on line {seen_emails[row.email]}")
                )
                continue
            seen_ids[row.employee_id] = line
            if row.email:
                seen_emails[row.email] = line
            parsed.rows.append(row)
    except csv.Error as exc:
        raise ValidationError(
            f"line {reader.line_num} is not valid CSV: {exc}", details={"code": "csv", "line": reader.line_num}
        ) from exc
    if not parsed.rows and not parsed.errors:
        raise ValidationError("the file has a header but no rows", details={"code": "empty"})
    return parsed


@dataclass(frozen=True, slots=True)
class Existing:
    """What the plan needs to know of a stored employee."""

    employee_id: str
    name: str
    team: str
    region: str
    email: str
    role: str
    active: bool


def plan_import(
    parsed: ParsedFile, existing: Iterable[Existing], email_owners: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Decide each valid row: ``create``, ``update`` or ``unchanged``; refuse e-mails that
    belong to another stored employee and rows for offboarded employees (offboarding is
    undone by no import). ``existing``: the stored employees the file names (at least);
    ``email_owners``: address → employee id of the file's addresses already taken.
    Returns the counts, the errors and the rows to apply."""
    by_id = {e.employee_id: e for e in existing}
    by_email = {e.email: e.employee_id for e in by_id.values() if e.email}
    by_email.update(email_owners or {})
    errors = list(parsed.errors)
    apply: list[tuple[str, ImportRow]] = []
    counts = {"create": 0, "update": 0, "unchanged": 0}
    for row in parsed.rows:
        owner = by_email.get(row.email) if row.email else None
        if owner is not None and owner != row.employee_id:
            errors.append(
                RowError(row.line, "email", "email_taken", f"{row.email} already belongs to employee {owner}")
            )
            continue
        current = by_id.get(row.employee_id)
        if current is None:
            action = "create"
        elif not current.active:
            errors.append(RowError(row.line, "id", "offboarded", f"employee {row.employee_id} has been offboarded"))
            continue
        elif (current.name, current.team, current.region, current.role) == (
            row.name,
            row.team,
            row.region,
            row.role,
        ) and (not row.email or row.email == current.email):
            action = "unchanged"
        else:
            action = "update"
        counts[action] += 1
        apply.append((action, row))
    errors.sort(key=lambda e: e.line)
    return {
        "rows": parsed.count,
        "valid": len(apply),
        "counts": counts,
        "errors": errors,
        "apply": apply,
    }
