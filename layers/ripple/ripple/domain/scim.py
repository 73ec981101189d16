"""SCIM 2.0 (RFC 7643 resources, RFC 7644 protocol) rules, pure: no boto3, no HTTP.

What Ripple serves and how it maps onto employees:

* ``User`` (core schema + the enterprise extension) ↔ an employee. ``id`` is the employee id
  (derived from ``userName`` when new: ``alice@example.com`` → ``alice``). The client's
  attributes are kept as sent (the *profile*), so what a directory writes reads back the
  same; the employee is derived from them: ``name`` ← ``displayName`` | ``name.formatted``
  | given + family | ``userName``; ``email`` ← the primary (else first) ``emails`` value,
  else ``userName`` when it is an address; ``team`` ← the enterprise ``department`` (as a
  team id); ``active: false`` → offboarding with handover to the lead pool.
* ``Group`` ↔ a team: the group's id is the team id (from ``displayName`` at creation);
  members are employees, and adding one sets their team.
* Errors use the SCIM error schema with RFC 7644 §3.12 ``scimType`` values.

Only what is published in ``SCHEMAS`` is accepted (RFC 7643 §2: unknown attributes are an
``invalidSyntax``/``invalidValue`` error rather than silently dropped), and
``SERVICE_PROVIDER_CONFIG`` claims exactly what is implemented (PATCH and filter yes; bulk,
sort, ETags and password changes no).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from ripple.domain.errors import RippleError

__all__ = [
    "ENTERPRISE",
    "ERROR_SCHEMA",
    "GROUP_SCHEMA",
    "LIST_SCHEMA",
    "MAX_RESULTS",
    "PATCH_SCHEMA",
    "USER_SCHEMA",
    "ScimError",
    "apply_patch",
    "derive_employee",
    "employee_id_for",
    "parse_filter",
    "parse_paging",
    "resource_types",
    "schemas",
    "service_provider_config",
    "team_id_for",
    "validate_group",
    "validate_user",
]

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RT_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
MAX_RESULTS = 200  # a page of a list; larger ``count`` values are lowered to it (RFC 7644 §3.4.2.4)
NO_TEAM = "unassigned"  # team and region of a provisioned employee nobody placed yet


class ScimError(RippleError):
    """An error answered in SCIM's own schema (``status`` as a string, ``scimType``)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.scim_type = scim_type

    def to_scim(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(self.status), "detail": self.message}
        if self.scim_type:
            out["scimType"] = self.scim_type
        return out


# ------------------------------------------------------------------ schemas


def _attr(
    name: str,
    type_: str = "string",
    *,
    required: bool = False,
    multi: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    case_exact: bool = False,
    sub: list[dict[str, Any]] | None = None,
    description: str = "",
    canonical: list[str] | None = None,
    reference_types: list[str] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "description": description or name,
        "required": required,
        "mutability": mutability,
        "returned": returned,
    }
    if type_ in ("string", "reference"):
        out["caseExact"] = case_exact
        out["uniqueness"] = uniqueness
    if sub is not None:
        out["subAttributes"] = sub
    if canonical:
        out["canonicalValues"] = canonical
    if reference_types:
        out["referenceTypes"] = reference_types
    return out


_USER_ATTRS = [
    _attr("userName", required=True, uniqueness="server", description="Unique identifier for the user, e.g. e-mail"),
    _attr(
        "name",
        "complex",
        sub=[_attr("formatted"), _attr("familyName"), _attr("givenName")],
        description="The components of the user's name",
    ),
    _attr("displayName", description="The name shown in Ripple (leaderboards, posters)"),
    _attr(
        "emails",
        "complex",
        multi=True,
        sub=[
            _attr("value", description="E-mail address"),
            _attr("type", canonical=["work", "home", "other"]),
            _attr("primary", "boolean"),
        ],
        description="E-mail addresses; the primary one is the employee's",
    ),
    _attr("active", "boolean", description="false offboards the employee (customers handed to the pool)"),
]
_ENTERPRISE_ATTRS = [_attr("department", description="Ripple team (as a team id)")]
_GROUP_ATTRS = [
    _attr("displayName", required=True, uniqueness="server", description="Team name"),
    _attr(
        "members",
        "complex",
        multi=True,
        sub=[
            _attr("value", mutability="immutable", description="Member's id"),
            _attr("$ref", "reference", mutability="immutable", reference_types=["User"]),
            _attr("type", mutability="immutable", canonical=["User"]),
        ],
        description="The team's employees",
    ),
]


def _schema(urn: str, name: str, description: str, attributes: list[dict[str, Any]], base: str) -> dict[str, Any]:
    return {
        "schemas": [SCHEMA_SCHEMA],
        "id": urn,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": {"resourceType": "Schema", "location": f"{base}/Schemas/{urn}"},
    }


def schemas(base: str) -> list[dict[str, Any]]:
    return [
        _schema(USER_SCHEMA, "User", "Employee", copy.deepcopy(_USER_ATTRS), base),
        _schema(GROUP_SCHEMA, "Group", "Team", copy.deepcopy(_GROUP_ATTRS), base),
        _schema(ENTERPRISE, "EnterpriseUser", "Enterprise User", copy.deepcopy(_ENTERPRISE_ATTRS), base),
    ]


def resource_types(base: str) -> list[dict[str, Any]]:
    return [
        {
            "schemas": [RT_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "Employee",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": False}],
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/User"},
        },
        {
            "schemas": [RT_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Team",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": f"{base}/ResourceTypes/Group"},
        },
    ]


def service_provider_config(base: str) -> dict[str, Any]:
    return {
        "schemas": [SPC_SCHEMA],
        "documentationUri": "https://github.com/ripple/ripple#scim-20-provisioning",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "The tenant's SCIM token (POST /admin/scim/token), sent as Authorization: Bearer",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{base}/ServiceProviderConfig"},
    }


# ------------------------------------------------------------------ validation of resources


def _bad(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


def _known(attrs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a["name"].lower(): a for a in attrs}


def _check_value(attr: dict[str, Any], value: Any, where: str) -> Any:
    """One attribute value against its schema entry; returns it with canonical key case."""
    if value is None:
        return None
    if attr["multiValued"]:
        if not isinstance(value, list):
            raise _bad(f"{where} must be a list")
        single = {**attr, "multiValued": False}
        return [_check_value(single, v, f"{where}[{i}]") for i, v in enumerate(value)]
    kind = attr["type"]
    if kind == "complex":
        if not isinstance(value, dict):
            raise _bad(f"{where} must be an object")
        subs = _known(attr["subAttributes"])
        out = {}
        for key, sub_value in value.items():
            sub = subs.get(key.lower())
            if sub is None:
                raise _bad(f"{where}.{key} is not an attribute Ripple stores", "invalidSyntax")
            checked = _check_value(sub, sub_value, f"{where}.{sub['name']}")
            if checked is not None:
                out[sub["name"]] = checked
        return out
    if kind == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"  # Entra ID sends "False"
        if not isinstance(value, bool):
            raise _bad(f"{where} must be true or false")
        return value
    if not isinstance(value, str):
        raise _bad(f"{where} must be a string")
    if len(value) > 1024 or any(ord(c) < 32 for c in value):
        raise _bad(f"{where} must be at most 1024 characters without control characters")
    return value


def _validate(
    body: Any, core: str, attrs: list[dict[str, Any]], extensions: Mapping[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object", "invalidSyntax")
    declared = body.get("schemas")
    if declared is not None and (not isinstance(declared, list) or core not in declared):
        raise _bad(f"schemas must list {core}", "invalidSyntax")
    known = _known(attrs)
    ext_keys = {urn.lower(): urn for urn in extensions}
    out: dict[str, Any] = {}
    for key, value in body.items():
        lower = key.lower()
        if lower in ("schemas", "id", "meta"):
            continue  # id and meta are the server's (readOnly): ignored, as RFC 7643 §3.1 asks
        if lower == "externalid":
            if value is not None:
                if not isinstance(value, str) or len(value) > 1024:
                    raise _bad("externalId must be a string")
                out["externalId"] = value
            continue
        if lower in ext_keys:
            urn = ext_keys[lower]
            if value is None:
                continue
            if not isinstance(value, dict):
                raise _bad(f"{urn} must be an object")
            ext_known = _known(extensions[urn])
            ext_out = {}
            for ext_key, ext_value in value.items():
                if ext_key.lower() == "schemas":
                    continue  # some clients repeat the extension's URN inside it
                attr = ext_known.get(ext_key.lower())
                if attr is None:
                    raise _bad(f"{urn}:{ext_key} is not an attribute Ripple stores", "invalidSyntax")
                checked = _check_value(attr, ext_value, f"{urn}:{attr['name']}")
                if checked is not None:
                    ext_out[attr["name"]] = checked
            if ext_out:
                out[urn] = ext_out
            continue
        attr = known.get(lower)
        if attr is None:
            raise _bad(f"{key} is not an attribute Ripple stores", "invalidSyntax")
        checked = _check_value(attr, value, attr["name"])
        if checked is not None and checked != [] and checked != {}:
            out[attr["name"]] = checked
    return out


def validate_user(body: Any) -> dict[str, Any]:
    """The user's client-writable attributes (canonical names), or a 400 ScimError."""
    profile = _validate(body, USER_SCHEMA, _USER_ATTRS, {ENTERPRISE: _ENTERPRISE_ATTRS})
    if not profile.get("userName", "").strip():
        raise _bad("userName is required", "invalidValue")
    emails = profile.get("emails") or []
    if sum(1 for e in emails if e.get("primary")) > 1:
        raise _bad("at most one e-mail may be primary")
    return profile


def validate_group(body: Any) -> dict[str, Any]:
    group = _validate(body, GROUP_SCHEMA, _GROUP_ATTRS, {})
    if not group.get("displayName", "").strip():
        raise _bad("displayName is required", "invalidValue")
    for member in group.get("members") or []:
        if not member.get("value"):
            raise _bad("every member needs a value (the user's id)")
    return group


# ------------------------------------------------------------------ employees from users

_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def _slug(text: str, prefix: str) -> str:
    """An id of ``[A-Za-z0-9._-]`` (≤ 64, alphanumeric first) for any text; text with no
    such characters (e.g. 営業部) gets a stable hash instead."""
    slug = _ID_CHARS.sub("-", text.strip()).strip("-._")[:64].rstrip("-._")
    if not slug:
        return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"
    return slug


def employee_id_for(user_name: str) -> str:
    """``alice@example.com`` → ``alice``; ``Bob Smith`` → ``Bob-Smith``."""
    local = user_name.split("@", 1)[0] if "@" in user_name else user_name
    return _slug(local, "u")


def team_id_for(name: str) -> str:
    return _slug(name, "team")


def derive_employee(profile: Mapping[str, Any]) -> dict[str, str]:
    """What the employee use case gets: ``name``, ``email`` (or ""), ``team`` (or "")."""
    from ripple.domain.validation import check_email

    user_name = str(profile["userName"]).strip()
    name = profile.get("name") or {}
    given_family = " ".join(p for p in (name.get("givenName"), name.get("familyName")) if p)
    display = (profile.get("displayName") or name.get("formatted") or given_family or user_name).strip()
    emails = profile.get("emails") or []
    chosen = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
    email = ""
    for candidate in ((chosen or {}).get("value"), user_name if "@" in user_name else None):
        if candidate:
            try:
                email = check_email(str(candidate).strip())
                break
            except RippleError:
                continue
    department = (profile.get(ENTERPRISE) or {}).get("department")
    return {"name": display[:100], "email": email, "team": team_id_for(department) if department else ""}


# ------------------------------------------------------------------ PATCH

_VALUE_FILTER = re.compile(r'^(?P<attr>\w+)\[(?P<sub>\w+)\s+eq\s+"(?P<value>[^"]*)"\](?:\.(?P<rest>\w+))?$', re.I)


def _split_path(path: str) -> tuple[str | None, str]:
    """``urn:…:User:department`` → (urn, "department"); ``name.givenName`` → (None, …)."""
    lower = path.lower()
    for urn in (ENTERPRISE, USER_SCHEMA, GROUP_SCHEMA):
        if lower.startswith(urn.lower() + ":"):
            return (urn if urn == ENTERPRISE else None), path[len(urn) + 1 :]
        if lower == urn.lower():
            return (urn if urn == ENTERPRISE else None), ""
    return None, path


def _ci_get(obj: Mapping[str, Any], key: str) -> str | None:
    return next((k for k in obj if k.lower() == key.lower()), None)


def _merge(target: dict[str, Any], value: Mapping[str, Any]) -> None:
    for key, item in value.items():
        existing = _ci_get(target, key)
        if existing is not None and isinstance(target[existing], dict) and isinstance(item, dict):
            _merge(target[existing], item)
        elif existing is not None and isinstance(target[existing], list) and isinstance(item, list):
            target[existing] = target[existing] + [v for v in item if v not in target[existing]]
        else:
            if existing is not None:
                del target[existing]
            target[key] = copy.deepcopy(item)


def apply_patch(resource: dict[str, Any], body: Any) -> dict[str, Any]:
    """RFC 7644 §3.5.2 on a resource's attributes (a copy): ``add``, ``replace``, ``remove``
    with paths ``attr``, ``attr.sub``, ``urn:…:attr``, ``attr[sub eq "v"]`` and
    ``attr[sub eq "v"].sub``, or no path with an object value. The result is then validated
    like a PUT by the caller, so a PATCH can never store what a PUT could not."""
    if not isinstance(body, dict) or PATCH_SCHEMA not in (body.get("schemas") or []):
        raise _bad(f"a PATCH body must declare {PATCH_SCHEMA}", "invalidSyntax")
    ops = body.get("Operations", body.get("operations"))
    if not isinstance(ops, list) or not ops:
        raise _bad("Operations must be a non-empty list", "invalidSyntax")
    out = copy.deepcopy(resource)
    for index, op in enumerate(ops):
        if not isinstance(op, dict):
            raise _bad(f"Operations[{index}] must be an object", "invalidSyntax")
        kind = str(op.get("op", "")).lower()
        if kind not in ("add", "replace", "remove"):
            raise _bad(f"Operations[{index}].op must be add, replace or remove", "invalidSyntax")
        path = op.get("path")
        value = op.get("value")
        if path is None or path == "":
            if kind == "remove":
                raise _bad("remove needs a path", "noTarget")
            if not isinstance(value, dict):
                raise _bad(f"Operations[{index}].value must be an object when there is no path", "invalidValue")
            for key, item in value.items():
                urn, rest = _split_path(key)
                if urn and rest:
                    _set(out, urn, rest, item, kind)
                elif kind == "add" and isinstance(item, dict | list):
                    _merge(out, {key: item})
                else:
                    existing = _ci_get(out, key)
                    if existing is not None:
                        del out[existing]
                    out[key] = copy.deepcopy(item)
            continue
        if not isinstance(path, str) or len(path) > 512:
            raise _bad(f"Operations[{index}].path must be a string", "invalidPath")
        urn, rest = _split_path(path)
        if kind == "remove":
            _remove(out, urn, rest)
        else:
            if "value" not in op:
                raise _bad(f"Operations[{index}] needs a value", "invalidValue")
            _set(out, urn, rest, value, kind)
    return out


def _container(out: dict[str, Any], urn: str | None, create: bool) -> dict[str, Any] | None:
    if urn is None:
        return out
    key = _ci_get(out, urn)
    if key is None:
        if not create:
            return None
        out[urn] = {}
        key = urn
    box = out[key]
    if not isinstance(box, dict):
        raise _bad(f"{urn} is not an object", "invalidPath")
    return box


def _set(out: dict[str, Any], urn: str | None, path: str, value: Any, kind: str) -> None:
    box = _container(out, urn, create=True)
    assert box is not None
    if not path:
        if not isinstance(value, dict):
            raise _bad(f"{urn} takes an object", "invalidValue")
        _merge(box, value) if kind == "add" else box.update(copy.deepcopy(value))
        return
    filtered = _VALUE_FILTER.match(path)
    if filtered:
        attr = _ci_get(box, filtered["attr"]) or filtered["attr"]
        items = box.setdefault(attr, [])
        if not isinstance(items, list):
            raise _bad(f"{attr} is not multi-valued", "invalidPath")
        matches = [i for i in items if isinstance(i, dict) and str(i.get(filtered["sub"], "")) == filtered["value"]]
        if not matches:
            if kind == "replace":
                raise _bad(f"no {attr} matches {path}", "noTarget")
            new = {filtered["sub"]: filtered["value"]}
            items.append(new)
            matches = [new]
        for item in matches:
            if filtered["rest"]:
                item[filtered["rest"]] = copy.deepcopy(value)
            elif isinstance(value, dict):
                item.update(copy.deepcopy(value))
            else:
                raise _bad(f"{path} takes an object", "invalidValue")
        return
    if "[" in path or "]" in path:
        raise _bad(f"path {path} is not supported", "invalidPath")
    head, _, sub = path.partition(".")
    key = _ci_get(box, head) or head
    if sub:
        inner = box.setdefault(key, {})
        if not isinstance(inner, dict):
            raise _bad(f"{head} is not complex", "invalidPath")
        sub_key = _ci_get(inner, sub) or sub
        inner[sub_key] = copy.deepcopy(value)
        return
    current = box.get(key)
    if kind == "add" and isinstance(current, list):
        extra = value if isinstance(value, list) else [value]
        box[key] = current + [copy.deepcopy(v) for v in extra if v not in current]
    elif kind == "add" and isinstance(current, dict) and isinstance(value, dict):
        _merge(current, value)
    else:
        box[key] = copy.deepcopy(value)


def _remove(out: dict[str, Any], urn: str | None, path: str) -> None:
    box = _container(out, urn, create=False)
    if box is None:
        return
    if not path:
        key = _ci_get(out, urn or "")
        if key is not None:
            del out[key]
        return
    filtered = _VALUE_FILTER.match(path)
    if filtered:
        attr = _ci_get(box, filtered["attr"])
        if attr is None or not isinstance(box[attr], list):
            return
        kept = []
        for item in box[attr]:
            hit = isinstance(item, dict) and str(item.get(filtered["sub"], "")) == filtered["value"]
            if hit and filtered["rest"]:
                rest = _ci_get(item, filtered["rest"])
                if rest is not None:
                    del item[rest]
                kept.append(item)
            elif not hit:
                kept.append(item)
        box[attr] = kept
        return
    if "[" in path or "]" in path:
        raise _bad(f"path {path} is not supported", "invalidPath")
    head, _, sub = path.partition(".")
    key = _ci_get(box, head)
    if key is None:
        return
    if sub:
        inner = box[key]
        if isinstance(inner, dict):
            sub_key = _ci_get(inner, sub)
            if sub_key is not None:
                del inner[sub_key]
        return
    del box[key]


# ------------------------------------------------------------------ list queries


def parse_paging(query: Mapping[str, str]) -> tuple[int, int]:
    """``startIndex`` (1-based, < 1 means 1) and ``count`` (< 0 means 0, capped at
    ``MAX_RESULTS``), RFC 7644 §3.4.2.4; non-integers are a 400 invalidValue."""

    def number(name: str, default: int) -> int:
        raw = query.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise _bad(f"{name} must be an integer") from exc

    return max(1, number("startIndex", 1)), min(MAX_RESULTS, max(0, number("count", MAX_RESULTS)))


FILTERABLE = {"username": "userName", "externalid": "externalId", "id": "id", "displayname": "displayName"}


def parse_filter(text: str | None) -> tuple[str, str] | None:
    """``attr eq "value"`` on ``userName``, ``externalId``, ``id`` or ``displayName`` →
    ``(attr, value)``. Parsed by scim2-filter-parser (a grammar, not a regex), so anything
    that is not a SCIM filter is ``invalidFilter``, and valid filters Ripple cannot answer
    (other attributes or operators, ``and``/``or``) too, naming what it supports."""
    if text is None:
        return None
    if not text.strip() or len(text) > 1024:
        raise _bad("filter must not be empty", "invalidFilter")
    from scim2_filter_parser.lexer import SCIMLexer
    from scim2_filter_parser.parser import SCIMParser, SCIMParserError

    try:
        ast = SCIMParser().parse(SCIMLexer().tokenize(text))
    except (SCIMParserError, Exception) as exc:
        raise _bad(f"filter is not valid SCIM filter syntax: {text}", "invalidFilter") from exc
    expr = getattr(ast, "expr", None)
    unsupported = _bad(
        'only filters of the form attr eq "value" on userName, externalId, id or displayName are supported',
        "invalidFilter",
    )
    if ast is None or getattr(ast, "negated", False) or type(expr).__name__ != "AttrExpr":
        raise unsupported
    if str(getattr(expr, "value", "")).lower() != "eq":
        raise unsupported
    attr_path = getattr(expr, "attr_path", None)
    name = getattr(getattr(attr_path, "attr_name", None), "value", None) or getattr(attr_path, "attr_name", None)
    sub = getattr(attr_path, "sub_attr", None)
    uri = getattr(attr_path, "uri", None)
    if not isinstance(name, str) or sub is not None or (uri and uri.lower() != USER_SCHEMA.lower()):
        raise unsupported
    attr = FILTERABLE.get(name.split(":")[-1].lower())
    value = getattr(getattr(expr, "comp_value", None), "value", None)
    if attr is None or not isinstance(value, str):
        raise unsupported
    return attr, value
