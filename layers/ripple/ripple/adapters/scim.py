"""SCIM state in the main table: the tenant's token (hashed), user profiles, groups.

* ``SCIMTOKEN#tenant`` — SHA-256 of the tenant's bearer token and when it was issued. The
  token names its tenant (``scim_<tenant>_<secret>``), so checking one is one GetItem and
  a constant-time compare; rotating overwrites the hash, so the old token stops at once.
* ``SCIMUSER#tenant#employee`` — the attributes the directory wrote (JSON), its created
  time and version; GSI ``by-tenant`` ``<tenant>#SCIMUSER`` lists them in id order.
* ``SCIMNAME#tenant#<lower userName>`` — makes ``userName`` unique (a conditional put in the
  profile's transaction) and answers ``filter=userName eq "…"`` with one GetItem.
* ``SCIMGROUP#tenant#team`` — a group: display name, members (JSON), created time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from ripple.adapters.models import MainItem

__all__ = ["DynamoScim", "UserNameTaken"]


class UserNameTaken(Exception):
    pass


class ScimTokenItem(MainItem):
    digest = UnicodeAttribute()
    issued_at = NumberAttribute(default=0)
    issued_by = UnicodeAttribute(default="")

    @staticmethod
    def key(tenant_id: str) -> str:
        return f"SCIMTOKEN#{tenant_id}"


class ScimUserItem(MainItem):
    tenant = UnicodeAttribute()
    employee_id = UnicodeAttribute()
    user_name = UnicodeAttribute()
    external_id = UnicodeAttribute(null=True)
    profile = UnicodeAttribute()  # JSON of the client's attributes
    created_at = NumberAttribute(default=0)
    updated_at = NumberAttribute(default=0)
    version = NumberAttribute(default=1)

    @staticmethod
    def key(tenant_id: str, employee_id: str) -> str:
        return f"SCIMUSER#{tenant_id}#{employee_id}"


class ScimNameItem(MainItem):
    employee_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, user_name: str) -> str:
        return f"SCIMNAME#{tenant_id}#{user_name.lower()}"


class ScimGroupItem(MainItem):
    tenant = UnicodeAttribute()
    group_id = UnicodeAttribute()
    display_name = UnicodeAttribute()
    external_id = UnicodeAttribute(null=True)
    members = UnicodeAttribute(default="[]")  # JSON list of employee ids
    created_at = NumberAttribute(default=0)
    updated_at = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, group_id: str) -> str:
        return f"SCIMGROUP#{tenant_id}#{group_id}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _connection() -> Any:
    from ripple.adapters.repositories import _connection as shared

    return shared()


class DynamoScim:
    # ------------------------------------------------------------- token
    def set_token(self, tenant_id: str, token: str, now: int, by: str) -> None:
        ScimTokenItem(ScimTokenItem.key(tenant_id), digest=_digest(token), issued_at=now, issued_by=by).save()

    def token_info(self, tenant_id: str) -> dict[str, Any] | None:
        try:
            item = ScimTokenItem.get(ScimTokenItem.key(tenant_id))
        except DoesNotExist:
            return None
        return {"issued_at": int(item.issued_at or 0), "issued_by": item.issued_by}

    def token_matches(self, tenant_id: str, token: str) -> bool:
        try:
            item = ScimTokenItem.get(ScimTokenItem.key(tenant_id))
        except DoesNotExist:
            return False
        return hmac.compare_digest(item.digest, _digest(token))

    # ------------------------------------------------------------- users
    def get_user(self, tenant_id: str, employee_id: str) -> ScimUserItem | None:
        try:
            item = ScimUserItem.get(ScimUserItem.key(tenant_id, employee_id), consistent_read=True)
        except DoesNotExist:
            return None
        return item if item.tenant == tenant_id else None

    def id_for_user_name(self, tenant_id: str, user_name: str) -> str | None:
        try:
            return str(ScimNameItem.get(ScimNameItem.key(tenant_id, user_name), consistent_read=True).employee_id)
        except DoesNotExist:
            return None

    def save_user(
        self,
        tenant_id: str,
        employee_id: str,
        profile: dict[str, Any],
        now: int,
        previous: ScimUserItem | None,
    ) -> ScimUserItem:
        """Create or replace the profile; claims the (new) userName in the same transaction
        and frees the old one. ``UserNameTaken`` if another user holds it."""
        user_name = str(profile["userName"])
        item = ScimUserItem(
            ScimUserItem.key(tenant_id, employee_id),
            gsi1pk=f"{tenant_id}#SCIMUSER",
            gsi1sk=employee_id,
            tenant=tenant_id,
            employee_id=employee_id,
            user_name=user_name,
            external_id=profile.get("externalId"),
            profile=json.dumps(profile, ensure_ascii=False, sort_keys=True),
            created_at=int(previous.created_at) if previous else now,
            updated_at=now,
            version=(int(previous.version) + 1) if previous else 1,
        )
        old_name = previous.user_name.lower() if previous else None
        try:
            with TransactWrite(connection=_connection()) as tx:
                if previous is None:
                    tx.save(item, condition=ScimUserItem.pk.does_not_exist())
                else:
                    tx.save(item, condition=ScimUserItem.version == int(previous.version))
                if old_name != user_name.lower():
                    tx.save(
                        ScimNameItem(ScimNameItem.key(tenant_id, user_name), employee_id=employee_id),
                        condition=ScimNameItem.pk.does_not_exist(),
                    )
                    if old_name is not None:
                        tx.delete(ScimNameItem(ScimNameItem.key(tenant_id, old_name)))
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            if len(reasons) > 1 and reasons[1] is not None and reasons[1].code == "ConditionalCheckFailed":
                raise UserNameTaken(user_name) from exc
            raise
        return item

    def delete_user(self, item: ScimUserItem) -> None:
        with TransactWrite(connection=_connection()) as tx:
            tx.delete(item)
            tx.delete(ScimNameItem(ScimNameItem.key(item.tenant, item.user_name)))

    def users(self, tenant_id: str) -> Iterable[ScimUserItem]:
        items: Iterable[ScimUserItem] = ScimUserItem.by_tenant.query(f"{tenant_id}#SCIMUSER")  # type: ignore[assignment]
        return items

    def users_by_ids(self, tenant_id: str, ids: Iterable[str]) -> dict[str, ScimUserItem]:
        keys = [ScimUserItem.key(tenant_id, i) for i in set(ids)]
        return {str(item.employee_id): item for item in ScimUserItem.batch_get(keys)}

    # ------------------------------------------------------------- groups
    def get_group(self, tenant_id: str, group_id: str) -> ScimGroupItem | None:
        try:
            item = ScimGroupItem.get(ScimGroupItem.key(tenant_id, group_id), consistent_read=True)
        except DoesNotExist:
            return None
        return item if item.tenant == tenant_id else None

    def create_group(self, item: ScimGroupItem) -> bool:
        item.pk = ScimGroupItem.key(item.tenant, item.group_id)
        item.gsi1pk = f"{item.tenant}#SCIMGROUP"
        item.gsi1sk = item.group_id
        try:
            item.save(condition=ScimGroupItem.pk.does_not_exist())
        except PutError:
            return False
        return True

    def save_group(self, item: ScimGroupItem) -> None:
        item.save()

    def delete_group(self, item: ScimGroupItem) -> None:
        item.delete()

    def groups(self, tenant_id: str) -> Iterable[ScimGroupItem]:
        items: Iterable[ScimGroupItem] = ScimGroupItem.by_tenant.query(f"{tenant_id}#SCIMGROUP")  # type: ignore[assignment]
        return items
