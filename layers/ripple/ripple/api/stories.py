"""Employees' stories (write, check, submit, withdraw) and their review, with the tenant's
content policy. The public story page is a visitor page (``ripple.api.visitors``)."""

from __future__ import annotations

from typing import Any

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    current_request,
    json_body,
    poster_deps,
    public_base,
    query_params,
    raw_bytes,
)
from ripple.domain.model import Role
from ripple.service.auth import Principal

__all__ = ["stories"]

stories = Area("stories")

_IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"]


def _ctx() -> dict[str, Any]:
    return {"base_url": public_base(bootstrap.config().public_base_url), "blobs": poster_deps().blobs}


@stories.route("/me/stories", methods=["GET"], auth=Auth.USER)
def get_my_stories(principal: Principal) -> Any:
    """My stories, newest first (``?limit=&cursor=``)."""
    from ripple.service.stories import my_stories

    return my_stories(bootstrap.services(), principal, query_params(), **_ctx())


@stories.route("/me/stories", methods=["POST"], auth=Auth.USER, status=201)
def post_my_story(principal: Principal) -> Any:
    """A new draft: title, text, optional campaign and whether it is paid (sponsored)."""
    from ripple.service.stories import create_story

    return create_story(bootstrap.services(), principal, json_body(), **_ctx())


@stories.route("/me/stories/check", methods=["POST"], auth=Auth.USER)
def post_story_check(principal: Principal) -> Any:
    """What the content policy finds in a story as it is typed (nothing is saved)."""
    from ripple.service.stories import check_story

    return check_story(bootstrap.services(), principal, json_body())


@stories.route("/me/stories/{story_id}", methods=["GET"], auth=Auth.USER)
def get_my_story(principal: Principal, story_id: str) -> Any:
    """One of my stories, with what the policy finds in it today."""
    from ripple.service.stories import get_my_story as use_case

    return use_case(bootstrap.services(), principal, story_id, **_ctx())


@stories.route("/me/stories/{story_id}", methods=["PATCH"], auth=Auth.USER)
def patch_my_story(principal: Principal, story_id: str) -> Any:
    """Change a draft or a rejected story (the fields given)."""
    from ripple.service.stories import update_story

    return update_story(bootstrap.services(), principal, story_id, json_body(), **_ctx())


@stories.route("/me/stories/{story_id}", methods=["DELETE"], auth=Auth.USER)
def delete_my_story(principal: Principal, story_id: str) -> Any:
    """Delete a story that never went public (and its images)."""
    from ripple.service.stories import delete_story

    delete_story(bootstrap.services(), principal, story_id, poster_deps().blobs)
    return {"deleted": story_id}


@stories.route("/me/stories/{story_id}/submit", methods=["POST"], auth=Auth.USER)
def post_story_submit(principal: Principal, story_id: str) -> Any:
    """Send it to review (422 listing every finding while the policy finds any)."""
    from ripple.service.stories import submit_story

    return submit_story(bootstrap.services(), principal, story_id, **_ctx())


@stories.route("/me/stories/{story_id}/withdraw", methods=["POST"], auth=Auth.USER)
def post_story_withdraw(principal: Principal, story_id: str) -> Any:
    """Take a pending or published story back."""
    from ripple.service.stories import withdraw_story

    return withdraw_story(bootstrap.services(), principal, story_id, **_ctx())


@stories.route(
    "/me/stories/{story_id}/images", methods=["POST"], auth=Auth.USER, status=201, content_types=_IMAGE_TYPES
)
def post_story_image(principal: Principal, story_id: str) -> Any:
    """Add an image (the raw JPEG, PNG or WebP is the body, at most 5 MB; nine at most)."""
    from ripple.service.stories import add_story_image

    request = current_request()
    return add_story_image(
        bootstrap.services(),
        poster_deps(),
        principal,
        story_id,
        raw_bytes(),
        request.headers.get("content-type") or "",
        base_url=public_base(bootstrap.config().public_base_url),
    )


@stories.route("/me/stories/{story_id}/images/{index}", methods=["DELETE"], auth=Auth.USER)
def delete_story_image(principal: Principal, story_id: str, index: str) -> Any:
    """Remove an image (``index`` from 0, in reading order)."""
    from ripple.service.stories import delete_story_image as use_case

    return use_case(
        bootstrap.services(),
        poster_deps(),
        principal,
        story_id,
        index,
        base_url=public_base(bootstrap.config().public_base_url),
    )


@stories.route("/admin/stories", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_story_queue(principal: Principal) -> Any:
    """Stories by review state (``?status=pending`` by default, oldest first)."""
    from ripple.service.stories import review_queue

    return review_queue(bootstrap.services(), principal, query_params(), **_ctx())


@stories.route("/admin/stories/{story_id}", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_story_for_review(principal: Principal, story_id: str) -> Any:
    """One submitted story, with what the policy finds in it today."""
    from ripple.service.stories import get_story_for_review as use_case

    return use_case(bootstrap.services(), principal, story_id, **_ctx())


@stories.route("/admin/stories/{story_id}", methods=["PATCH"], auth=Auth.USER, role=Role.ADMIN)
def patch_story_as_reviewer(principal: Principal, story_id: str) -> Any:
    """A reviewer's edit of a pending story before approving it (the story says so)."""
    from ripple.service.stories import edit_story_as_reviewer

    return edit_story_as_reviewer(bootstrap.services(), principal, story_id, json_body(), **_ctx())


@stories.route("/admin/stories/{story_id}/approve", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def post_story_approve(principal: Principal, story_id: str) -> Any:
    """Publish it through the author's link, and pay the policy's points once."""
    from ripple.service.stories import approve_story

    return approve_story(bootstrap.services(), principal, story_id, json_body(), **_ctx())


@stories.route("/admin/stories/{story_id}/reject", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def post_story_reject(principal: Principal, story_id: str) -> Any:
    """Send it back to the author with a reason."""
    from ripple.service.stories import reject_story

    return reject_story(bootstrap.services(), principal, story_id, json_body(), **_ctx())


@stories.route("/admin/content-policy", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_content_policy(principal: Principal) -> Any:
    """The tenant's rules for stories."""
    from ripple.service.stories import get_policy

    return get_policy(bootstrap.services(), principal)


@stories.route("/admin/content-policy", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_content_policy(principal: Principal) -> Any:
    """Replace the tenant's rules for stories: banned words, the paid disclosure, points."""
    from ripple.service.stories import put_policy

    return put_policy(bootstrap.services(), principal, json_body())
