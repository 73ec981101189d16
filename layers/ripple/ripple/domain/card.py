"""The digital business card (名刺 / 电子名片): what an employee's card holds, its vCard, taps
and the card radar.

A card is shown to the public at ``/c/{code}`` and saved into phones' address books as a
vCard, so every field is validated strictly here: single-line fields refuse CR, LF and any
other control character (a newline in a vCard value would start a new property — vCard
injection), with a 422 naming the field; lengths are bounded so the page stays ~10 KB.

Card links are ordinary links of the tenant's reserved campaign :data:`CARD_CAMPAIGN`, one
per channel, so ``/c/{code}`` resolves through the same cached lookup and records a visit
through the same ``record_visit`` as every link (bots, owner clicks, chains, one write), and
an admin may pay for card views with the campaign's ordinary versioned rules.

Pure: no boto3.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ripple.domain.errors import ValidationError

__all__ = [
    "CARD_CAMPAIGN",
    "IMAGE_SLOTS",
    "MAX_CARD_IMAGE_BYTES",
    "TAP_ACTIONS",
    "CardProfile",
    "CompanyCard",
    "RadarRow",
    "Viewer",
    "build_vcard",
    "escape_vcard",
    "fold_line",
    "rank_viewers",
    "validate_card",
    "validate_company",
    "validate_tap",
]

# The reserved campaign id of card links ("c" + 11 characters is what admins' campaigns get,
# so this never collides with one).
CARD_CAMPAIGN = "card"
TAP_ACTIONS: tuple[str, ...] = ("call", "save", "email", "campaign", "wechat", "line")

MAX_LINE = 100  # title, company, department
MAX_HANDLE = 64  # WeChat / LINE ids
MAX_INTRO = 500
MAX_URL = 512

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _invalid(name: str, message: str) -> ValidationError:
    return ValidationError(message, details={"field": name})


def _unsafe(c: str, *, multiline: bool) -> bool:
    if multiline and c == "\n":
        return False
    # Cc: C0/C1 controls incl. CR, LF, TAB, NUL; Zl/Zp: U+2028/U+2029 (line breaks to vCard
    # readers that decode Unicode line boundaries); Cs: lone surrogates
    return unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in _BIDI_CONTROLS


def _text(body: Mapping[str, Any], name: str, limit: int, *, multiline: bool = False) -> str:
    raw = body.get(name, "")
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise _invalid(name, f"{name} must be a string")
    value = raw.replace("\r\n", "\n").strip() if multiline else raw.strip()
    bad = next((c for c in value if _unsafe(c, multiline=multiline)), None)
    if bad is not None:
        what = "line breaks or control characters" if not multiline else "control characters"
        raise _invalid(name, f"{name} must not contain {what} (found U+{ord(bad):04X})")
    if len(value) > limit:
        raise _invalid(name, f"{name} must be at most {limit} characters")
    return value


def _https(body: Mapping[str, Any], name: str) -> str:
    from ripple.domain.validation import normalize_url

    value = _text(body, name, MAX_URL)
    if not value:
        return ""
    try:
        url = normalize_url(value, field=name)
    except ValidationError as exc:
        raise _invalid(name, f"{name}: {exc.message}") from exc
    if not url.startswith("https://"):
        raise _invalid(name, f"{name} must be an https:// URL")
    return url


@dataclass(frozen=True, slots=True)
class CardProfile:
    """What an employee puts on their card (their name comes from the employee record)."""

    title: str = ""
    department: str = ""
    phone: str = ""  # E.164
    email: str = ""
    intro: str = ""  # plain text, newlines kept
    wechat: str = ""  # WeChat id shown for people who add contacts by id
    line: str = ""  # LINE id
    photo_url: str = ""  # https
    wechat_qr_url: str = ""  # https: the QR image of their WeChat contact card
    line_qr_url: str = ""
    updated_at: int = 0
    # uploaded images (slot -> S3 key of the re-encoded image, see IMAGE_SLOTS); an upload
    # wins over the slot's https URL. Kept by PUT /me/card, changed only by uploads.
    images: dict[str, str] = field(default_factory=dict)

    def image_url(self, slot: str) -> str:
        """The https URL given for ``slot`` ("" if none)."""
        return {"photo": self.photo_url, "wechat_qr": self.wechat_qr_url, "line_qr": self.line_qr_url}.get(slot, "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "department": self.department,
            "phone": self.phone,
            "email": self.email,
            "intro": self.intro,
            "wechat": self.wechat,
            "line": self.line,
            "photo_url": self.photo_url,
            "wechat_qr_url": self.wechat_qr_url,
            "line_qr_url": self.line_qr_url,
        }


CARD_FIELDS = frozenset(CardProfile().to_dict())
IMAGE_SLOTS: tuple[str, ...] = ("photo", "wechat_qr", "line_qr")
MAX_CARD_IMAGE_BYTES = 2 * 1024 * 1024  # a face or a QR code; the page stays light


@dataclass(frozen=True, slots=True)
class CompanyCard:
    """The tenant's defaults: the company on every card, and the card an offboarded
    employee's link shows instead of theirs."""

    company: str = ""
    logo_url: str = ""
    website: str = ""
    phone: str = ""
    email: str = ""
    intro: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": self.company,
            "logo_url": self.logo_url,
            "website": self.website,
            "phone": self.phone,
            "email": self.email,
            "intro": self.intro,
        }


COMPANY_FIELDS = frozenset(CompanyCard().to_dict())


def _check_unknown(body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    if not isinstance(body, Mapping):
        raise ValidationError("the body must be a JSON object", details={"field": "body"})
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})


def _contacts(body: Mapping[str, Any], phone_region: str) -> tuple[str, str]:
    from ripple.domain.contact import normalise_email, normalise_phone

    phone = email = ""
    if body.get("phone"):
        phone = normalise_phone(body["phone"], phone_region or "CN")
    if body.get("email"):
        email = normalise_email(body["email"])
    return phone, email


def validate_card(body: Mapping[str, Any], *, phone_region: str, now: int) -> CardProfile:
    """The whole card (PUT semantics: absent fields are emptied), or 422 naming the field."""
    _check_unknown(body, CARD_FIELDS)
    phone, email = _contacts(body, phone_region)
    return CardProfile(
        title=_text(body, "title", MAX_LINE),
        department=_text(body, "department", MAX_LINE),
        phone=phone,
        email=email,
        intro=_text(body, "intro", MAX_INTRO, multiline=True),
        wechat=_text(body, "wechat", MAX_HANDLE),
        line=_text(body, "line", MAX_HANDLE),
        photo_url=_https(body, "photo_url"),
        wechat_qr_url=_https(body, "wechat_qr_url"),
        line_qr_url=_https(body, "line_qr_url"),
        updated_at=now,
    )


def validate_company(body: Mapping[str, Any], *, phone_region: str) -> CompanyCard:
    _check_unknown(body, COMPANY_FIELDS)
    phone, email = _contacts(body, phone_region)
    return CompanyCard(
        company=_text(body, "company", MAX_LINE),
        logo_url=_https(body, "logo_url"),
        website=_https(body, "website"),
        phone=phone,
        email=email,
        intro=_text(body, "intro", MAX_INTRO, multiline=True),
    )


def validate_tap(body: Mapping[str, Any]) -> tuple[str, str]:
    """(action, campaign id or "") of a ``POST /c/{code}/taps`` body."""
    from ripple.domain.validation import check_id

    _check_unknown(body, ("action", "campaign_id"))
    action = body.get("action")
    if action not in TAP_ACTIONS:
        raise _invalid("action", f"action must be one of {', '.join(TAP_ACTIONS)}")
    campaign = body.get("campaign_id") or ""
    if campaign:
        if not isinstance(campaign, str):
            raise _invalid("campaign_id", "campaign_id must be a string")
        check_id(campaign, "campaign_id")
    return str(action), str(campaign)


# ------------------------------------------------------------------ vCard (RFC 6350)


def escape_vcard(value: str) -> str:
    """A TEXT value escaped per RFC 6350 §3.4: backslash, comma, semicolon and newline."""
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold_line(line: str, limit: int = 75) -> str:
    """Fold a content line at ``limit`` octets (RFC 6350 §3.2), never inside a UTF-8
    sequence: a CJK name must not be cut into invalid bytes."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    budget = limit
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > budget:
            out.append("".join(current))
            current, size, budget = [], 0, limit - 1  # continuation lines start with a space
        current.append(ch)
        size += n
    out.append("".join(current))
    return "\r\n ".join(out)


def build_vcard(*, name: str, card: CardProfile | None, company: CompanyCard, url: str, uid: str, rev: str = "") -> str:
    """A vCard 4.0 (RFC 6350) for "save contact": UTF-8, CRLF, folded, every value escaped.

    ``card`` None is the company card (an offboarded employee's link)."""
    c = card or CardProfile()
    lines = ["BEGIN:VCARD", "VERSION:4.0"]
    display = name or company.company or "Contact"
    lines.append(f"FN:{escape_vcard(display)}")
    # the whole name as the family name: a CJK name has no reliable given/family split
    lines.append(f"N:{escape_vcard(name)};;;;" if name else "N:;;;;")
    if card is None and company.company:
        lines.append("KIND:org")
    org = [escape_vcard(company.company)] + ([escape_vcard(c.department)] if c.department else [])
    if company.company:
        lines.append("ORG:" + ";".join(org))
    if c.title:
        lines.append(f"TITLE:{escape_vcard(c.title)}")
    phone = c.phone or (company.phone if card is None else "")
    if phone:
        lines.append(f"TEL;VALUE=uri;TYPE={'cell' if card is not None else 'work'}:tel:{phone}")
    email = c.email or (company.email if card is None else "")
    if email:
        lines.append(f"EMAIL;TYPE=work:{escape_vcard(email)}")
    if c.wechat:
        lines.append(f"X-WECHAT:{escape_vcard(c.wechat)}")
    if c.line:
        lines.append(f"X-LINE:{escape_vcard(c.line)}")
    intro = c.intro or (company.intro if card is None else "")
    if intro:
        lines.append(f"NOTE:{escape_vcard(intro)}")
    if c.photo_url:
        lines.append(f"PHOTO:{c.photo_url}")
    elif company.logo_url:
        lines.append(f"LOGO:{company.logo_url}")
    lines.append(f"URL:{url}")
    lines.append(f"UID:urn:uuid:{uid}")
    if rev:
        lines.append(f"REV:{rev}")
    lines.append("END:VCARD")
    return "".join(fold_line(line) + "\r\n" for line in lines)


# ------------------------------------------------------------------ the card radar


@dataclass(frozen=True, slots=True)
class RadarRow:
    """One viewer of one employee's card, as the consumer keeps it: the events are sets of
    ``<ts>:<event id>`` (views) and ``<ts>:<action>:<event id>`` (taps), so a redelivered
    event adds nothing."""

    visitor: str
    views: frozenset[str] = frozenset()
    taps: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Viewer:
    visitor: str
    views: int
    first_seen: int
    last_seen: int
    taps: dict[str, int] = field(default_factory=dict)
    customer_id: str = ""
    customer_name: str = ""

    @property
    def score(self) -> int:
        """Interest: a tap says more than a look (call and save most)."""
        weights = {"call": 5, "save": 5, "email": 3, "wechat": 3, "line": 3, "campaign": 2}
        return self.views + sum(weights.get(a, 1) * n for a, n in self.taps.items())

    def to_dict(self, ms_to_iso: Any) -> dict[str, Any]:
        return {
            "visitor": self.visitor[:12],
            "customer": {"customer_id": self.customer_id, "name": self.customer_name} if self.customer_id else None,
            "views": self.views,
            "taps": dict(sorted(self.taps.items())),
            "first_seen": ms_to_iso(self.first_seen),
            "last_seen": ms_to_iso(self.last_seen),
            "score": self.score,
        }


def _ts(event: str) -> int:
    head = event.split(":", 1)[0]
    return int(head) if head.isdigit() else 0


def rank_viewers(rows: Iterable[RadarRow], customers: Mapping[str, tuple[str, str]]) -> list[Viewer]:
    """Viewers by interest (score), then most recent; ``customers`` maps a visitor key to
    (customer id, name) for visitors who are known customers."""
    viewers: list[Viewer] = []
    for row in rows:
        stamps = [_ts(e) for e in (*row.views, *row.taps)]
        if not stamps:
            continue
        taps: dict[str, int] = {}
        for t in row.taps:
            parts = t.split(":")
            if len(parts) >= 3:
                taps[parts[1]] = taps.get(parts[1], 0) + 1
        cid, cname = customers.get(row.visitor, ("", ""))
        viewers.append(Viewer(row.visitor, len(row.views), min(stamps), max(stamps), taps, cid, cname))
    viewers.sort(key=lambda v: (-v.score, -v.last_seen, v.visitor))
    return viewers
