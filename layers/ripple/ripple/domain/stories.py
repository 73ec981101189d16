"""Employees' own stories (员工故事 / 社員のストーリー) under the tenant's content policy.

People trust a colleague's own words more than the company's, so an employee may write a post
of their own (text, up to nine images as WeChat Moments allows, optionally pointing at one of
the company's campaigns). Nothing written by one person reaches the public unchecked: the
tenant's **content policy** is checked as they type (``findings`` returns every problem, so the
phone can mark them all) and again when the story is submitted; an admin then approves or
rejects it (with a reason the author sees). An approved story is shared through the author's
own tracked link, so whoever forwards it, the author is credited.

The policy is the existing inducement-to-share rule (``domain.compliance``: WeChat and others
forbid "share to win"), plus the tenant's banned words, a disclosure a paid (sponsored) story
must carry, and the image rules. Story text is plain text: anything that looks like markup or
a script URL is refused rather than escaped, because it is never meant and would be shown
literally to every reader.

Pure: no boto3.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ripple.domain.errors import ConflictError, ValidationError

__all__ = [
    "MAX_IMAGES",
    "MAX_STORY_IMAGE_BYTES",
    "STATUSES",
    "STORY_PREFIX",
    "ContentPolicy",
    "Finding",
    "Story",
    "StoryDraft",
    "approve",
    "check_submittable",
    "findings",
    "is_story_campaign",
    "reject",
    "story_month",
    "submit",
    "validate_draft",
    "validate_policy",
    "validate_reason",
    "withdraw",
]

MAX_TITLE = 80
MAX_TEXT = 2000
MAX_IMAGES = 9  # WeChat Moments' limit
MAX_STORY_IMAGE_BYTES = 5 * 1024 * 1024
MAX_REASON = 500
MAX_BANNED_WORDS = 200
MAX_BANNED_WORD = 40
MAX_DISCLOSURE = 40
MAX_APPROVED_POINTS = 100_000
MAX_MONTHLY_CAP = 100

# Story ids double as the campaign id their links belong to ("c" + 11 is an admin's campaign,
# "card" the business card): "st" + 10 never collides with either.
STORY_PREFIX = "st"
STATUSES: tuple[str, ...] = ("draft", "pending", "approved", "rejected", "withdrawn")
EDITABLE = frozenset({"draft", "rejected"})

RULE_MARKUP = "markup"
RULE_BANNED = "banned-word"
RULE_DISCLOSURE = "disclosure"
RULE_INDUCED = "induced-sharing"
RULE_LENGTH = "length"
RULE_IMAGES = "images"
RULE_REQUIRED = "required"

# what would be markup or a script in any reader: a tag start, an HTML comment/doctype, an
# entity, a script URL
_MARKUP = re.compile(r"<\s*[A-Za-z/!?]|&#?[A-Za-z0-9]+;|\b(?:javascript|vbscript|data)\s*:", re.IGNORECASE)
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_HIDDEN = frozenset({"Cc", "Cf", "Co", "Cs"})  # what a policy word may not hide in
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def is_story_campaign(campaign_id: str) -> bool:
    """Whether a campaign id is a story's (its links are the author's alone)."""
    return len(campaign_id) == 12 and campaign_id.startswith(STORY_PREFIX)


def _fold(text: str) -> str:
    """What word matching compares: NFKC (full-width = half-width), case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    """A tenant's rules for employees' stories (``PUT /admin/content-policy``)."""

    banned_words: tuple[str, ...] = ()
    disclosure: str = "#PR"  # a paid story must contain this (e.g. "#PR", "#广告", "#プロモーション")
    approved_points: int = 0  # points for each approved story …
    monthly_cap: int = 0  # … for at most this many stories per author per month (0: no limit)
    require_review: bool = True  # always true today: the switch exists so the answer says so

    def to_dict(self) -> dict[str, Any]:
        return {
            "banned_words": list(self.banned_words),
            "disclosure": self.disclosure,
            "approved_points": self.approved_points,
            "monthly_cap": self.monthly_cap,
            "max_images": MAX_IMAGES,
            "max_image_bytes": MAX_STORY_IMAGE_BYTES,
            "max_text": MAX_TEXT,
            "max_title": MAX_TITLE,
        }


def _invalid(name: str, message: str, rule: str | None = None) -> ValidationError:
    details: dict[str, Any] = {"field": name}
    if rule:
        details["rule"] = rule
    return ValidationError(message, details=details)


def _int(body: Mapping[str, Any], name: str, default: int, top: int) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise _invalid(name, f"{name} must be an integer 0..{top}")
    return value


def validate_policy(body: Mapping[str, Any]) -> ContentPolicy:
    """The whole policy from ``PUT /admin/content-policy`` (a field left out takes its default)."""
    unknown = sorted(set(body) - {"banned_words", "disclosure", "approved_points", "monthly_cap"})
    if unknown:
        raise _invalid(unknown[0], f"unknown field {unknown[0]!r}")
    raw = body.get("banned_words", [])
    if raw is None:
        raw = []
    if not isinstance(raw, list) or len(raw) > MAX_BANNED_WORDS:
        raise _invalid("banned_words", f"banned_words must be a list of at most {MAX_BANNED_WORDS} words")
    words: list[str] = []
    for i, word in enumerate(raw):
        name = f"banned_words[{i}]"
        if not isinstance(word, str) or not word.strip():
            raise _invalid(name, f"{name} must be a non-empty string")
        if len(word) > MAX_BANNED_WORD or any(unicodedata.category(c) in _HIDDEN for c in word):
            raise _invalid(name, f"{name} must be at most {MAX_BANNED_WORD} visible characters")
        word = word.strip()
        if _fold(word) not in {_fold(w) for w in words}:
            words.append(word)
    disclosure = body.get("disclosure", "#PR")
    if disclosure is None:
        disclosure = ""
    if not isinstance(disclosure, str):
        raise _invalid("disclosure", "disclosure must be a string")
    if len(disclosure) > MAX_DISCLOSURE or any(unicodedata.category(c) in _HIDDEN for c in disclosure):
        raise _invalid("disclosure", f"disclosure must be at most {MAX_DISCLOSURE} visible characters")
    disclosure = disclosure.strip()
    return ContentPolicy(
        banned_words=tuple(words),
        disclosure=disclosure,
        approved_points=_int(body, "approved_points", 0, MAX_APPROVED_POINTS),
        monthly_cap=_int(body, "monthly_cap", 0, MAX_MONTHLY_CAP),
    )


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem the policy found: the field, the rule, a message and the offending words."""

    field: str
    rule: str
    message: str
    match: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message, "match": self.match}


@dataclass(frozen=True, slots=True)
class StoryDraft:
    """What the author writes (images are added by upload, never by value)."""

    title: str
    text: str
    campaign_id: str | None = None
    paid: bool = False


def _plain(body: Mapping[str, Any], name: str, limit: int, *, multiline: bool) -> str:
    raw = body.get(name, "")
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise _invalid(name, f"{name} must be a string")
    value = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    for c in value:
        if c == "\n" and multiline:
            continue
        if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in _BIDI:
            what = "control characters" if multiline else "line breaks or control characters"
            raise _invalid(name, f"{name} must not contain {what} (found U+{ord(c):04X})")
    if len(value) > limit * 2:  # far over: refused outright (findings report the near misses)
        raise _invalid(name, f"{name} must be at most {limit} characters", RULE_LENGTH)
    return value


def validate_draft(body: Mapping[str, Any], *, partial: bool = False, current: StoryDraft | None = None) -> StoryDraft:
    """A draft from a request body: shape only (types, control characters, the campaign id).
    Policy problems are ``findings``: a draft may have them, a submission may not.
    ``partial`` (PATCH) keeps what ``current`` has for fields left out."""
    unknown = sorted(set(body) - {"title", "text", "campaign_id", "paid"})
    if unknown:
        raise _invalid(unknown[0], f"unknown field {unknown[0]!r}")
    base = current or StoryDraft("", "")
    title = _plain(body, "title", MAX_TITLE, multiline=False) if "title" in body or not partial else base.title
    text = _plain(body, "text", MAX_TEXT, multiline=True) if "text" in body or not partial else base.text
    campaign_id = base.campaign_id if partial and "campaign_id" not in body else body.get("campaign_id")
    if campaign_id is not None and (not isinstance(campaign_id, str) or not _ID.match(campaign_id)):
        raise _invalid("campaign_id", "campaign_id must be a campaign id or null")
    if isinstance(campaign_id, str) and (is_story_campaign(campaign_id) or campaign_id == "card"):
        from ripple.domain.errors import NotFoundError

        raise NotFoundError(f"campaign {campaign_id} not found (a story points at the company's campaigns only)")
    paid = base.paid if partial and "paid" not in body else body.get("paid", False)
    if paid is None:
        paid = False
    if not isinstance(paid, bool):
        raise _invalid("paid", "paid must be true or false")
    return StoryDraft(title=title, text=text, campaign_id=campaign_id or None, paid=paid)


def findings(draft: StoryDraft, images: int, policy: ContentPolicy) -> list[Finding]:
    """Every problem the content policy finds in a story, in the order a reader meets them
    (title, then text, then images). Empty: the story may be submitted."""
    from ripple.domain.compliance import find_induced_sharing

    out: list[Finding] = []
    for name, value, limit in (("title", draft.title, MAX_TITLE), ("text", draft.text, MAX_TEXT)):
        if not value:
            out.append(Finding(name, RULE_REQUIRED, f"{name} is required"))
            continue
        if len(value) > limit:
            out.append(Finding(name, RULE_LENGTH, f"{name} must be at most {limit} characters ({len(value)})"))
        markup = _MARKUP.search(value)
        if markup:
            out.append(Finding(name, RULE_MARKUP, f"{name} must be plain text: no HTML or script", markup.group(0)))
        induced = find_induced_sharing(value)
        if induced:
            out.append(
                Finding(
                    name,
                    RULE_INDUCED,
                    f"{name} asks people to share for a reward; reward outcomes, not shares",
                    induced,
                )
            )
        folded = _fold(value)
        for word in policy.banned_words:
            if _fold(word) in folded:
                out.append(
                    Finding(name, RULE_BANNED, f"{name} contains a word the company's policy does not allow", word)
                )
    if draft.paid and policy.disclosure and _fold(policy.disclosure) not in _fold(f"{draft.title}\n{draft.text}"):
        out.append(
            Finding("text", RULE_DISCLOSURE, f"a paid story must say so: add {policy.disclosure!r}", policy.disclosure)
        )
    if images > MAX_IMAGES:
        out.append(Finding("images", RULE_IMAGES, f"at most {MAX_IMAGES} images"))
    return out


def check_submittable(draft: StoryDraft, images: int, policy: ContentPolicy) -> None:
    """Raise a 422 naming the first problem (all of them in ``details.findings``)."""
    found = findings(draft, images, policy)
    if found:
        first = found[0]
        raise ValidationError(
            first.message,
            details={
                "field": first.field,
                "rule": first.rule,
                "match": first.match,
                "findings": [f.to_dict() for f in found],
            },
        )


def validate_reason(body: Mapping[str, Any], *, required: bool) -> str:
    reason = body.get("reason", "")
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise _invalid("reason", "reason must be a string")
    reason = reason.strip()
    if required and not reason:
        raise _invalid("reason", "a rejection needs a reason the author can act on")
    if len(reason) > MAX_REASON or any(unicodedata.category(c) in ("Cc", "Cs") and c != "\n" for c in reason):
        raise _invalid("reason", f"reason must be at most {MAX_REASON} characters of text")
    return reason


@dataclass(frozen=True, slots=True)
class Story:
    """A story and where it is in its review."""

    story_id: str
    tenant_id: str
    author: str
    title: str
    text: str
    campaign_id: str | None = None
    paid: bool = False
    images: tuple[str, ...] = ()  # S3 keys of the re-encoded images, in reading order
    status: str = "draft"
    created_at: int = 0
    updated_at: int = 0
    submitted_at: int | None = None
    decided_at: int | None = None
    decided_by: str = ""
    reason: str = ""  # why it was rejected (or the reviewer's note on an approval)
    edited_by_reviewer: bool = False
    code: str = ""  # the author's story link, once approved
    campaign_code: str = ""  # the author's link of ``campaign_id``, if any
    points: int = 0  # paid for the approval (0: none, or over the month's cap)
    version: int = 0  # optimistic concurrency: every write is conditional on it
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def draft(self) -> StoryDraft:
        return StoryDraft(self.title, self.text, self.campaign_id, self.paid)

    def with_draft(self, draft: StoryDraft, now: int) -> Story:
        return replace(
            self, title=draft.title, text=draft.text, campaign_id=draft.campaign_id, paid=draft.paid, updated_at=now
        )


def _require(story: Story, allowed: set[str] | frozenset[str], action: str) -> None:
    if story.status not in allowed:
        raise ConflictError(f"a {story.status} story cannot be {action}")


def submit(story: Story, policy: ContentPolicy, now: int) -> Story:
    """draft | rejected → pending, if the policy finds nothing."""
    _require(story, EDITABLE, "submitted")
    check_submittable(story.draft, len(story.images), policy)
    return replace(story, status="pending", submitted_at=now, updated_at=now, reason="", decided_at=None)


def approve(story: Story, policy: ContentPolicy, by: str, note: str, now: int) -> Story:
    """pending → approved (checked again: the policy may have changed since it was submitted)."""
    _require(story, {"pending"}, "approved")
    check_submittable(story.draft, len(story.images), policy)
    return replace(story, status="approved", decided_at=now, decided_by=by, reason=note, updated_at=now)


def reject(story: Story, by: str, reason: str, now: int) -> Story:
    """pending → rejected, with the reason; the author may edit and submit again."""
    _require(story, {"pending"}, "rejected")
    return replace(story, status="rejected", decided_at=now, decided_by=by, reason=reason, updated_at=now)


def withdraw(story: Story, now: int) -> Story:
    """The author takes a pending or approved story back: its page says it is gone."""
    _require(story, {"pending", "approved"}, "withdrawn")
    return replace(story, status="withdrawn", updated_at=now)


def story_month(ts_ms: int, tz: str) -> str:
    """The tenant month an approval falls in (the monthly cap's period)."""
    from ripple.domain.timeutil import period_keys

    return period_keys(ts_ms, tz).month
