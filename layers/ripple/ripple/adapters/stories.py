"""Employees' stories and the tenant's content policy over PynamoDB (main table).

A story is one item, read and written whole as JSON, every write conditional on the version
it was read at: an author editing while an admin decides gets a 409, never a lost update.
Its index keys move with its status, so the review queue is one Query per state.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace

from pynamodb.exceptions import DoesNotExist, PutError

from ripple.adapters.models import StoryItem
from ripple.domain.errors import ConflictError
from ripple.domain.stories import ContentPolicy, Story

__all__ = ["DynamoStories"]

_STORY_FIELDS = {f.name for f in fields(Story)}


def _story(item: object) -> Story:
    # index queries may hand back the base model: read the raw attributes, not the fields
    values = getattr(item, "attribute_values", {})
    data = json.loads(values.get("data") or "{}")
    data = {k: v for k, v in data.items() if k in _STORY_FIELDS}
    data["images"] = tuple(data.get("images") or ())
    data["extra"] = dict(data.get("extra") or {})
    data["version"] = int(values.get("version") or 0)
    return Story(**data)


class DynamoStories:
    def get(self, tenant_id: str, story_id: str) -> Story | None:
        try:
            return _story(StoryItem.get(StoryItem.key(tenant_id, story_id), consistent_read=True))
        except DoesNotExist:
            return None

    def save(self, story: Story) -> Story:
        """Write ``story`` if nobody wrote it since ``story.version`` (0: it must be new);
        returns it at its new version, or raises ConflictError."""
        data = asdict(story)
        data.pop("version", None)
        data["images"] = list(story.images)
        submitted = story.submitted_at or story.created_at
        item = StoryItem(
            StoryItem.key(story.tenant_id, story.story_id),
            data=json.dumps(data, ensure_ascii=False),
            version=story.version + 1,
            gsi1pk=StoryItem.queue(story.tenant_id, story.status),
            gsi1sk=f"{submitted:013d}#{story.story_id}",
            gsi2pk=StoryItem.by_author(story.tenant_id, story.author),
            gsi2sk=f"{story.created_at:013d}#{story.story_id}",
        )
        condition = StoryItem.pk.does_not_exist() if story.version == 0 else StoryItem.version == story.version
        try:
            item.save(condition=condition)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise ConflictError("the story changed meanwhile: reload it and try again") from exc
            raise
        return replace(story, version=story.version + 1)

    def delete(self, story: Story) -> None:
        from pynamodb.exceptions import DeleteError

        try:
            StoryItem(StoryItem.key(story.tenant_id, story.story_id)).delete(
                condition=StoryItem.version == story.version
            )
        except DeleteError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise ConflictError("the story changed meanwhile: reload it and try again") from exc
            raise

    def by_author(self, tenant_id: str, author: str, limit: int, cursor: str | None) -> tuple[list[Story], str | None]:
        """An author's stories, newest first."""
        return self._page(StoryItem.by_owner, StoryItem.by_author(tenant_id, author), False, limit, cursor)

    def queue(self, tenant_id: str, status: str, limit: int, cursor: str | None) -> tuple[list[Story], str | None]:
        """The tenant's stories in one state, oldest submission first."""
        return self._page(StoryItem.by_tenant, StoryItem.queue(tenant_id, status), True, limit, cursor)

    def _page(
        self, index: object, hash_key: str, forward: bool, limit: int, cursor: str | None
    ) -> tuple[list[Story], str | None]:
        start = None
        if cursor:
            pk, sort = cursor.split("|", 1)
            attr = "gsi1" if index is StoryItem.by_tenant else "gsi2"
            start = {"pk": {"S": pk}, f"{attr}pk": {"S": hash_key}, f"{attr}sk": {"S": sort}}
        query = index.query  # type: ignore[attr-defined]
        result = query(hash_key, scan_index_forward=forward, limit=limit, last_evaluated_key=start)
        stories = [_story(item) for item in result]  # both indexes project every attribute
        last = result.last_evaluated_key
        if not last:
            return stories, None
        attr = "gsi1sk" if index is StoryItem.by_tenant else "gsi2sk"
        return stories, f"{last['pk']['S']}|{last[attr]['S']}"

    def policy(self, tenant_id: str) -> ContentPolicy:
        try:
            item = StoryItem.get(StoryItem.policy_key(tenant_id))
        except DoesNotExist:
            return ContentPolicy()
        data = json.loads(item.data or "{}")
        return ContentPolicy(
            banned_words=tuple(data.get("banned_words") or ()),
            disclosure=str(data.get("disclosure", "#PR")),
            approved_points=int(data.get("approved_points", 0)),
            monthly_cap=int(data.get("monthly_cap", 0)),
        )

    def put_policy(self, tenant_id: str, policy: ContentPolicy) -> None:
        data = {
            "banned_words": list(policy.banned_words),
            "disclosure": policy.disclosure,
            "approved_points": policy.approved_points,
            "monthly_cap": policy.monthly_cap,
        }
        StoryItem(StoryItem.policy_key(tenant_id), data=json.dumps(data, ensure_ascii=False)).save()
