"""Contact details of a lead: normalised for matching, masked for display.

The same person submits "138 0013 8000" today and "+86 13800138000" tomorrow; both must
land on one lead, so phone numbers become E.164 and e-mail addresses are lowercased with an
IDNA domain before they are used as keys (``contact_keys``). Employees see leads they brought
in, but only masked (``mask_*``): who converted is their business, the phone number is not.

``phonenumbers`` (Google's libphonenumber metadata) is imported on first use so that the
modules importing this one keep a light cold start.
"""

from __future__ import annotations

import re
import unicodedata

from ripple.domain.errors import ValidationError

__all__ = [
    "MAX_EMAIL",
    "MAX_NAME",
    "MAX_PHONE",
    "SearchTerms",
    "contact_keys",
    "fold",
    "mask_email",
    "mask_name",
    "mask_phone",
    "normalise_email",
    "normalise_name",
    "normalise_phone",
    "normalise_phone_in",
    "phone_regions",
    "search_terms",
    "validate_region",
]

MAX_PHONE = 32
MAX_EMAIL = 254  # RFC 5321 path limit
MAX_NAME = 100
_MAX_LOCAL = 64

# What people type into a phone field: digits and the usual separators. Letters ("1-800-FLOWERS",
# "ext. 12") are refused rather than guessed at.
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+\Z")
# RFC 5322 atext plus dots, and any non-ASCII (SMTPUTF8); no quoted local parts.
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\u0080-\U0010ffff-]+\Z")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(message, details={"field": field})


def _has_unsafe_char(value: str) -> bool:
    """Control characters, lone surrogates (not storable as UTF-8) and bidi overrides."""
    return any(unicodedata.category(c) in ("Cc", "Cs") or c in _BIDI_CONTROLS for c in value)


def normalise_phone(raw: object, default_region: str = "CN") -> str:
    """``raw`` as an E.164 string (``+8613800138000``); national numbers read in ``default_region``."""
    import phonenumbers  # lazy: see the module docstring

    if not isinstance(raw, str):
        raise _invalid("phone", "phone must be a string")
    if len(raw) > MAX_PHONE:
        raise _invalid("phone", f"phone must be at most {MAX_PHONE} characters")
    # NFKC turns full-width digits and plus signs typed with a CJK input method into ASCII.
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        raise _invalid("phone", "phone must not be empty")
    if not _PHONE_CHARS.match(value) or value.count("+") > 1:
        raise _invalid("phone", "phone may contain only digits, spaces, '+', '-', '.', '/' and parentheses")
    try:
        number = phonenumbers.parse(value, default_region.upper())
    except phonenumbers.NumberParseException as exc:
        raise _invalid("phone", "phone is not a valid phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid("phone", "phone is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Where a language is spoken as the one a phone number was typed in. Only unambiguous ones:
# English says nothing about a country.
_LANGUAGE_REGIONS = {"ja": "JP", "ko": "KR", "zh-hans": "CN", "zh-cn": "CN", "zh-hant": "TW", "zh-tw": "TW"}
_REGION = re.compile(r"^[A-Z]{2}\Z")


def validate_region(raw: object, field: str = "country") -> str:
    """An ISO 3166 alpha-2 region phone numbers can be read in (``JP``), or 422."""
    import phonenumbers

    value = raw.strip().upper() if isinstance(raw, str) else ""
    if not _REGION.match(value) or value not in phonenumbers.SUPPORTED_REGIONS:
        raise _invalid(field, f"{field} must be a two-letter country code (ISO 3166), such as JP or CN")
    return value


def phone_regions(*, chosen: str | None, viewer_country: str, lang: str, default: str) -> tuple[str, ...]:
    """The regions to read a national number in, most telling first; the first one the
    number is valid in wins (:func:`normalise_phone_in`).

    The country chosen on the form first (the page preselects our guess, so a number invalid
    there still falls through), then where the visitor is (the CDN's viewer-country header),
    then their language (``ja`` → JP), and only then the tenant's default — a Japanese
    visitor's ``090-1234-5678`` was stored as ``+869012345678`` when the default came first."""
    candidates: list[str] = [chosen] if chosen else []
    country = (viewer_country or "").strip().upper()
    if _REGION.match(country):
        candidates.append(country)
    tag = (lang or "").strip().lower().replace("_", "-")
    region = _LANGUAGE_REGIONS.get(tag) or _LANGUAGE_REGIONS.get(tag.split("-", 1)[0])
    if region is None and re.match(r"^[a-z]{2,3}-[a-z]{2}$", tag):
        region = tag[-2:].upper()  # "ja-jp" style tags carry their region
    if region:
        candidates.append(region)
    if default:
        candidates.append(default.upper())
    return tuple(dict.fromkeys(candidates))


def normalise_phone_in(raw: object, regions: tuple[str, ...]) -> str:
    """E.164 from the first region the number is valid in (numbers with ``+`` need none);
    the first region's error when it is valid in none."""
    first: ValidationError | None = None
    for region in regions:
        try:
            return normalise_phone(raw, region)
        except ValidationError as exc:
            if first is None:
                first = exc
            if not isinstance(raw, str) or unicodedata.normalize("NFKC", raw).strip().startswith("+"):
                break
    assert first is not None  # regions is never empty
    raise first


def normalise_email(raw: object) -> str:
    """``raw`` trimmed and lowercased, its domain IDNA-encoded (``Bob@Bücher.de`` → ``bob@xn--bcher-kva.de``)."""
    if not isinstance(raw, str):
        raise _invalid("email", "email must be a string")
    if len(raw) > 4 * MAX_EMAIL:  # before any work on it; the exact limit is checked below
        raise _invalid("email", f"email must be at most {MAX_EMAIL} characters")
    # NFKC: a full-width at sign or full stop from a CJK input method is still the address the person meant.
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        raise _invalid("email", "email must not be empty")
    if any(c.isspace() for c in value) or _has_unsafe_char(value):
        raise _invalid("email", "email must not contain spaces or control characters")
    if value.count("@") != 1:
        raise _invalid("email", "email must contain exactly one '@'")
    local, domain = value.split("@")
    local = local.lower()
    if not local or len(local) > _MAX_LOCAL or not _LOCAL.match(local):
        raise _invalid("email", "email has an invalid part before the '@'")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise _invalid("email", "email must not have leading, trailing or consecutive dots")
    domain = domain.lower()
    if ".." in domain or domain.startswith(".") or domain.endswith("."):
        raise _invalid("email", "email must not have leading, trailing or consecutive dots")
    if "." not in domain:
        raise _invalid("email", "email domain must contain a dot")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise _invalid("email", "email domain is not a valid domain name") from exc
    labels = ascii_domain.split(".")
    if not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise _invalid("email", "email domain is not a valid domain name")
    result = f"{local}@{ascii_domain}"
    if len(result) > MAX_EMAIL:
        raise _invalid("email", f"email must be at most {MAX_EMAIL} characters")
    return result


def normalise_name(raw: object) -> str:
    """``raw`` trimmed with runs of whitespace collapsed to one space; 1..100 characters."""
    if not isinstance(raw, str):
        raise _invalid("name", "name must be a string")
    if len(raw) > 4 * MAX_NAME:
        raise _invalid("name", f"name must be at most {MAX_NAME} characters")
    # Tabs and newlines count as whitespace to collapse; every other control character is refused.
    value = " ".join(raw.split())
    if _has_unsafe_char(value):
        raise _invalid("name", "name must not contain control characters")
    if not value:
        raise _invalid("name", "name must not be empty")
    if len(value) > MAX_NAME:
        raise _invalid("name", f"name must be at most {MAX_NAME} characters")
    return value


# --- masks ---------------------------------------------------------------------------------


def _mask_digits(national: str) -> str:
    n = len(national)
    if n >= 8:
        return national[:3] + "*" * (n - 7) + national[-4:]
    if n >= 5:
        return "*" * (n - 2) + national[-2:]
    return "*" * n


def mask_phone(phone: str) -> str:
    """``+8613800138000`` → ``+86 138****8000``: country code, first 3 and last 4 of the national number."""
    import phonenumbers  # lazy: see the module docstring

    try:
        number = phonenumbers.parse(phone, None)
        country, national = str(number.country_code), phonenumbers.national_significant_number(number)
    except phonenumbers.NumberParseException:
        digits = "".join(c for c in phone if c.isdigit())
        return _mask_digits(digits) if digits else "***"
    return f"+{country} {_mask_digits(national)}"


def mask_email(email: str) -> str:
    """``alice@example.com`` → ``a***@example.com`` (always three stars: the length is not shown)."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def _is_wide(c: str) -> bool:
    return unicodedata.east_asian_width(c) in ("W", "F")


def mask_name(name: str) -> str:
    """First character of each word: ``张三丰`` → ``张**``, ``Alice Wang`` → ``A*** W***``.

    Words written in wide (CJK) characters keep one star per hidden character, as is usual for
    Chinese and Japanese names; other words get three stars whatever their length.
    """
    masked: list[str] = []
    for word in name.split():
        if any(_is_wide(c) for c in word):
            masked.append("*" if len(word) == 1 else word[0] + "*" * (len(word) - 1))
        else:
            masked.append(word[0] + "***")
    return " ".join(masked) or "***"


def contact_keys(phone: str | None, email: str | None) -> list[str]:
    """Index keys that find earlier submissions by the same person (inputs already normalised)."""
    keys: list[str] = []
    if phone:
        keys.append(f"phone:{phone}")
    if email:
        keys.append(f"email:{email}")
    return keys


_BLANK = re.compile("^[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*\\Z")


def fold(text: str) -> str:
    """What a search compares: NFKC (full-width Latin letters and digits, half-width kana, as
    Japanese and Chinese keyboards type them) and case-folded, so "hanako", "Hanako" and its
    full-width spelling find the same customer."""
    return unicodedata.normalize("NFKC", text).casefold()


class SearchTerms:
    """One search box over customers' names, e-mails and phone numbers (substring matches)."""

    __slots__ = ("digits", "raw", "text")

    def __init__(self, raw: str, text: str, digits: str | None) -> None:
        self.raw = raw  # as typed (trimmed): matches names stored before folding existed
        self.text = text  # folded: names and e-mails
        self.digits = digits  # a phone number's digits (E.164 without "+" when it parses), or None


def search_terms(raw: object, regions: tuple[str, ...]) -> SearchTerms:
    """``q`` of a customer search: 1..100 characters. Three or more digits (with the usual
    separators) also search phone numbers: a full national number is read in ``regions``
    (``090-1234-5678`` finds ``+819012345678``), a fragment matches as digits."""
    # 1..100 characters with one that is not white space (as the OpenAPI pattern \S says it,
    # i.e. ECMAScript's white space, not Python's wider str.isspace)
    if not isinstance(raw, str) or not 1 <= len(raw) <= 100 or _BLANK.match(raw):
        raise _invalid("q", "q must be 1..100 characters, not only white space")
    text = " ".join(raw.split()) or raw
    folded = fold(text)
    digits: str | None = None
    if _PHONE_CHARS.match(folded) and sum(ch.isdigit() for ch in folded) >= 3:
        try:
            digits = normalise_phone_in(folded, regions).lstrip("+")
        except ValidationError:
            digits = "".join(ch for ch in folded if ch.isdigit())
    return SearchTerms(text, folded, digits)
