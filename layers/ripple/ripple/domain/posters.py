"""Posters as data: template validation, copy texts, the cache key, and the fit-text layout.

Pure Python (no Pillow): the renderer in ``functions/poster.py`` passes its font's width
measure into :func:`fit_text`, so the layout rules are unit-tested in microseconds and the
API can validate templates without loading any imaging library.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ripple.domain.errors import ValidationError

__all__ = [
    "BINDINGS",
    "COPY_LANGS",
    "FORMATS",
    "IMAGE_TYPES",
    "MAX_MATERIAL_BYTES",
    "RENDERER_VERSION",
    "Fit",
    "PosterTemplate",
    "QrBox",
    "TextBox",
    "fit_text",
    "poster_cache_key",
    "tokenize",
    "validate_copy",
    "validate_template",
    "wrap",
]

BINDINGS = ("campaign_title", "employee_name", "team", "custom")
ALIGNS = ("left", "center", "right")
FORMATS = {"png": "image/png", "jpeg": "image/jpeg"}
IMAGE_TYPES = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp"}
COPY_LANGS = ("en", "ja", "zh-Hans", "zh-Hant", "ko")
MAX_MATERIAL_BYTES = 10 * 1024 * 1024
# Bump whenever the renderer's output for the same inputs changes: it is part of the cache key.
RENDERER_VERSION = "1"

DEFAULT_CANVAS = (1080, 1920)
MIN_CANVAS, MAX_CANVAS = 64, 4096
MIN_FONT, MAX_FONT = 8, 400
MIN_QR = 64  # pixels: smaller QR codes do not scan reliably from a phone screen
MAX_BOXES = 20
MAX_CUSTOM_TEXT = 200
LINE_HEIGHT = 1.25
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
# closing punctuation that must not start a line (kinsoku shori, the common subset)
_NO_LINE_START = (
    set(",.!?:;)]")
    | {chr(c) for c in (0x3001, 0x3002, 0xFF0C, 0xFF0E, 0xFF01, 0xFF1F, 0xFF1A, 0xFF1B, 0xFF09, 0x300D, 0x300F)}
    | {chr(c) for c in (0x3011, 0x3009, 0x300B, 0x201D, 0x2019, 0x30FC, 0x2026, 0x30FB)}
)


@dataclass(frozen=True, slots=True)
class TextBox:
    binding: str
    x: int
    y: int
    width: int
    height: int
    font_size: int = 64
    color: str = "#000000"
    align: str = "left"
    text: str = ""  # the text of a ``custom`` box

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "binding": self.binding,
            "x": self.x,
            "y": self.y,
            "width": self.width,
            "height": self.height,
            "font_size": self.font_size,
            "color": self.color,
            "align": self.align,
        }
        if self.binding == "custom":
            out["text"] = self.text
        return out


@dataclass(frozen=True, slots=True)
class QrBox:
    x: int
    y: int
    size: int

    def to_dict(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "size": self.size}


@dataclass(frozen=True, slots=True)
class PosterTemplate:
    tenant_id: str
    template_id: str
    version: int
    name: str
    width: int
    height: int
    background_material_id: str | None
    background_color: str
    text_boxes: tuple[TextBox, ...]
    qr: QrBox
    created_at: int = 0

    def spec(self) -> dict[str, Any]:
        """The template's data, as posted (what a new version replaces)."""
        return {
            "name": self.name,
            "canvas": {"width": self.width, "height": self.height},
            "background_material_id": self.background_material_id,
            "background_color": self.background_color,
            "text_boxes": [b.to_dict() for b in self.text_boxes],
            "qr": self.qr.to_dict(),
        }

    def to_public(self) -> dict[str, Any]:
        return {"template_id": self.template_id, "version": self.version, **self.spec()}


def _err(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", details={"field": field})


def _known(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ValidationError(
            f"unknown field(s): {', '.join(prefix + u for u in unknown)}",
            details={"fields": [prefix + u for u in unknown]},
        )


def _int(obj: Mapping[str, Any], key: str, where: str, lo: int, hi: int, default: int | None = None) -> int:
    field = f"{where}.{key}" if where else key
    if key not in obj or obj[key] is None:
        if default is None:
            raise _err(field, "is required")
        return default
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _err(field, "must be an integer")
    if not lo <= value <= hi:
        raise _err(field, f"must be between {lo} and {hi}")
    return value


def _color(obj: Mapping[str, Any], key: str, where: str, default: str) -> str:
    field = f"{where}.{key}" if where else key
    value = obj.get(key, default)
    if not isinstance(value, str) or not _COLOR.match(value):
        raise _err(field, "must be a colour #RRGGBB")
    return value.upper()


def _clean_text(value: object, field: str, max_len: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _err(field, "must be a non-empty string")
    value = unicodedata.normalize("NFC", value.strip())
    if len(value) > max_len:
        raise _err(field, f"must be at most {max_len} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") and c != "\n" for c in value):
        raise _err(field, "must not contain control or invisible characters")
    return value


def _inside(field: str, x: int, y: int, w: int, h: int, canvas: tuple[int, int]) -> None:
    if x + w > canvas[0] or y + h > canvas[1]:
        raise ValidationError(
            f"{field}: box ({x},{y}) {w}x{h} extends outside the {canvas[0]}x{canvas[1]} canvas",
            details={"field": field, "canvas": {"width": canvas[0], "height": canvas[1]}},
        )


def _text_box(raw: object, i: int, canvas: tuple[int, int]) -> TextBox:
    where = f"text_boxes[{i}]"
    if not isinstance(raw, dict):
        raise _err(where, "must be an object")
    _known(raw, {"binding", "x", "y", "width", "height", "font_size", "color", "align", "text"}, where)
    binding = raw.get("binding")
    if binding not in BINDINGS:
        raise ValidationError(
            f"{where}.binding: unknown binding {binding!r}; one of {', '.join(BINDINGS)}",
            details={"field": f"{where}.binding", "allowed": list(BINDINGS)},
        )
    x = _int(raw, "x", where, 0, MAX_CANVAS)
    y = _int(raw, "y", where, 0, MAX_CANVAS)
    w = _int(raw, "width", where, 1, MAX_CANVAS)
    h = _int(raw, "height", where, 1, MAX_CANVAS)
    _inside(where, x, y, w, h, canvas)
    size = _int(raw, "font_size", where, MIN_FONT, MAX_FONT, default=64)
    align = raw.get("align", "left")
    if align not in ALIGNS:
        raise _err(f"{where}.align", f"must be one of {', '.join(ALIGNS)}")
    text = ""
    if binding == "custom":
        text = _clean_text(raw.get("text"), f"{where}.text", MAX_CUSTOM_TEXT)
    elif "text" in raw:
        raise _err(f"{where}.text", "only custom boxes carry their own text")
    return TextBox(binding, x, y, w, h, size, _color(raw, "color", where, "#000000"), align, text)


def validate_template(body: Mapping[str, Any]) -> dict[str, Any]:
    """Check a posted template; returns the normalised fields of :class:`PosterTemplate`
    (without ids). Whether the background material exists is the service's check."""
    _known(body, {"name", "canvas", "background_material_id", "background_color", "text_boxes", "qr"}, "")
    name = _clean_text(body.get("name"), "name", 100)
    canvas_raw = body.get("canvas") or {}
    if not isinstance(canvas_raw, dict):
        raise _err("canvas", "must be an object")
    _known(canvas_raw, {"width", "height"}, "canvas")
    canvas = (
        _int(canvas_raw, "width", "canvas", MIN_CANVAS, MAX_CANVAS, default=DEFAULT_CANVAS[0]),
        _int(canvas_raw, "height", "canvas", MIN_CANVAS, MAX_CANVAS, default=DEFAULT_CANVAS[1]),
    )
    background = body.get("background_material_id")
    if background is not None and (
        not isinstance(background, str) or not re.match(r"^[A-Za-z0-9_-]{1,64}$", background)
    ):
        raise _err("background_material_id", "must be a material id")
    boxes_raw = body.get("text_boxes", [])
    if not isinstance(boxes_raw, list) or len(boxes_raw) > MAX_BOXES:
        raise _err("text_boxes", f"must be a list of at most {MAX_BOXES} boxes")
    boxes = tuple(_text_box(raw, i, canvas) for i, raw in enumerate(boxes_raw))
    qr_raw = body.get("qr")
    if not isinstance(qr_raw, dict):
        raise _err("qr", "is required: an object with x, y and size")
    _known(qr_raw, {"x", "y", "size"}, "qr")
    qr = QrBox(
        _int(qr_raw, "x", "qr", 0, MAX_CANVAS),
        _int(qr_raw, "y", "qr", 0, MAX_CANVAS),
        _int(qr_raw, "size", "qr", MIN_QR, MAX_CANVAS),
    )
    _inside("qr", qr.x, qr.y, qr.size, qr.size, canvas)
    return {
        "name": name,
        "width": canvas[0],
        "height": canvas[1],
        "background_material_id": background,
        "background_color": _color(body, "background_color", "", "#FFFFFF"),
        "text_boxes": boxes,
        "qr": qr,
    }


def validate_copy(body: Mapping[str, Any]) -> dict[str, Any]:
    """A short copy text: ``{"title"?, "tags": [...], "variants": {lang: text}}``."""
    _known(body, {"title", "tags", "variants"}, "")
    title = _clean_text(body["title"], "title", 100) if body.get("title") is not None else ""
    tags_raw = body.get("tags", [])
    if not isinstance(tags_raw, list) or len(tags_raw) > 20:
        raise _err("tags", "must be a list of at most 20 tags")
    tags = sorted({_clean_text(t, f"tags[{i}]", 40).lower() for i, t in enumerate(tags_raw)})
    variants_raw = body.get("variants")
    if not isinstance(variants_raw, dict) or not variants_raw:
        raise _err("variants", f"must map at least one language ({', '.join(COPY_LANGS)}) to a text")
    variants: dict[str, str] = {}
    for lang, text in variants_raw.items():
        if lang not in COPY_LANGS:
            raise _err(f"variants.{lang}", f"unknown language; one of {', '.join(COPY_LANGS)}")
        variants[lang] = _clean_text(text, f"variants.{lang}", 2000)
    return {"title": title, "tags": tuple(tags), "variants": variants}


def poster_cache_key(
    *,
    tenant_id: str,
    template: PosterTemplate,
    background_key: str | None,
    texts: Mapping[str, str],
    qr_data: str,
    fmt: str,
) -> str:
    """S3 key of a rendered poster: a hash of everything that affects its pixels (template id
    and version, background object, bound texts such as the employee's name, the short link,
    the format and the renderer version). Any change yields a new key, never a stale poster."""
    material = json.dumps(
        [
            RENDERER_VERSION,
            template.template_id,
            template.version,
            background_key,
            sorted(texts.items()),
            qr_data,
            fmt,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]
    return f"posters/{tenant_id}/{digest}.{'jpg' if fmt == 'jpeg' else fmt}"


# ------------------------------------------------------------------ fit text


def _breaks_anywhere(ch: str) -> bool:
    """CJK ideographs, kana and Hangul syllables may be broken between any two characters."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # CJK radicals, kana, CJK symbols, ideographs
        or 0xAC00 <= o <= 0xD7AF  # Hangul syllables
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x20000 <= o <= 0x3FFFF
    )


def tokenize(text: str) -> list[str]:
    """Unbreakable units: Latin words (with their trailing space), single CJK characters,
    closing punctuation glued to what precedes it."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if ch in _NO_LINE_START and (tokens or word):
            if word:
                word += ch
            else:
                tokens[-1] += ch
            continue
        if _breaks_anywhere(ch):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        elif ch == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += ch
    if word:
        tokens.append(word)
    return tokens


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    """Greedy line breaking; a token wider than the line is split by character."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in tokenize(paragraph):
            candidate = line + token
            if measure(candidate.rstrip()) <= width:
                line = candidate
                continue
            if line.strip():
                lines.append(line.rstrip())
            line = ""
            if measure(token.rstrip()) <= width:
                line = token
                continue
            for ch in token:  # an over-long word: break it by character
                if line and measure((line + ch).rstrip()) > width:
                    lines.append(line.rstrip())
                    line = ""
                line += ch
        lines.append(line.rstrip())
    return lines


@dataclass(frozen=True, slots=True)
class Fit:
    size: int
    lines: tuple[str, ...]
    line_height: int
    truncated: bool = False


def fit_text(
    text: str,
    width: int,
    height: int,
    max_size: int,
    measure: Callable[[str, int], float],
    *,
    min_size: int = MIN_FONT,
    line_height: float = LINE_HEIGHT,
) -> Fit:
    """The largest font size in ``[min_size, max_size]`` at which ``text``, wrapped to
    ``width``, fits ``height``; ``measure(s, size)`` is the rendered width of ``s``.

    Binary search (fitting is monotone in the size up to rounding). When even ``min_size``
    does not fit, the lines that fit are kept and the last one ends with an ellipsis.
    """
    text = text.strip()

    def layout(size: int) -> tuple[list[str], int]:
        lh = max(1, round(size * line_height))
        return wrap(text, width, lambda s: measure(s, size)), lh

    def fits(size: int) -> bool:
        lines, lh = layout(size)
        return len(lines) * lh - (lh - size) <= height and all(measure(ln, size) <= width for ln in lines)

    lo, hi = min_size, max(min_size, max_size)
    if fits(hi):
        lines, lh = layout(hi)
        return Fit(hi, tuple(lines), lh)
    if not fits(lo):
        lines, lh = layout(lo)
        keep = max(1, (height + (lh - lo)) // lh)
        if keep >= len(lines):
            return Fit(lo, tuple(lines), lh, truncated=True)
        kept = lines[:keep]
        last = kept[-1]
        while last and measure(last + "…", lo) > width:
            last = last[:-1]
        kept[-1] = last + "…"
        return Fit(lo, tuple(kept), lh, truncated=True)
    while hi - lo > 1:  # invariant: fits(lo) and not fits(hi)
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    lines, lh = layout(lo)
    return Fit(lo, tuple(lines), lh)
