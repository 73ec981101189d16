"""SCIM 2.0 provisioning use cases: the tenant's token, Users ↔ employees, Groups ↔ teams.

Every change to an employee goes through the employee use cases — ``upsert_employee`` (what
``PUT /admin/employees/{id}`` calls), ``offboard_employee`` (handover to the lead pool) and
``reactivate_employee`` — acting as the tenant's admin ``scim``, so whatever those do (the
identity provider's user, invitations) happens for provisioned people too. The SCIM state
itself (profiles, userName claims, groups) is ``adapters.scim``.

Order of writes, so a refused request leaves nothing half-created: the profile (which claims
the userName) is written first, then the employee; if the employee use case refuses (an
e-mail another employee has), the new profile is deleted again and the error answered.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from typing import Any

from ripple.domain.errors import ConflictError, NotFoundError, RippleError
from ripple.domain.model import Employee, Role
from ripple.domain.scim import (
    ENTERPRISE,
    GROUP_SCHEMA,
    LIST_SCHEMA,
    NO_TEAM,
    USER_SCHEMA,
    ScimError,
    apply_patch,
    derive_employee,
    employee_id_for,
    parse_filter,
    parse_paging,
    team_id_for,
    validate_group,
    validate_user,
)
from ripple.domain.timeutil import ms_to_iso
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = [
    "authenticate_scim",
    "create_group",
    "create_user",
    "delete_group",
    "delete_user",
    "get_group",
    "get_user",
    "list_groups",
    "list_users",
    "patch_group",
    "patch_user",
    "replace_group",
    "replace_user",
    "rotate_token",
    "token_status",
]

TOKEN_PREFIX = "rpscim1"


def _store() -> Any:
    from ripple.adapters.scim import DynamoScim

    return DynamoScim()


# ------------------------------------------------------------------ the token


def rotate_token(svc: Services, principal: Principal) -> dict[str, Any]:
    """A new SCIM bearer token for the caller's tenant; the previous one stops working now.
    The token is in this answer only: Ripple keeps its SHA-256."""
    require_role(principal, Role.ADMIN)
    tenant = base64.urlsafe_b64encode(principal.tenant_id.encode()).decode().rstrip("=")
    token = f"{TOKEN_PREFIX}.{tenant}.{secrets.token_urlsafe(32)}"
    now = svc.clock()
    _store().set_token(principal.tenant_id, token, now, principal.sub)
    return {"token": token, "issued_at": ms_to_iso(now), "scim_base_path": "/scim/v2"}


def token_status(svc: Services, principal: Principal) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    info = _store().token_info(principal.tenant_id)
    if info is None:
        return {"configured": False, "issued_at": None, "issued_by": None}
    return {"configured": True, "issued_at": ms_to_iso(info["issued_at"]), "issued_by": info["issued_by"]}


def authenticate_scim(header: str | None) -> Principal:
    """The tenant's admin acting through SCIM, from ``Authorization: Bearer <token>``; 401 in
    SCIM's error schema for anything else."""
    denied = ScimError(401, "a valid SCIM bearer token is required")
    if not header or not header.lower().startswith("bearer "):
        raise denied
    token = header[7:].strip()
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(token) > 512:
        raise denied
    try:
        tenant_id = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise denied from exc
    from ripple.domain.validation import check_id

    try:
        check_id(tenant_id, "tenant")
    except RippleError as exc:
        raise denied from exc
    if not _store().token_matches(tenant_id, token):
        raise denied
    return Principal(tenant_id=tenant_id, sub="scim", role=Role.ADMIN)


# ------------------------------------------------------------------ rendering


def _meta(kind: str, base: str, rid: str, created: int, modified: int, version: int | None = None) -> dict[str, Any]:
    out = {
        "resourceType": kind,
        "created": ms_to_iso(created),
        "lastModified": ms_to_iso(modified),
        "location": f"{base}/{kind}s/{rid}",
    }
    if version is not None:
        out["version"] = f'W/"{version}"'
    return out


def _user(item: Any, employee: Employee | None, base: str) -> dict[str, Any]:
    profile = json.loads(item.profile)
    active = bool(employee.active) if employee else False
    # ``active`` shows the employee's state when the directory manages it (has set it); a
    # PATCH removing it changes nothing in Ripple (neither offboards nor reactivates) and the
    # attribute is then absent, as RFC 7644 §3.5.2.2 says a removed attribute is
    if "active" in profile:
        profile["active"] = active
    schemas = [USER_SCHEMA] + ([ENTERPRISE] if ENTERPRISE in profile else [])
    return {
        "schemas": schemas,
        "id": item.employee_id,
        **profile,
        "meta": _meta("User", base, item.employee_id, int(item.created_at), int(item.updated_at), int(item.version)),
    }


def _group(item: Any, base: str) -> dict[str, Any]:
    members = json.loads(item.members or "[]")
    out: dict[str, Any] = {"schemas": [GROUP_SCHEMA], "id": item.group_id, "displayName": item.display_name}
    if item.external_id:
        out["externalId"] = item.external_id
    if members:
        out["members"] = [{"value": m, "$ref": f"{base}/Users/{m}", "type": "User"} for m in members]
    out["meta"] = _meta("Group", base, item.group_id, int(item.created_at), int(item.updated_at))
    return out


def _project(resource: dict[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    """``attributes`` / ``excludedAttributes`` (RFC 7644 §3.9) on top-level attributes and
    extension URNs (``name.givenName`` selects or drops ``name`` as a whole for
    ``attributes``, only the sub-attribute for ``excludedAttributes``); ``id`` and
    ``schemas`` are always returned."""

    def names(raw: str) -> list[str]:
        return [n.strip() for n in raw.split(",") if n.strip()]

    def top(name: str) -> tuple[str, str | None]:
        for urn in (USER_SCHEMA, GROUP_SCHEMA):
            if name.lower().startswith(urn.lower() + ":"):
                name = name[len(urn) + 1 :]
        if name.lower().startswith(ENTERPRISE.lower()):
            rest = name[len(ENTERPRISE) + 1 :]
            return ENTERPRISE, rest or None
        head, _, sub = name.partition(".")
        return head, sub or None

    def match(key: str, wanted: str) -> bool:
        return key.lower() == wanted.lower()

    include = names(query.get("attributes", ""))
    exclude = names(query.get("excludedAttributes", ""))
    out = dict(resource)
    if include:
        keep = {top(n)[0].lower() for n in include} | {"id", "schemas"}
        out = {k: v for k, v in out.items() if k.lower() in keep}
    for name in exclude:
        head, sub = top(name)
        if head.lower() in ("id", "schemas"):
            continue
        key = next((k for k in out if match(k, head)), None)
        if key is None:
            continue
        if sub and isinstance(out[key], dict):
            out[key] = {k: v for k, v in out[key].items() if not match(k, sub)}
        else:
            del out[key]
    return out


def _listing(resources: list[dict[str, Any]], start: int, count: int, total: int) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


# ------------------------------------------------------------------ users


def _admin(principal: Principal) -> Principal:
    require_role(principal, Role.ADMIN)
    return principal


def _conflict(exc: RippleError) -> ScimError:
    return ScimError(409, exc.message, "uniqueness")


def _apply_employee(
    svc: Services, principal: Principal, employee_id: str, profile: Mapping[str, Any], current: Employee | None
) -> None:
    """The employee the profile describes, through the employee use cases."""
    from ripple.service.admin import reactivate_employee, upsert_employee

    derived = derive_employee(profile)
    body: dict[str, Any] = {
        "name": derived["name"],
        "team": derived["team"] or (current.team if current else NO_TEAM),
        "region": current.region if current else NO_TEAM,
    }
    if derived["email"]:
        body["email"] = derived["email"]
    upsert_employee(svc, principal, employee_id, body)
    active = profile.get("active")
    employee = svc.employees.get(principal.tenant_id, employee_id)
    if employee is None:  # pragma: no cover - upsert_employee just wrote it
        raise NotFoundError(f"employee {employee_id} not found")
    if active is False and employee.active:
        from ripple.service.customers import offboard_employee

        offboard_employee(svc, principal, employee_id, {"to": "pool"})
    elif active is True and not employee.active:
        reactivate_employee(svc, principal, employee_id)


def _new_employee_id(svc: Services, principal: Principal, profile: Mapping[str, Any]) -> str:
    """The employee a new SCIM user becomes: the one who already has its e-mail (staff
    imported by CSV before the directory was connected) unless the directory already
    manages them, else a fresh id from the userName."""
    store = _store()
    email = derive_employee(profile)["email"]
    if email:
        owner = svc.employees.owners_of_emails(principal.tenant_id, [email]).get(email)
        if owner is not None:
            if store.get_user(principal.tenant_id, owner) is not None:
                raise ScimError(409, f"{email} belongs to another provisioned user", "uniqueness")
            return owner
    base = employee_id_for(str(profile["userName"]))
    for attempt in range(20):
        candidate = base if attempt == 0 else f"{base[:58]}-{attempt + 1}"
        if attempt >= 10:
            candidate = f"{base[:50]}-{secrets.token_hex(4)}"
        if svc.employees.get(principal.tenant_id, candidate) is None:
            return candidate
    raise ScimError(409, "could not allocate an employee id for this userName", "uniqueness")  # pragma: no cover


def create_user(svc: Services, principal: Principal, body: Any, base: str) -> dict[str, Any]:
    from ripple.adapters.scim import UserNameTaken

    principal = _admin(principal)
    profile = validate_user(body)
    store = _store()
    if store.id_for_user_name(principal.tenant_id, profile["userName"]) is not None:
        raise ScimError(409, f"userName {profile['userName']} is taken", "uniqueness")
    employee_id = _new_employee_id(svc, principal, profile)
    current = svc.employees.get(principal.tenant_id, employee_id)
    try:
        item = store.save_user(principal.tenant_id, employee_id, profile, svc.clock(), None)
    except UserNameTaken as exc:
        raise ScimError(409, f"userName {profile['userName']} is taken", "uniqueness") from exc
    try:
        _apply_employee(svc, principal, employee_id, profile, current)
    except ConflictError as exc:
        store.delete_user(item)
        raise _conflict(exc) from exc
    except RippleError:
        store.delete_user(item)
        raise
    return _user(item, svc.employees.get(principal.tenant_id, employee_id), base)


def _existing_user(svc: Services, principal: Principal, user_id: str) -> Any:
    from ripple.domain.validation import check_id

    try:
        check_id(user_id, "id")
    except RippleError as exc:
        raise ScimError(404, f"no user {user_id}") from exc
    item = _store().get_user(principal.tenant_id, user_id)
    if item is None:
        raise ScimError(404, f"no user {user_id}")
    return item


def get_user(svc: Services, principal: Principal, user_id: str, base: str, query: Mapping[str, str]) -> dict[str, Any]:
    principal = _admin(principal)
    item = _existing_user(svc, principal, user_id)
    return _project(_user(item, svc.employees.get(principal.tenant_id, user_id), base), query)


def _save(svc: Services, principal: Principal, item: Any, profile: dict[str, Any], base: str) -> dict[str, Any]:
    from ripple.adapters.scim import UserNameTaken

    store = _store()
    current = svc.employees.get(principal.tenant_id, item.employee_id)
    derived = derive_employee(profile)
    if derived["email"] and (current is None or derived["email"] != current.email):
        owner = svc.employees.owners_of_emails(principal.tenant_id, [derived["email"]]).get(derived["email"])
        if owner is not None and owner != item.employee_id:
            raise ScimError(409, f"{derived['email']} already belongs to employee {owner}", "uniqueness")
    try:
        saved = store.save_user(principal.tenant_id, item.employee_id, profile, svc.clock(), item)
    except UserNameTaken as exc:
        raise ScimError(409, f"userName {profile['userName']} is taken", "uniqueness") from exc
    try:
        _apply_employee(svc, principal, item.employee_id, profile, current)
    except ConflictError as exc:
        raise _conflict(exc) from exc
    return _user(saved, svc.employees.get(principal.tenant_id, item.employee_id), base)


def replace_user(svc: Services, principal: Principal, user_id: str, body: Any, base: str) -> dict[str, Any]:
    principal = _admin(principal)
    item = _existing_user(svc, principal, user_id)
    return _save(svc, principal, item, validate_user(body), base)


def patch_user(svc: Services, principal: Principal, user_id: str, body: Any, base: str) -> dict[str, Any]:
    principal = _admin(principal)
    item = _existing_user(svc, principal, user_id)
    employee = svc.employees.get(principal.tenant_id, user_id)
    current = {**json.loads(item.profile), "active": bool(employee.active) if employee else False}
    patched = apply_patch(current, body)
    return _save(svc, principal, item, validate_user(patched), base)


def delete_user(svc: Services, principal: Principal, user_id: str) -> None:
    """Offboards the employee (customers to the pool; their history stays) and forgets the
    SCIM user: a GET answers 404 afterwards, a new POST with the userName starts over."""
    from ripple.service.customers import offboard_employee

    principal = _admin(principal)
    item = _existing_user(svc, principal, user_id)
    employee = svc.employees.get(principal.tenant_id, user_id)
    if employee is not None and employee.active:
        offboard_employee(svc, principal, user_id, {"to": "pool"})
    _store().delete_user(item)


def list_users(svc: Services, principal: Principal, query: Mapping[str, str], base: str) -> dict[str, Any]:
    principal = _admin(principal)
    _reject_params(query)
    start, count = parse_paging(query)
    wanted = parse_filter(query.get("filter"))
    store = _store()
    if wanted is not None and wanted[0] in ("userName", "id"):
        attr, value = wanted
        user_id = store.id_for_user_name(principal.tenant_id, value) if attr == "userName" else value
        item = store.get_user(principal.tenant_id, user_id) if user_id else None
        items = [item] if item is not None else []
    else:
        items = list(store.users(principal.tenant_id))
        if wanted is not None:
            attr, value = wanted
            items = [i for i in items if _user_attr(i, attr) == value]
    total = len(items)
    page = items[start - 1 : start - 1 + count]
    employees = svc.employees.batch_get((principal.tenant_id, i.employee_id) for i in page)
    resources = [_project(_user(i, employees.get((principal.tenant_id, i.employee_id)), base), query) for i in page]
    return _listing(resources, start, count, total)


def _user_attr(item: Any, attr: str) -> Any:
    if attr == "externalId":
        return item.external_id
    return json.loads(item.profile).get(attr)


def _reject_params(query: Mapping[str, str]) -> None:
    unknown = sorted(set(query) - {"filter", "startIndex", "count", "attributes", "excludedAttributes"})
    if unknown:
        raise ScimError(400, f"unknown query parameter(s): {', '.join(unknown)}", "invalidValue")


# ------------------------------------------------------------------ groups


def _existing_group(principal: Principal, group_id: str) -> Any:
    item = _store().get_group(principal.tenant_id, group_id)
    if item is None:
        raise ScimError(404, f"no group {group_id}")
    return item


def _members(svc: Services, principal: Principal, group: Mapping[str, Any]) -> list[str]:
    ids = []
    for member in group.get("members") or []:
        value = str(member["value"])
        if value not in ids:
            ids.append(value)
    if ids:
        found = svc.employees.batch_get((principal.tenant_id, i) for i in ids)
        missing = [i for i in ids if (principal.tenant_id, i) not in found]
        if missing:
            raise ScimError(400, f"no such user(s): {', '.join(missing[:10])}", "invalidValue")
    return ids


def _set_team(svc: Services, principal: Principal, employee_ids: list[str], team: str, only_from: str | None) -> None:
    """Move employees into ``team`` through ``upsert_employee``; ``only_from``: only those
    still in that team (a member removed from a group they already left keeps their team)."""
    from ripple.service.admin import upsert_employee

    for employee in svc.employees.batch_get((principal.tenant_id, i) for i in employee_ids).values():
        if only_from is not None and employee.team != only_from:
            continue
        if employee.team == team:
            continue
        upsert_employee(
            svc, principal, employee.employee_id, {"name": employee.name, "team": team, "region": employee.region}
        )


def create_group(svc: Services, principal: Principal, body: Any, base: str) -> dict[str, Any]:
    from ripple.adapters.scim import ScimGroupItem

    principal = _admin(principal)
    group = validate_group(body)
    members = _members(svc, principal, group)
    now = svc.clock()
    item = ScimGroupItem(
        tenant=principal.tenant_id,
        group_id=team_id_for(group["displayName"]),
        display_name=group["displayName"],
        external_id=group.get("externalId"),
        members=json.dumps(members),
        created_at=now,
        updated_at=now,
    )
    if not _store().create_group(item):
        raise ScimError(409, f"a group named {group['displayName']} exists", "uniqueness")
    _set_team(svc, principal, members, item.group_id, None)
    return _group(item, base)


def get_group(
    svc: Services, principal: Principal, group_id: str, base: str, query: Mapping[str, str]
) -> dict[str, Any]:
    principal = _admin(principal)
    return _project(_group(_existing_group(principal, group_id), base), query)


def _save_group(svc: Services, principal: Principal, item: Any, group: dict[str, Any], base: str) -> dict[str, Any]:
    before = json.loads(item.members or "[]")
    members = _members(svc, principal, group)
    item.display_name = group["displayName"]
    item.external_id = group.get("externalId")
    item.members = json.dumps(members)
    item.updated_at = svc.clock()
    _store().save_group(item)
    _set_team(svc, principal, [m for m in members if m not in before], item.group_id, None)
    _set_team(svc, principal, [m for m in before if m not in members], NO_TEAM, item.group_id)
    return _group(item, base)


def replace_group(svc: Services, principal: Principal, group_id: str, body: Any, base: str) -> dict[str, Any]:
    principal = _admin(principal)
    item = _existing_group(principal, group_id)
    return _save_group(svc, principal, item, validate_group(body), base)


def patch_group(svc: Services, principal: Principal, group_id: str, body: Any, base: str) -> dict[str, Any]:
    principal = _admin(principal)
    item = _existing_group(principal, group_id)
    current = {k: v for k, v in _group(item, base).items() if k not in ("schemas", "id", "meta")}
    patched = apply_patch(current, body)
    return _save_group(svc, principal, item, validate_group(patched), base)


def delete_group(svc: Services, principal: Principal, group_id: str) -> None:
    principal = _admin(principal)
    item = _existing_group(principal, group_id)
    _set_team(svc, principal, json.loads(item.members or "[]"), NO_TEAM, item.group_id)
    _store().delete_group(item)


def list_groups(svc: Services, principal: Principal, query: Mapping[str, str], base: str) -> dict[str, Any]:
    principal = _admin(principal)
    _reject_params(query)
    start, count = parse_paging(query)
    wanted = parse_filter(query.get("filter"))
    items = list(_store().groups(principal.tenant_id))
    if wanted is not None:
        attr, value = wanted
        if attr == "userName":
            raise ScimError(400, "groups have no userName", "invalidFilter")
        key = {"displayName": "display_name", "externalId": "external_id", "id": "group_id"}[attr]
        items = [i for i in items if getattr(i, key) == value]
    total = len(items)
    page = items[start - 1 : start - 1 + count]
    return _listing([_project(_group(i, base), query) for i in page], start, count, total)
