"""Employees' stories: write, check as you type, submit, review, share, get credited.

An approved story becomes a campaign of its own (id = the story id, ``domain.stories``) whose
only links are the author's: the public page ``/story/{code}`` resolves and records exactly
like a landing page (one cached link lookup, one visit write through ``record_visit``, surface
``story``), so bots, owner and colleague clicks, share tokens (a forwarded story still credits
the author), unique visitors, points by the campaign's ordinary rules and analytics per
campaign all work without a line of their own. The approval itself may pay points (the
tenant's content policy: so many per story, at most so many stories a month), as one ledger
entry ``st#<story id>`` written once, with the month's counter raised in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ripple.domain.errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    NotFoundError,
    PayloadTooLargeError,
    ValidationError,
)
from ripple.domain.model import Decision, Employee, Role
from ripple.domain.stories import (
    MAX_IMAGES,
    MAX_STORY_IMAGE_BYTES,
    STATUSES,
    STORY_PREFIX,
    ContentPolicy,
    Story,
    approve,
    findings,
    is_story_campaign,
    reject,
    submit,
    validate_draft,
    validate_policy,
    validate_reason,
    withdraw,
)
from ripple.domain.timeutil import ms_to_iso
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services
from ripple.service.redirect import TTLCache, VisitRequest, _lookup, record_visit

__all__ = [
    "StoryRepository",
    "StoryView",
    "add_story_image",
    "approve_story",
    "check_story",
    "create_story",
    "delete_story",
    "delete_story_image",
    "edit_story_as_reviewer",
    "get_my_story",
    "get_policy",
    "get_story_for_review",
    "my_stories",
    "put_policy",
    "reject_story",
    "review_queue",
    "story_image_key",
    "submit_story",
    "update_story",
    "visit_story",
    "withdraw_story",
]

log = logging.getLogger("ripple.stories")


class StoryRepository(Protocol):
    def get(self, tenant_id: str, story_id: str) -> Story | None: ...
    def save(self, story: Story) -> Story: ...
    def delete(self, story: Story) -> None: ...
    def by_author(
        self, tenant_id: str, author: str, limit: int, cursor: str | None
    ) -> tuple[list[Story], str | None]: ...
    def queue(self, tenant_id: str, status: str, limit: int, cursor: str | None) -> tuple[list[Story], str | None]: ...
    def policy(self, tenant_id: str) -> ContentPolicy: ...
    def put_policy(self, tenant_id: str, policy: ContentPolicy) -> None: ...


def _repo(svc: Services) -> StoryRepository:
    if svc.stories is None:
        raise NotFoundError("stories are not available")
    repo: StoryRepository = svc.stories
    return repo


def _active_employee(svc: Services, principal: Principal) -> Employee:
    require_role(principal, Role.EMPLOYEE)
    employee = svc.employees.get(principal.tenant_id, principal.sub)
    if employee is None:
        raise ForbiddenError("your account is not registered as an employee of this tenant")
    if not employee.active:
        raise ForbiddenError("your account has been deactivated")
    return employee


def _story_id(story_id: str) -> str:
    if not is_story_campaign(story_id) or not story_id.isalnum():
        raise NotFoundError("no such story")
    return story_id


def _mine(svc: Services, principal: Principal, story_id: str) -> Story:
    """The caller's own story (someone else's is a 404: its existence is not theirs to learn)."""
    story = _repo(svc).get(principal.tenant_id, _story_id(story_id))
    if story is None or story.author != principal.sub:
        raise NotFoundError("no such story")
    return story


def _limit(query: dict[str, str]) -> int:
    from ripple.domain.validation import validate_limit

    return validate_limit(query.get("limit"), default=50, maximum=100)


def _cursor(query: dict[str, str]) -> str | None:
    if "cursor" not in query:
        return None
    cursor = query["cursor"]
    if not cursor or len(cursor) > 300 or "|" not in cursor or not cursor.isprintable():
        raise ValidationError("cursor is not one this API returned", details={"field": "cursor"})
    return cursor


def _view(story: Story, base_url: str, blobs: Any, policy: ContentPolicy | None = None) -> dict[str, Any]:
    base = base_url.rstrip("/")
    out: dict[str, Any] = {
        "story_id": story.story_id,
        "author": story.author,
        "title": story.title,
        "text": story.text,
        "campaign_id": story.campaign_id,
        "paid": story.paid,
        "images": [blobs.presign(key, 900) if blobs is not None else "" for key in story.images],
        "status": story.status,
        "reason": story.reason or None,
        "created_at": ms_to_iso(story.created_at),
        "updated_at": ms_to_iso(story.updated_at),
        "submitted_at": ms_to_iso(story.submitted_at),
        "decided_at": ms_to_iso(story.decided_at),
        "decided_by": story.decided_by or None,
        "edited_by_reviewer": story.edited_by_reviewer,
        "points": story.points,
        "version": story.version,
        "short_url": f"{base}/{story.code}" if story.code else None,
        "page_url": f"{base}/story/{story.code}" if story.code else None,
    }
    if policy is not None:
        out["findings"] = [f.to_dict() for f in findings(story.draft, len(story.images), policy)]
    return out


def _check_campaign(svc: Services, tenant_id: str, campaign_id: str | None) -> None:
    if campaign_id is None:
        return
    campaign = svc.campaigns.get(tenant_id, campaign_id)
    if campaign is None or campaign.archived_at is not None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    if campaign.ends_at is not None and svc.clock() >= campaign.ends_at:
        raise ConflictError(f"campaign {campaign_id} has ended: a story cannot point at it")


# ------------------------------------------------------------------ the author's side


def check_story(svc: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """What the policy finds in a story being typed (nothing is saved): every finding with
    its field, rule and the words that triggered it, so the phone marks them all at once."""
    _active_employee(svc, principal)
    body = dict(body)
    images = body.pop("images", 0)
    if isinstance(images, float) and images.is_integer():
        images = int(images)  # JSON has one number type: 3.0 is the integer 3
    if isinstance(images, bool) or not isinstance(images, int) or not 0 <= images <= 50:
        raise ValidationError("images must be the number of images, 0..50", details={"field": "images"})
    draft = validate_draft(body)
    policy = _repo(svc).policy(principal.tenant_id)
    found = findings(draft, images, policy)
    return {"ok": not found, "findings": [f.to_dict() for f in found], "policy": policy.to_dict()}


def create_story(
    svc: Services, principal: Principal, body: dict[str, Any], *, base_url: str, blobs: Any
) -> dict[str, Any]:
    """A new draft (it may still have findings; only submitting needs none)."""
    _active_employee(svc, principal)
    draft = validate_draft(body)
    _check_campaign(svc, principal.tenant_id, draft.campaign_id)
    now = svc.clock()
    story = Story(
        story_id=STORY_PREFIX + svc.ids(10),
        tenant_id=principal.tenant_id,
        author=principal.sub,
        title=draft.title,
        text=draft.text,
        campaign_id=draft.campaign_id,
        paid=draft.paid,
        created_at=now,
        updated_at=now,
    )
    repo = _repo(svc)
    saved = repo.save(story)
    return _view(saved, base_url, blobs, repo.policy(principal.tenant_id))


def get_my_story(svc: Services, principal: Principal, story_id: str, *, base_url: str, blobs: Any) -> dict[str, Any]:
    _active_employee(svc, principal)
    story = _mine(svc, principal, story_id)
    return _view(story, base_url, blobs, _repo(svc).policy(principal.tenant_id))


def my_stories(
    svc: Services, principal: Principal, query: dict[str, str], *, base_url: str, blobs: Any
) -> dict[str, Any]:
    from ripple.domain.validation import reject_unknown_params

    _active_employee(svc, principal)
    reject_unknown_params(query, {"limit", "cursor"})
    stories, cursor = _repo(svc).by_author(principal.tenant_id, principal.sub, _limit(query), _cursor(query))
    return {"items": [_view(s, base_url, blobs) for s in stories], "next_cursor": cursor}


def _editable(story: Story) -> None:
    if story.status not in ("draft", "rejected"):
        raise ConflictError(f"a {story.status} story cannot be edited (withdraw it first)")


def update_story(
    svc: Services, principal: Principal, story_id: str, body: dict[str, Any], *, base_url: str, blobs: Any
) -> dict[str, Any]:
    """Change a draft (or a rejected story) field by field."""
    _active_employee(svc, principal)
    story = _mine(svc, principal, story_id)
    _editable(story)
    draft = validate_draft(body, partial=True, current=story.draft)
    if draft.campaign_id != story.campaign_id:
        _check_campaign(svc, principal.tenant_id, draft.campaign_id)
    repo = _repo(svc)
    saved = repo.save(story.with_draft(draft, svc.clock()))
    return _view(saved, base_url, blobs, repo.policy(principal.tenant_id))


def delete_story(svc: Services, principal: Principal, story_id: str, blobs: Any) -> None:
    """Delete a story that never went public (an approved one is withdrawn instead)."""
    _active_employee(svc, principal)
    story = _mine(svc, principal, story_id)
    if story.status in ("pending", "approved"):
        raise ConflictError(f"a {story.status} story cannot be deleted (withdraw it first)")
    if story.code:
        raise ConflictError("a story that was public stays on record; it is withdrawn")
    _repo(svc).delete(story)
    for key in story.images:
        try:
            blobs.delete(key)
        except Exception:  # the story is gone; an orphaned image is only storage
            log.warning("story image not deleted", extra={"key": key})


def submit_story(svc: Services, principal: Principal, story_id: str, *, base_url: str, blobs: Any) -> dict[str, Any]:
    """Send it to review: refused (422, every finding listed) while the policy finds anything."""
    from ripple.service import webhooks

    _active_employee(svc, principal)
    story = _mine(svc, principal, story_id)
    repo = _repo(svc)
    policy = repo.policy(principal.tenant_id)
    saved = repo.save(submit(story, policy, svc.clock()))
    webhooks.safe_emit(
        svc,
        principal.tenant_id,
        "story.submitted",
        {
            "story_id": saved.story_id,
            "author": saved.author,
            "title": saved.title,
            "campaign_id": saved.campaign_id,
            "paid": saved.paid,
            "images": len(saved.images),
            "submitted_at": saved.submitted_at,
        },
        f"{saved.story_id}-{saved.submitted_at}",
    )
    return _view(saved, base_url, blobs, policy)


def withdraw_story(svc: Services, principal: Principal, story_id: str, *, base_url: str, blobs: Any) -> dict[str, Any]:
    """Take it back: out of the queue, or off the public page (which then says it is gone).
    Points already paid for the approval stay paid: they were for work done."""
    _active_employee(svc, principal)
    story = _mine(svc, principal, story_id)
    saved = _repo(svc).save(withdraw(story, svc.clock()))
    story_cache.discard((saved.tenant_id, saved.story_id))
    return _view(saved, base_url, blobs)


def add_story_image(
    svc: Services, deps: Any, principal: Principal, story_id: str, body: bytes, content_type: str, *, base_url: str
) -> dict[str, Any]:
    """Append an image: decoded, checked and re-encoded (EXIF and location stripped) by the
    poster function like every material. Not an image, too many: 422; too big: 413."""
    from ripple.domain.posters import IMAGE_TYPES
    from ripple.service.posters import ingest_image

    _active_employee(svc, principal)
    story = _mine(svc, principal, story_id)
    _editable(story)
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype not in IMAGE_TYPES:
        raise ValidationError(f"images must be one of {', '.join(IMAGE_TYPES)}", details={"field": "images"})
    if len(body) > MAX_STORY_IMAGE_BYTES:
        raise PayloadTooLargeError(
            f"story images are limited to {MAX_STORY_IMAGE_BYTES // (1024 * 1024)} MB", details={"field": "images"}
        )
    if not body:
        raise ValidationError("the request body must be the image", details={"field": "images"})
    if len(story.images) >= MAX_IMAGES:
        raise ValidationError(f"a story has at most {MAX_IMAGES} images", details={"field": "images", "rule": "images"})
    image_id = "i" + svc.ids(11)
    staged = f"uploads/{principal.tenant_id}/{image_id}"
    deps.blobs.put(staged, body, "application/octet-stream")
    result = ingest_image(deps, staged, f"stories/{principal.tenant_id}/{story.story_id}/{image_id}", field="images")
    repo = _repo(svc)
    try:
        saved = repo.save(replace(story, images=(*story.images, str(result["key"])), updated_at=svc.clock()))
    except ConflictError:
        deps.blobs.delete(str(result["key"]))
        raise
    return _view(saved, base_url, deps.blobs, repo.policy(principal.tenant_id))


def delete_story_image(
    svc: Services, deps: Any, principal: Principal, story_id: str, index: str, *, base_url: str
) -> dict[str, Any]:
    _active_employee(svc, principal)
    story = _mine(svc, principal, story_id)
    _editable(story)
    if not index.isdigit() or int(index) >= len(story.images):
        raise NotFoundError("no such image")
    n = int(index)
    key = story.images[n]
    repo = _repo(svc)
    saved = repo.save(replace(story, images=story.images[:n] + story.images[n + 1 :], updated_at=svc.clock()))
    deps.blobs.delete(key)
    return _view(saved, base_url, deps.blobs, repo.policy(principal.tenant_id))


# ------------------------------------------------------------------ the reviewer's side


def get_policy(svc: Services, principal: Principal) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    return _repo(svc).policy(principal.tenant_id).to_dict()


def put_policy(svc: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Replace the tenant's content policy (stories already approved stay approved)."""
    require_role(principal, Role.ADMIN)
    policy = validate_policy(body)
    _repo(svc).put_policy(principal.tenant_id, policy)
    return policy.to_dict()


def review_queue(
    svc: Services, principal: Principal, query: dict[str, str], *, base_url: str, blobs: Any
) -> dict[str, Any]:
    """Stories in one state (``?status=pending`` by default: oldest first), with the author's
    name and what today's policy finds in each."""
    from ripple.domain.validation import reject_unknown_params

    require_role(principal, Role.ADMIN)
    reject_unknown_params(query, {"status", "limit", "cursor"})
    status = query.get("status", "pending")
    if status not in STATUSES or status == "draft":
        raise ValidationError(
            "status must be one of pending, approved, rejected, withdrawn", details={"field": "status"}
        )
    repo = _repo(svc)
    stories, cursor = repo.queue(principal.tenant_id, status, _limit(query), _cursor(query))
    policy = repo.policy(principal.tenant_id)
    authors = svc.employees.batch_get({(principal.tenant_id, s.author) for s in stories}) if stories else {}
    out = []
    for s in stories:
        view = _view(s, base_url, blobs, policy)
        author = authors.get((principal.tenant_id, s.author))
        view["author_name"] = author.name if author is not None else s.author
        out.append(view)
    return {"items": out, "next_cursor": cursor}


def _for_review(svc: Services, principal: Principal, story_id: str) -> Story:
    require_role(principal, Role.ADMIN)
    story = _repo(svc).get(principal.tenant_id, _story_id(story_id))
    if story is None or story.status == "draft":  # drafts are the author's own business
        raise NotFoundError("no such story")
    return story


def get_story_for_review(
    svc: Services, principal: Principal, story_id: str, *, base_url: str, blobs: Any
) -> dict[str, Any]:
    story = _for_review(svc, principal, story_id)
    return _view(story, base_url, blobs, _repo(svc).policy(principal.tenant_id))


def edit_story_as_reviewer(
    svc: Services, principal: Principal, story_id: str, body: dict[str, Any], *, base_url: str, blobs: Any
) -> dict[str, Any]:
    """A reviewer's light edit of a pending story (a typo, a missing disclosure) before
    approving it; the story remembers that it was edited, and the author sees it."""
    story = _for_review(svc, principal, story_id)
    if story.status != "pending":
        raise ConflictError(f"a {story.status} story cannot be edited")
    draft = validate_draft(body, partial=True, current=story.draft)
    if draft.campaign_id != story.campaign_id:
        _check_campaign(svc, principal.tenant_id, draft.campaign_id)
    repo = _repo(svc)
    saved = repo.save(replace(story.with_draft(draft, svc.clock()), edited_by_reviewer=True))
    return _view(saved, base_url, blobs, repo.policy(principal.tenant_id))


def reject_story(
    svc: Services, principal: Principal, story_id: str, body: dict[str, Any], *, base_url: str, blobs: Any
) -> dict[str, Any]:
    story = _for_review(svc, principal, story_id)
    reason = validate_reason(body, required=True)
    saved = _repo(svc).save(reject(story, principal.sub, reason, svc.clock()))
    return _view(saved, base_url, blobs)


def _ensure_story_campaign(svc: Services, story: Story) -> None:
    """The story's own campaign (zero points per visit unless an admin sets rules on it), so
    its links, visits, chains, boards and analytics are a campaign's like any other."""
    from ripple.domain.model import Campaign, PointsRules, RulesVersion

    if svc.campaigns.get(story.tenant_id, story.story_id) is not None:
        return
    rules = PointsRules()
    svc.campaigns.create(
        Campaign(
            tenant_id=story.tenant_id,
            campaign_id=story.story_id,
            name=story.title,
            destination_url="",
            points=rules,
            created_at=svc.clock(),
            created_by=story.author,
            rules_history=(RulesVersion(1, 0, rules),),
        )
    )


def approve_story(
    svc: Services, principal: Principal, story_id: str, body: dict[str, Any], *, base_url: str, blobs: Any
) -> dict[str, Any]:
    """Approve a pending story: it gets its campaign and the author's link (idempotent, so a
    retried approval repeats nothing), the decision is saved conditionally (two reviewers: one
    wins, the other gets 409), then the policy's points are paid once (``st#<story id>``)."""
    from ripple.domain.model import LedgerEntry
    from ripple.domain.timeutil import period_keys
    from ripple.service.links import issue_link

    story = _for_review(svc, principal, story_id)
    note = validate_reason(body, required=False)
    repo = _repo(svc)
    policy = repo.policy(principal.tenant_id)
    now = svc.clock()
    decided = approve(story, policy, principal.sub, note, now)  # 409 / 422 before anything is written
    author = svc.employees.get(story.tenant_id, story.author)
    if author is None or not author.active:
        raise ConflictError("the author is offboarded: the story cannot be published")
    _ensure_story_campaign(svc, story)
    as_author = Principal(story.tenant_id, story.author, Role.EMPLOYEE)
    link, _ = issue_link(svc, as_author, story.story_id, {"channel": "other"})
    campaign_code = ""
    if story.campaign_id:
        try:
            campaign_link, _ = issue_link(svc, as_author, story.campaign_id, {"channel": "other"})
            campaign_code = campaign_link.code
        except (GoneError, NotFoundError):
            campaign_code = ""  # the campaign ended meanwhile: the story stands on its own
    saved = repo.save(replace(decided, code=link.code, campaign_code=campaign_code))
    if policy.approved_points > 0:
        tenant = svc.tenants.get(story.tenant_id)
        periods = period_keys(now, tenant.timezone)
        entry = LedgerEntry(
            tenant_id=story.tenant_id,
            source_key=f"st#{story.story_id}",
            employee_id=story.author,
            kind="story",
            points=policy.approved_points,
            ts=now,
            campaign_id=story.story_id,
            team=author.team,
            region=author.region,
            day=periods.day,
            week=periods.week,
            month=periods.month,
            source_id=story.story_id,
            meta={"by": principal.sub, "story": story.story_id},
        )
        cap_scope = f"story#{periods.month}" if policy.monthly_cap else None
        paid = svc.points.award(entry, cap_scope=cap_scope, cap=policy.monthly_cap)
        if paid is not False:
            points = policy.approved_points if paid else 0
            extra = {} if paid else {"capped": periods.month}
            try:
                saved = repo.save(replace(saved, points=points, extra={**saved.extra, **extra}))
            except ConflictError:
                log.info("story changed after approval; its points are in the ledger", extra={"story": story.story_id})
    story_cache.discard((saved.tenant_id, saved.story_id))
    return _view(saved, base_url, blobs, policy)


# ------------------------------------------------------------------ the public side


@dataclass(frozen=True, slots=True)
class StoryView:
    """What the public story page shows this visitor (``ripple.web.story_page``)."""

    lang: str
    author: str
    title: str
    text: str
    images: list[str]
    campaign_url: str | None
    share_url: str
    set_visitor_cookie: str | None


# (tenant, story id) -> the story as published; short TTL so a withdrawal shows within a minute
story_cache: TTLCache[tuple[str, str], tuple[Story | None, str]] = TTLCache(max_size=5_000, ttl_seconds=60.0)


def _published(svc: Services, tenant_id: str, story_id: str) -> tuple[Story | None, str]:
    key = (tenant_id, story_id)
    hit = story_cache.get(key)
    if hit is not None:
        return hit
    story = _repo(svc).get(tenant_id, story_id)
    author = svc.employees.get(tenant_id, story.author) if story is not None else None
    value = (story, author.name if author is not None and author.active else "")
    story_cache.set(key, value)
    return value


def _story_link(svc: Services, code: str) -> Any:
    link = _lookup(svc, code)
    if not is_story_campaign(link.campaign_id):
        raise NotFoundError("no such story")
    return link


def visit_story(
    svc: Services, req: VisitRequest, *, base_url: str, accept_language: str, query_lang: str | None
) -> StoryView:
    """Record the view (like a landing page) and say what the page shows. A withdrawn story,
    or one whose author was offboarded, is gone (410) and credits nobody."""
    from ripple.domain.landing import LANGUAGES, negotiate_language

    link = _story_link(svc, req.code)
    story, author_name = _published(svc, link.tenant_id, link.campaign_id)
    if story is None or story.status != "approved" or not author_name:
        raise GoneError("this story is no longer shared")
    rec = record_visit(svc, replace(req, surface="story"))
    token = rec.child_token or ""
    cookie = None
    if rec.identity is not None and rec.identity.new_cookie and rec.decision is not Decision.BOT:
        cookie = rec.identity.cookie_value
    base = base_url.rstrip("/")
    return StoryView(
        lang=negotiate_language(accept_language, query_lang, LANGUAGES, "en"),
        author=author_name,
        title=story.title,
        text=story.text,
        images=[f"{base}/story/{link.code}/images/{i}" for i in range(len(story.images))],
        campaign_url=f"{base}/{story.campaign_code}" if story.campaign_code else None,
        share_url=f"{base}/s/{token}" if token else f"{base}/story/{link.code}",
        set_visitor_cookie=cookie,
    )


def story_image_key(svc: Services, code: str, index: str) -> str:
    """The S3 key of a published story's image (404 otherwise)."""
    link = _story_link(svc, code)
    story, author_name = _published(svc, link.tenant_id, link.campaign_id)
    if story is None or story.status != "approved" or not author_name:
        raise NotFoundError("no such image")
    if not index.isdigit() or int(index) >= len(story.images):
        raise NotFoundError("no such image")
    return story.images[int(index)]
