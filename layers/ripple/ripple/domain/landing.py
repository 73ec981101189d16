"""A campaign's hosted mobile landing page: its copy per language, hero image and lead form.

Employees share links into WeChat, LINE and the like, and for a campaign without a site of its
own Ripple serves the page itself. The configuration is validated strictly here (every field
named in the error, unknown keys rejected) because it ends up in front of the public; the
renderer in ``ripple.web.landing_page`` then only has to escape, never to second-guess.

``negotiate_language`` picks the copy a visitor sees from ``?lang=`` and ``Accept-Language``,
mapping the many Chinese tags onto the two scripts we store (zh-TW reads Traditional, zh-CN
Simplified) and preferring the other Chinese script to an unrelated default.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ripple.domain.errors import ValidationError

__all__ = [
    "FIELDS",
    "LANGUAGES",
    "Landing",
    "LandingCopy",
    "canonical_language",
    "landing_from_dict",
    "landing_to_dict",
    "negotiate_language",
    "validate_landing",
]

LANGUAGES: tuple[str, ...] = ("en", "ja", "zh-Hans", "zh-Hant")
FIELDS: tuple[str, ...] = ("name", "phone", "email", "message")

MAX_TITLE = 120
MAX_BODY = 4000
MAX_CTA = 40
MAX_CONSENT = 2000
MAX_IMAGE_URL_BYTES = 2048

# Limits on what we read of an Accept-Language header: real ones are a few dozen bytes.
_MAX_HEADER_CHARS = 1024
_MAX_HEADER_ENTRIES = 32
_TAG = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*)\Z")
_Q = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\Z")
_TRADITIONAL_REGIONS = frozenset({"tw", "hk", "mo"})
_OTHER_SCRIPT = {"zh-Hans": "zh-Hant", "zh-Hant": "zh-Hans"}
# Embedding/override/isolate controls: they let text display differently from what it is.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class LandingCopy:
    """The page's text in one language. ``body`` is plain text: newlines become paragraphs."""

    title: str
    body: str = ""
    cta: str = ""
    consent: str = ""
    # A disclosure line shown at the foot of the page (e.g. "Shared by an employee of Acme;
    # employees earn points when visitors take part"), as advertising rules expect.
    disclosure: str = ""


@dataclass(frozen=True)
class Landing:
    """A validated landing page configuration, as stored on its campaign."""

    copies: dict[str, LandingCopy]
    default_lang: str
    image_url: str | None = None
    fields: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def copy_for(self, lang: str) -> LandingCopy:
        """The copy in ``lang``, or in the default language when there is none in ``lang``."""
        return self.copies.get(lang) or self.copies[self.default_lang]


# --- validation ----------------------------------------------------------------------------


def _reject_unknown(raw: dict[str, Any], allowed: Iterable[str], prefix: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        names = [f"{prefix}{name}" for name in unknown]
        raise ValidationError(f"unknown field(s): {', '.join(names)}", details={"fields": names})


def _bad_char(c: str, *, multiline: bool) -> bool:
    if multiline and c in "\n\t":
        return False
    category = unicodedata.category(c)
    # Cc: control characters; Cs: lone surrogates (valid in JSON, not encodable as UTF-8).
    return category in ("Cc", "Cs") or c in _BIDI_CONTROLS


def _text(raw: dict[str, Any], key: str, field: str, *, max_len: int, required: bool, multiline: bool = False) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise ValidationError(f"{field} is required", details={"field": field})
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string", details={"field": field})
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.strip()
    if not value and required:
        raise ValidationError(f"{field} must not be empty", details={"field": field})
    if len(value) > max_len:
        raise ValidationError(f"{field} must be at most {max_len} characters", details={"field": field})
    if any(_bad_char(c, multiline=multiline) for c in value):
        raise ValidationError(f"{field} must not contain control characters", details={"field": field})
    return value


def _copy(raw: object, lang: str, *, has_form: bool) -> LandingCopy:
    prefix = f"copy.{lang}"
    if not isinstance(raw, dict):
        raise ValidationError(f"{prefix} must be an object", details={"field": prefix})
    _reject_unknown(raw, ("title", "body", "cta", "consent", "disclosure"), f"{prefix}.")
    return LandingCopy(
        title=_text(raw, "title", f"{prefix}.title", max_len=MAX_TITLE, required=True),
        body=_text(raw, "body", f"{prefix}.body", max_len=MAX_BODY, required=False, multiline=True),
        # The button and the consent text exist only with a form; without one they may be left out.
        cta=_text(raw, "cta", f"{prefix}.cta", max_len=MAX_CTA, required=has_form),
        consent=_text(raw, "consent", f"{prefix}.consent", max_len=MAX_CONSENT, required=has_form, multiline=True),
        disclosure=_text(raw, "disclosure", f"{prefix}.disclosure", max_len=300, required=False),
    )


def _field_list(raw: dict[str, Any], key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{key} must be a list of strings", details={"field": key})
    for v in value:
        if v not in allowed:
            choices = ", ".join(allowed) if allowed else "nothing (no fields configured)"
            raise ValidationError(f"{key}: {v!r} is not one of: {choices}", details={"field": key})
    if len(set(value)) != len(value):
        raise ValidationError(f"{key} must not repeat a field", details={"field": key})
    return tuple(value)


def _image_url(value: object) -> str | None:
    field = "image_url"
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("image_url must be a string", details={"field": field})
    if len(value.encode("utf-8", "surrogatepass")) > MAX_IMAGE_URL_BYTES:
        raise ValidationError(f"image_url must be at most {MAX_IMAGE_URL_BYTES} bytes", details={"field": field})
    if not value.isascii() or any(ord(c) < 33 or ord(c) == 127 for c in value):
        raise ValidationError(
            "image_url must be ASCII without spaces or control characters (percent-encode the rest)",
            details={"field": field},
        )
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise ValidationError("image_url is not a valid URL", details={"field": field}) from exc
    # Only https: an http image is mixed content, javascript: and data: have no business here.
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ValidationError("image_url must be an absolute https URL", details={"field": field})
    if parts.username is not None or parts.password is not None:
        raise ValidationError("image_url must not embed credentials", details={"field": field})
    return value


def validate_landing(raw: Any) -> Landing:
    """The landing configuration an admin sent, or ``ValidationError`` naming the offending field.

    Shape: ``{"default_lang", "image_url"?, "fields"?, "required"?, "copy": {lang: {"title",
    "body"?, "cta", "consent"}}}``; ``cta`` and ``consent`` are required only with a form.
    """
    if not isinstance(raw, dict):
        raise ValidationError("landing must be an object", details={"field": "landing"})
    _reject_unknown(raw, ("default_lang", "image_url", "fields", "required", "copy"), "")

    fields = _field_list(raw, "fields", FIELDS)
    if fields and "phone" not in fields and "email" not in fields:
        raise ValidationError("fields must include phone or email: a lead needs a contact", details={"field": "fields"})
    required = _field_list(raw, "required", fields)

    copy_raw = raw.get("copy")
    if not isinstance(copy_raw, dict) or not copy_raw:
        raise ValidationError("copy must be an object with at least one language", details={"field": "copy"})
    for lang in copy_raw:
        if lang not in LANGUAGES:
            raise ValidationError(
                f"copy: {lang!r} is not one of: {', '.join(LANGUAGES)}", details={"field": f"copy.{lang}"}
            )
    # Stored in our canonical language order so equal configurations compare (and serialise) equal.
    copies = {lang: _copy(copy_raw[lang], lang, has_form=bool(fields)) for lang in LANGUAGES if lang in copy_raw}

    default_lang = raw.get("default_lang")
    if default_lang is None and len(copies) == 1:
        default_lang = next(iter(copies))
    if not isinstance(default_lang, str) or default_lang not in copies:
        raise ValidationError(
            f"default_lang must be one of the languages in copy: {', '.join(copies)}",
            details={"field": "default_lang"},
        )

    return Landing(
        copies=copies,
        default_lang=default_lang,
        image_url=_image_url(raw.get("image_url")),
        fields=fields,
        required=required,
    )


# --- storage -------------------------------------------------------------------------------


def landing_to_dict(landing: Landing) -> dict[str, Any]:
    """JSON-ready form, in the shape ``validate_landing`` accepts (so an admin GET can be PUT back)."""
    return {
        "default_lang": landing.default_lang,
        "image_url": landing.image_url,
        "fields": list(landing.fields),
        "required": list(landing.required),
        "copy": {
            lang: {"title": c.title, "body": c.body, "cta": c.cta, "consent": c.consent}
            | ({"disclosure": c.disclosure} if c.disclosure else {})
            for lang, c in landing.copies.items()
        },
    }


def landing_from_dict(data: dict[str, Any]) -> Landing:
    """Rebuild a stored landing without re-validating it.

    It was validated when written; re-validating on read would make a stored page unreadable
    the day a rule tightens.
    """
    copies = {
        lang: LandingCopy(
            title=str(c.get("title", "")),
            body=str(c.get("body", "")),
            cta=str(c.get("cta", "")),
            consent=str(c.get("consent", "")),
            disclosure=str(c.get("disclosure", "")),
        )
        for lang, c in (data.get("copy") or {}).items()
    }
    default_lang = str(data.get("default_lang") or next(iter(copies), "en"))
    image_url = data.get("image_url")
    return Landing(
        copies=copies,
        default_lang=default_lang,
        image_url=str(image_url) if image_url else None,
        fields=tuple(data.get("fields") or ()),
        required=tuple(data.get("required") or ()),
    )


# --- language negotiation ------------------------------------------------------------------


def canonical_language(tag: str) -> str | None:
    """Map a BCP 47 tag onto one of ``LANGUAGES`` (``zh-TW`` → ``zh-Hant``), or ``None``.

    Exact spellings of our own codes in any case are accepted too (``zh-hans`` → ``zh-Hans``).
    """
    parts = [p.lower() for p in tag.replace("_", "-").split("-") if p]
    if not parts:
        return None
    primary, rest = parts[0], parts[1:]
    if primary == "en":
        return "en"
    if primary == "ja":
        return "ja"
    if primary == "zh":
        if "hant" in rest:
            return "zh-Hant"
        if "hans" in rest:
            return "zh-Hans"
        if any(p in _TRADITIONAL_REGIONS for p in rest):
            return "zh-Hant"
        return "zh-Hans"  # zh, zh-CN, zh-SG, zh-MY: Simplified
    return None


def _preferences(accept_language: str) -> list[str]:
    """Tags from an Accept-Language header, most preferred first; malformed entries skipped."""
    entries: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language[:_MAX_HEADER_CHARS].split(",")[:_MAX_HEADER_ENTRIES]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip()
        if not _TAG.match(tag):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _Q.match(value) else 0.0
        if q > 0:
            entries.append((-q, index, tag))
    return [tag for _, _, tag in sorted(entries)]


def negotiate_language(
    accept_language: str | None, query_lang: str | None, available: Iterable[str], default: str
) -> str:
    """The language to show: ``?lang=`` if available, else the best ``Accept-Language`` match.

    When none of the visitor's languages is available, a Chinese reader gets the other Chinese
    script (a zh-TW reader the Simplified page), a Japanese reader English when there is an
    English copy (``ja`` falls back to ``en``, never to Chinese), and only then ``default``.
    Never raises.
    """
    avail = {a for a in available if isinstance(a, str)}
    if isinstance(query_lang, str) and len(query_lang) <= 35:
        wanted = canonical_language(query_lang) if _TAG.match(query_lang) else None
        if wanted in avail:
            return wanted
    tags = _preferences(accept_language) if isinstance(accept_language, str) else []
    wanted_langs = [lang for lang in (canonical_language(t) for t in tags if t != "*") if lang]
    for lang in wanted_langs:
        if lang in avail:
            return lang
    for lang in wanted_langs:
        other = _OTHER_SCRIPT.get(lang)
        if other in avail:
            return other
    # A Japanese reader without a ja copy reads English sooner than the default Chinese (a
    # ja-JP browser got the zh-Hans page before). Languages we have no copy type for at all
    # (fr, ko, ...) still get the default the campaign chose.
    if "en" in avail and wanted_langs and not any(lang in _OTHER_SCRIPT for lang in wanted_langs):
        return "en"
    return default
