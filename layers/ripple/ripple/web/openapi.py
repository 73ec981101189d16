"""The OpenAPI 3.1 document of the whole API, served at ``GET /openapi.json``.

Paths and methods come from the Chalice app's routes (so a new route can never be missing),
summaries from the views' docstrings; request and response bodies of the main endpoints from
the hand-maintained ``SCHEMAS`` and ``OPERATIONS`` tables below. Pure: no boto3, no app
import (the view passes ``app.routes`` in); built once per process and cached.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Mapping
from typing import Any

from ripple.domain.analytics import BREAKDOWNS
from ripple.domain.chatbots import BOT_EVENTS, PROVIDERS
from ripple.domain.model import CHANNELS
from ripple.domain.notifications import KINDS as NOTIFICATION_KINDS
from ripple.domain.notifications import LANGUAGES as NOTIFICATION_LANGUAGES
from ripple.domain.notifications import MAX_DUE_HOURS
from ripple.domain.points import DIMENSIONS
from ripple.domain.webhooks import EVENT_TYPES

_OUTCOMES = ("unique_visit", "forward", "lead", "conversion")

__all__ = ["build_document", "document_json", "requires_auth"]


def _code_names(code: Any) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _code_names(const)
    return names


def requires_auth(view: Any) -> bool:
    """Whether the route of ``view`` takes a user's bearer token, as its ``Area.route``
    declaration says (ripple.api.routing); a view without one is never advertised as public."""
    from ripple.api.routing import Auth, route_spec

    spec = route_spec(view)
    return spec is None or spec.auth is Auth.USER


def _role(view: Any) -> str | None:
    from ripple.api.routing import route_spec

    spec = route_spec(view)
    return spec.role.value if spec is not None and spec.role is not None else None


_STR: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer"}
_BOOL: dict[str, Any] = {"type": "boolean"}
# a day, a month or an ISO week (the periods of boards and settlements)
_YEAR = r"(19[7-9]\d|2[01]\d\d)"  # 1970..2199
_PERIOD = rf"{_YEAR}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?|{_YEAR}-W(0[1-9]|[1-4]\d|5[0-2])"


def _text(max_len: int) -> dict[str, Any]:
    """A trimmed, non-empty line of text without control characters (the API's ``_text``)."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_len,
        "pattern": r"^[^\x00-\x1f]*[^\x00-\x1f\s][^\x00-\x1f]*$",
    }


# characters the poster texts refuse (Unicode categories Cc, Cf, Co; a newline is allowed):
# ripple.domain.posters._clean_text, as ranges of Python 3.11's Unicode 14 database
_INVISIBLE = (
    "\x00-\x09\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ue000-\uf8ff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)


def _visible(max_len: int) -> dict[str, Any]:
    """A poster/copy text: not blank, no control or invisible characters (newlines allowed)."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_len,
        "pattern": f"^[^{_INVISIBLE}]*[^{_INVISIBLE}\\s][^{_INVISIBLE}]*$",
    }


# a reward's image: an https URL with a host, without credentials, spaces or control characters
# ("" or null: none); the API also takes non-ASCII URLs, up to 2048 UTF-8 bytes
_IMAGE_URL: dict[str, Any] = {
    "type": ["string", "null"],
    "maxLength": 2048,
    "pattern": r"^([Hh][Tt][Tt][Pp][Ss]://[A-Za-z0-9.-]*[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{0,4})?([/?#][!-~]*)?)?$",
}
# at most 2000 characters, no control characters but newlines and tabs
_DESCRIPTION: dict[str, Any] = {
    "type": ["string", "null"],
    "maxLength": 2000,
    "pattern": r"^[^\x00-\x08\x0b-\x1f]*$",
}


# a customer tag: 1..32 letters, digits, spaces or -_.:/ (CJK and full-width forms too), trimmed
_TAG_CHAR = r"\w\-.:/\u3001-\u9fff\uac00-\ud7af\uff00-\uffef"
_TAG: dict[str, Any] = {
    "type": "string",
    "pattern": rf"^\s*[{_TAG_CHAR}]([{_TAG_CHAR} \u3000]{{0,30}}[{_TAG_CHAR}])?\s*$",
}
_CUSTOMER_STATUS_ENUM: dict[str, Any] = {"enum": ["new", "contacted", "qualified", "won", "lost"]}


# ids (employee, campaign, task, ...): what check_id accepts
_ID_Q: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"}
_TS: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
_DAY: dict[str, Any] = {
    "type": "string",
    "format": "date",
    "pattern": r"^(19[7-9]\d|2[01]\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",  # 1970..2199
}


# story titles are one line, texts keep line breaks; neither takes control or bidi characters
_STORY_LINE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$"
_STORY_TEXT = r"^[^\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: Mapping[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": dict(props)}
    if required:
        out["required"] = list(required)
    return out


def _page(item: Mapping[str, Any], **more: Any) -> dict[str, Any]:
    """The one shape of every collection: ``{"items": [...], "next_cursor": str|null}``; pass
    ``?cursor=<next_cursor>`` for the next page (null: this was the last). ``more``: fields
    some lists add next to the page (a ledger's owner and balances)."""
    props = {"items": {"type": "array", "items": dict(item)}, "next_cursor": {"type": ["string", "null"]}, **more}
    return {**_obj(props, ("items", "next_cursor")), "additionalProperties": False}


_ROW_ERROR = _obj(
    {"line": _INT, "field": {"type": ["string", "null"]}, "code": _STR, "message": _STR},
    ("line", "field", "code", "message"),
)
_PLANNED = _obj({"create": _INT, "update": _INT, "unchanged": _INT}, ("create", "update", "unchanged"))
_IMPORTS: dict[str, Any] = {
    # POST /admin/employees/import?dry_run=true (and the details of its 422)
    "ImportReport": _obj(
        {
            "dry_run": _BOOL,
            "encoding": {"enum": ["utf-8", "utf-8-sig", "cp932", "gb18030"]},
            "rows": _INT,
            "valid": _INT,
            "planned": _PLANNED,
            "error_count": _INT,
            "errors": {"type": "array", "items": _ROW_ERROR},
            # a file whose job is still running: that job (ImportJob's fields) instead
            "import_id": _STR,
            "duplicate": _BOOL,
        },
    ),
    "ImportJob": _obj(
        {
            "import_id": _STR,
            "status": {"enum": ["queued", "running", "done", "failed"]},
            "encoding": _STR,
            "rows": _INT,
            "total": _INT,
            "processed": _INT,
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "planned": _PLANNED,
            "created": _INT,
            "updated": _INT,
            "unchanged": _INT,
            "failed": _INT,
            "failures": {
                "type": "array",
                "items": _obj({"line": _INT, "id": _STR, "message": _STR}, ("line", "id", "message")),
            },
            "error": {"type": ["string", "null"]},
            "created_at": _TS,
            "finished_at": _TS,
            "duplicate": _BOOL,
        },
        ("import_id", "status", "total", "processed", "progress", "created", "updated", "unchanged", "failed"),
    ),
}

_SCIM_META = _obj(
    {"resourceType": _STR, "created": _TS, "lastModified": _TS, "location": _STR, "version": _STR},
    ("resourceType", "location"),
)
_SCIM: dict[str, Any] = {
    # /scim/v2 (RFC 7643/7644), media type application/scim+json; the attributes are those
    # GET /scim/v2/Schemas publishes (core User + enterprise department, core Group)
    "ScimToken": _obj({"token": _STR, "issued_at": _TS, "scim_base_path": _STR}, ("token", "issued_at")),
    "ScimTokenStatus": _obj(
        {"configured": _BOOL, "issued_at": _TS, "issued_by": {"type": ["string", "null"]}}, ("configured",)
    ),
    "ScimUser": {
        **_obj(
            {
                "schemas": {"type": "array", "items": _STR},
                "id": _STR,
                "externalId": _STR,
                "userName": _STR,
                "name": _obj({"formatted": _STR, "familyName": _STR, "givenName": _STR}),
                "displayName": _STR,
                "emails": {
                    "type": "array",
                    "items": _obj({"value": _STR, "type": _STR, "primary": _BOOL}),
                },
                "active": _BOOL,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": _obj({"department": _STR}),
                "meta": _SCIM_META,
            },
            ("schemas", "id", "userName", "meta"),
        ),
        "additionalProperties": False,
    },
    "ScimGroup": {
        **_obj(
            {
                "schemas": {"type": "array", "items": _STR},
                "id": _STR,
                "externalId": _STR,
                "displayName": _STR,
                "members": {
                    "type": "array",
                    "items": _obj({"value": _STR, "$ref": _STR, "type": _STR}, ("value",)),
                },
                "meta": _SCIM_META,
            },
            ("schemas", "id", "displayName", "meta"),
        ),
        "additionalProperties": False,
    },
    # what a client sends: id and meta are the server's (ignored when sent)
    "ScimUserInput": {"type": "object", "required": ["userName"]},
    "ScimGroupInput": {"type": "object", "required": ["displayName"]},
    "ScimListResponse": _obj(
        {
            "schemas": {"type": "array", "items": _STR},
            "totalResults": _INT,
            "startIndex": _INT,
            "itemsPerPage": _INT,
            "Resources": {"type": "array", "items": {"type": "object"}},
        },
        ("schemas", "totalResults", "startIndex", "itemsPerPage", "Resources"),
    ),
    "ScimPatchOp": _obj(
        {
            "schemas": {"type": "array", "items": _STR},
            "Operations": {
                "type": "array",
                "items": _obj({"op": _STR, "path": _STR, "value": {}}, ("op",)),
            },
        },
        ("schemas", "Operations"),
    ),
    "ScimDiscovery": _obj({"schemas": {"type": "array", "items": _STR}}, ("schemas",)),
    "ScimError": _obj(
        {
            "schemas": {"type": "array", "items": {"const": "urn:ietf:params:scim:api:messages:2.0:Error"}},
            "status": _STR,
            "scimType": {
                "enum": [
                    "invalidFilter",
                    "invalidSyntax",
                    "invalidValue",
                    "invalidPath",
                    "noTarget",
                    "uniqueness",
                    "tooLarge",
                    "mutability",
                    "tooMany",
                ]
            },
            "detail": _STR,
        },
        ("schemas", "status"),
    ),
}

_METRICS: dict[str, Any] = {
    name: _INT
    for name in (
        "exposures",
        "visits",
        "page_views",
        "card_views",
        "unique_visitors",
        "forwards",
        "leads",
        "conversions",
        "points",
    )
}
_SCOPE: dict[str, Any] = {
    "from": _DAY,
    "to": _DAY,
    "timezone": _STR,
    "campaign": {"type": ["string", "null"]},
    "employee": {"type": ["string", "null"]},
    "items_read": _INT,
}
_LEVELS = _obj({"light": _INT, "medium": _INT, "heavy": _INT}, ("light", "medium", "heavy"))
_ANALYTICS: dict[str, dict[str, Any]] = {
    "AnalyticsSummary": _obj(
        {
            **_SCOPE,
            "totals": _obj(_METRICS, tuple(_METRICS)),
            "depth": _obj({"1": _INT, "2": _INT, "3": _INT, "4+": _INT}),
            "funnel": {
                "type": "array",
                "items": _obj(
                    {
                        "stage": {"type": "string", "enum": ["exposure", "visit", "forward", "lead", "conversion"]},
                        "count": _INT,
                        "rate": {"type": ["number", "null"]},
                        # the stage the rate is taken against (null for the first)
                        "of": {"type": ["string", "null"], "enum": ["exposure", "visit", "lead", None]},
                    },
                    ("stage", "count", "rate", "of"),
                ),
            },
        },
        ("from", "to", "totals", "depth", "funnel", "items_read"),
    ),
    "AnalyticsTimeseries": _obj(
        {**_SCOPE, "days": {"type": "array", "items": _obj({"day": _DAY, **_METRICS}, ("day",))}},
        ("from", "to", "days", "items_read"),
    ),
    "AnalyticsBreakdown": _obj(
        {
            **_SCOPE,
            "by": {
                "type": "string",
                "enum": list(BREAKDOWNS),
            },
            "rows": {
                "type": "array",
                "items": _obj({"key": _STR, "name": _STR, "team": _STR, "region": _STR, **_METRICS}, ("key",)),
            },
            "total_rows": _INT,
        },
        ("by", "rows", "items_read"),
    ),
    "AnalyticsSegments": _obj(
        {
            "as_of": {"type": ["string", "null"]},
            "computed_at": {"type": ["integer", "null"]},
            "window_days": _INT,
            "medium": _INT,
            "heavy": _INT,
            "reach_days": _INT,
            "thresholds": _LEVELS,
            "segments": _LEVELS,
            "reach": _obj({"touched": _INT, "reachable": _INT}, ("touched", "reachable")),
            "employee": _STR,
            "employees": {
                "type": "array",
                "items": _obj(
                    {
                        "employee_id": _STR,
                        "touched": _INT,
                        "reachable": _INT,
                        "light": _INT,
                        "medium": _INT,
                        "heavy": _INT,
                    },
                    ("employee_id", "touched", "reachable"),
                ),
            },
            "items_read": _INT,
        },
        ("segments", "reach", "items_read"),
    ),
}

_CARD_FIELDS = (
    "title",
    "department",
    "phone",
    "email",
    "intro",
    "wechat",
    "line",
    "photo_url",
    "wechat_qr_url",
    "line_qr_url",
)

_HHMM: dict[str, Any] = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
_KIND_FLAGS: dict[str, Any] = {
    **_obj({kind: _BOOL for kind in NOTIFICATION_KINDS}),
    "additionalProperties": False,
}
_PREFS: dict[str, Any] = {
    **_obj(
        {
            "email": _KIND_FLAGS,
            "quiet_hours": {
                "oneOf": [
                    {"type": "null"},
                    {**_obj({"start": _HHMM, "end": _HHMM}, ("start", "end")), "additionalProperties": False},
                ]
            },
            # an IANA zone name (checked against the zone database); null = the tenant's
            "timezone": {"type": ["string", "null"], "minLength": 1, "maxLength": 64},
            "language": {"enum": [*NOTIFICATION_LANGUAGES, None]},
        }
    ),
    "additionalProperties": False,
}
_NOTIFICATION_SETTINGS_PROPS: dict[str, Any] = {
    "email": _BOOL,
    "from_name": {"type": "string", "maxLength": 64, "pattern": '^[^\r\n<>"]*$'},
    "due_hours": {"type": "integer", "minimum": 1, "maximum": MAX_DUE_HOURS},
}
_NOTIFICATIONS: dict[str, dict[str, Any]] = {
    # PUT /me/notifications: only the fields given change (quiet_hours start != end)
    "NotificationPreferencesInput": _PREFS,
    "MyNotifications": _obj(
        {
            "preferences": _PREFS,
            "kinds": {"type": "array", "items": {"enum": list(NOTIFICATION_KINDS)}},
            "recent": {
                "type": "array",
                "items": _obj(
                    {
                        "kind": {"enum": list(NOTIFICATION_KINDS)},
                        "key": _STR,
                        "channel": {"enum": ["email"]},
                        "state": {"enum": ["pending", "sending", "sent", "skipped", "failed", "unknown"]},
                        "reason": {"type": ["string", "null"]},
                        "created_at": _INT,
                        "sent_at": {"type": ["integer", "null"]},
                        "data": {"type": "object"},
                    },
                    ("kind", "state", "created_at"),
                ),
            },
        },
        ("preferences", "kinds"),
    ),
    "NotificationSettingsInput": {**_obj(_NOTIFICATION_SETTINGS_PROPS), "additionalProperties": False},
    "NotificationSettings": _obj(
        {**_NOTIFICATION_SETTINGS_PROPS, "email_configured": _BOOL},
        ("email", "from_name", "due_hours", "email_configured"),
    ),
    # PUT /admin/chat-bots/{bot_id}: the URL on the product's own host (loopback on local
    # stacks); a signing secret only for DingTalk (加签) and Feishu/Lark
    "ChatBotInput": {
        **_obj(
            {
                "provider": {"enum": list(PROVIDERS)},
                "url": {"type": "string", "minLength": 1, "maxLength": 2048, "format": "uri"},
                "events": {"type": "array", "minItems": 1, "items": {"enum": list(BOT_EVENTS)}},
                "secret": {"type": "string", "minLength": 1, "maxLength": 200},
                "name": {"type": "string", "maxLength": 64},
                "language": {"enum": list(NOTIFICATION_LANGUAGES)},
                "active": _BOOL,
            },
            ("provider", "url", "events"),
        ),
        "additionalProperties": False,
    },
    "ChatBot": _obj(
        {
            "bot_id": _STR,
            "provider": {"enum": list(PROVIDERS)},
            "url": _STR,  # masked: the key/token part of the URL is a credential
            "events": {"type": "array", "items": {"enum": list(BOT_EVENTS)}},
            "signed": _BOOL,
            "name": _STR,
            "language": {"enum": list(NOTIFICATION_LANGUAGES)},
            "active": _BOOL,
        },
        ("bot_id", "provider", "url", "events", "signed", "active"),
    ),
    "Unsubscribed": _obj(
        {"unsubscribed": {"type": "array", "items": {"enum": list(NOTIFICATION_KINDS)}}, "preferences": _PREFS},
        ("unsubscribed", "preferences"),
    ),
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _obj(
        {
            "error": _obj(
                {"code": _STR, "message": _STR, "details": {"type": "object", "additionalProperties": True}},
                ("code", "message"),
            )
        },
        ("error",),
    ),
    "EmployeeInput": {
        **_obj(
            {
                "name": _text(100),
                "team": _ID_Q,
                "region": _ID_Q,
                # a sign-in: the Cognito user is created (and invited) or updated; the role is its group
                "email": {"type": "string", "format": "email", "maxLength": 254},
                "role": {"enum": ["admin", "employee"]},
            },
            ("name", "team", "region"),
        ),
        "additionalProperties": False,
    },
    "Employee": _obj(
        {
            "employee_id": _STR,
            "name": _STR,
            "team": _STR,
            "region": _STR,
            "active": _BOOL,
            "email": {"type": ["string", "null"]},
            "role": {"enum": ["admin", "employee"]},
            "status": {"enum": ["no_sign_in", "invited", "active", "offboarded"]},
        },
        ("employee_id", "name", "team", "region", "active", "role", "status"),
    ),
    "SignInInput": _obj({"email": _STR, "password": _STR}, ("email", "password")),
    "NewPasswordInput": _obj(
        {"email": _STR, "session": _STR, "new_password": _STR}, ("email", "session", "new_password")
    ),
    "RefreshInput": {
        **_obj({"refresh_token": {"type": "string", "minLength": 1, "maxLength": 4096}}, ("refresh_token",)),
        "additionalProperties": False,
    },
    "ForgotPasswordInput": _obj({"email": _STR}, ("email",)),
    "ResetPasswordInput": _obj({"email": _STR, "code": _STR, "new_password": _STR}, ("email", "code", "new_password")),
    # tokens (refresh_token: on sign-in, and on refresh when the client rotates them), or the
    # first sign-in's challenge: choose a new password with /auth/new-password and the session
    "SignInResult": {
        "oneOf": [
            _obj(
                {
                    "id_token": _STR,
                    "refresh_token": _STR,
                    "expires_in": _INT,
                    "token_type": {"const": "Bearer"},
                },
                ("id_token", "expires_in", "token_type"),
            ),
            _obj({"challenge": {"const": "NEW_PASSWORD_REQUIRED"}, "session": _STR}, ("challenge", "session")),
        ]
    },
    "Invitation": _obj(
        {"employee_id": _STR, "status": {"const": "invited"}, "email": _STR, "sent": _BOOL},
        ("employee_id", "status", "email", "sent"),
    ),
    # shown once (Cache-Control: no-store): the link holds a fresh temporary password
    "InvitationLink": _obj(
        {
            "employee_id": _STR,
            "status": {"const": "invited"},
            "email": _STR,
            "url": {"type": "string", "pattern": "/m#invite=[^&]+&code=[A-Za-z0-9_-]+$"},
            "expires_at": {"type": "string", "format": "date-time"},
            "qr": {"type": "string", "pattern": "^data:image/svg\\+xml;base64,"},
        },
        ("employee_id", "status", "email", "url", "expires_at", "qr"),
    ),
    "SignedOut": _obj({"signed_out": {"const": True}}, ("signed_out",)),
    "PasswordResetSent": _obj({"sent": {"const": True}}, ("sent",)),
    "PasswordReset": _obj({"reset": {"const": True}}, ("reset",)),
    "Tenant": _obj(
        {
            "tenant_id": _STR,
            "name": _STR,
            "timezone": _STR,
            "attribution": _obj({"mode": {"type": ["string", "null"]}, "days": {"type": ["integer", "null"]}}),
            "recycle_after_days": {"type": ["integer", "null"]},
            # the region national phone numbers of leads are read in (ISO 3166 alpha-2)
            "phone_region": {"type": ["string", "null"]},
            "pool_claim_price": {"type": ["integer", "null"]},
            # where an ended campaign's page sends visitors (null: no button)
            "ended_url": {"type": ["string", "null"]},
            "segments": _obj({"window_days": _INT, "medium": _INT, "heavy": _INT, "reach_days": _INT}),
            "fraud": _obj(
                {"burst_links": {"type": ["integer", "null"]}, "velocity_per_hour": {"type": ["integer", "null"]}}
            ),
        },
        ("tenant_id", "timezone"),
    ),
    # PUT /admin/tenant: a partial update, every field optional
    "TenantInput": {
        **_obj(
            {
                "name": {**_text(200), "type": ["string", "null"]},  # null: unchanged
                # an IANA zone name, e.g. Asia/Shanghai (null: unchanged)
                "timezone": {**_text(64), "type": ["string", "null"]},
                # first_touch keeps a customer with its first employee for days (1..3650, default
                # 30); last_touch (no days) gives it to the latest
                "attribution": {
                    "oneOf": [
                        {
                            **_obj(
                                {
                                    "mode": {"const": "first_touch"},
                                    "days": {"type": "integer", "minimum": 1, "maximum": 3650},
                                },
                                ("mode",),
                            ),
                            "additionalProperties": False,
                        },
                        {**_obj({"mode": {"const": "last_touch"}}, ("mode",)), "additionalProperties": False},
                    ]
                },
                "recycle_after_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650},
                "phone_region": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                # the company's website for ended campaigns' pages; null or "" removes it
                "ended_url": {"type": ["string", "null"], "maxLength": 2048},
                "fraud": {
                    **_obj(
                        {
                            "burst_links": {"type": ["integer", "null"], "minimum": 2, "maximum": 1000},
                            "velocity_per_hour": {"type": ["integer", "null"], "minimum": 1, "maximum": 1_000_000},
                        }
                    ),
                    "additionalProperties": False,
                },
                # points an employee pays to claim a customer from the lead pool
                "pool_claim_price": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
                # interactions within window_days make a person light (1), medium or heavy (the
                # lowest counts; 2 <= medium < heavy, with the stored values of the fields left out)
                "segments": {
                    **_obj(
                        {
                            "window_days": {"type": "integer", "minimum": 1, "maximum": 365},
                            "medium": {"type": "integer", "minimum": 2, "maximum": 99_999},
                            "heavy": {"type": "integer", "minimum": 3, "maximum": 100_000},
                            "reach_days": {"type": "integer", "minimum": 1, "maximum": 730},
                        }
                    ),
                    "additionalProperties": False,
                    "minProperties": 1,
                },
            }
        ),
        "additionalProperties": False,
    },
    "Points": _obj({"unique_visit": _INT, "forward": _INT, "lead": _INT, "conversion": _INT}),
    # what each outcome pays (never the share itself): 0..1000000 points each
    "PointsInput": {
        **_obj({k: {"type": "integer", "minimum": 0, "maximum": 1_000_000} for k in _OUTCOMES}),
        "additionalProperties": False,
    },
    "RulesInput": {
        **_obj(
            {
                "daily_cap": {"type": ["integer", "null"], "minimum": 1, "maximum": 10_000_000},
                "campaign_cap": {"type": ["integer", "null"], "minimum": 1, "maximum": 10_000_000},
                "threshold": {"type": ["integer", "null"], "minimum": 0, "maximum": 10_000_000},
                "holding_days": {"type": ["integer", "null"], "minimum": 0, "maximum": 3650},
            }
        ),
        "additionalProperties": False,
    },
    "RulesUpdate": {
        **_obj(
            {"points": _ref("PointsInput"), "rules": {"anyOf": [_ref("RulesInput"), {"type": "null"}]}}, ("points",)
        ),
        "additionalProperties": False,
    },
    "OffboardInput": {
        **_obj({"to": {**_ID_Q, "description": 'an employee id, or "pool"'}, "reassign_links": _BOOL}, ("to",)),
        "additionalProperties": False,
    },
    "ReassignInput": {**_obj({"employee_id": _ID_Q}, ("employee_id",)), "additionalProperties": False},
    "ReversalInput": {
        **_obj(
            {
                "source_key": {"type": "string", "minLength": 1, "maxLength": 300},
                "reason": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": r"\S"},
            },
            ("source_key", "reason"),
        ),
        "additionalProperties": False,
    },
    "ConversionInput": {
        **_obj(
            {
                # a number, or a decimal string for exact cents ("2500.50"); more than 0, at most 10^12
                "amount": {
                    "anyOf": [
                        {"type": "number", "exclusiveMinimum": 0, "maximum": 10**12},
                        {"type": "string", "pattern": r"^[0-9]{1,13}(\.[0-9]{1,6})?$"},
                    ]
                },
                "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},  # ISO 4217, default CNY
                "campaign_id": _ID_Q,
            },
            ("amount",),
        ),
        "additionalProperties": False,
    },
    "ProofInput": {
        "oneOf": [
            {**_obj({"url": {"type": "string", "format": "uri"}}, ("url",)), "additionalProperties": False},
            {**_obj({"screenshot_material_id": _ID_Q}, ("screenshot_material_id",)), "additionalProperties": False},
        ]
    },
    # destination_url, or a hosted landing page (then the short link opens /p/{code})
    "CampaignInput": {
        **_obj(
            {
                "name": _text(200),
                "destination_url": {"type": "string", "format": "uri"},
                "points": _ref("PointsInput"),
                "rules": {"anyOf": [_ref("RulesInput"), {"type": "null"}]},
                "starts_at": _TS,
                "ends_at": _TS,
                # forward chains: the share-token query parameter (default rp) and the depth cap
                "chain": _ref("ChainSettings"),
                "landing": {"type": ["object", "null"]},
            },
            ("name", "points"),
        ),
        "additionalProperties": False,
        "anyOf": [
            {"required": ["destination_url"]},
            {"required": ["landing"], "properties": {"landing": {"type": "object"}}},
        ],
    },
    # PATCH: at least one field; null removes the hosted page or a bound of the window
    "CampaignEditInput": {
        **_obj(
            {
                "name": _text(200),
                "destination_url": {"type": "string", "format": "uri"},
                "landing": {"type": ["object", "null"]},
                "starts_at": _TS,
                "ends_at": _TS,
            }
        ),
        "minProperties": 1,
        "additionalProperties": False,
    },
    "DuplicateInput": {
        **_obj({"name": _text(200), "starts_at": _TS, "ends_at": _TS}),
        "additionalProperties": False,
    },
    "ChainSettings": {
        **_obj(
            {
                "share_param": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,15}$", "not": {"pattern": "^utm_"}},
                "max_depth": {"type": "integer", "minimum": 1, "maximum": 50},
            }
        ),
        "additionalProperties": False,
    },
    "Campaign": _obj(
        {
            "campaign_id": _STR,
            "name": _STR,
            "destination_url": _STR,
            "points": _ref("Points"),
            "rules": {"type": "object"},
            "starts_at": _TS,
            "ends_at": _TS,
            "created_at": _TS,
            "chain": _obj({"share_param": _STR, "max_depth": _INT}),
            "landing": {"type": ["object", "null"]},
            "status": {"enum": ["scheduled", "active", "ended", "archived"]},
            "archived_at": _TS,
            # an edit of the destination or window is still being copied onto the links
            "links_pending": _BOOL,
            "links_updated": {"type": "integer", "minimum": 0},  # after an edit: links it updated
        },
        ("campaign_id", "name", "destination_url"),
    ),
    "LinkInput": {**_obj({"channel": {"enum": list(CHANNELS)}}, ("channel",)), "additionalProperties": False},
    # business cards: single-line fields refuse CR/LF/control characters (vCard injection)
    "Card": _obj({name: _STR for name in _CARD_FIELDS}),
    "CompanyCard": _obj({name: _STR for name in ("company", "logo_url", "website", "phone", "email", "intro")}),
    "MyCard": _obj(
        {
            "name": _STR,
            "card": _ref("Card"),
            "company": _ref("CompanyCard"),
            "code": _STR,
            "card_url": _STR,
            "vcard_url": _STR,
            "campaign_id": _STR,
            "images": {"type": "object", "additionalProperties": _STR},
        },
        ("name", "card", "company", "code", "card_url", "vcard_url", "campaign_id", "images"),
    ),
    # employees' stories (ripple.domain.stories): plain text, checked by the content policy
    "StoryInput": {
        **_obj(
            {
                "title": {"type": ["string", "null"], "maxLength": 160, "pattern": _STORY_LINE},
                "text": {"type": ["string", "null"], "maxLength": 4000, "pattern": _STORY_TEXT},
                "campaign_id": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                "paid": {"type": ["boolean", "null"]},
            }
        ),
        "additionalProperties": False,
    },
    "StoryCheckInput": {
        **_obj(
            {
                "title": {"type": ["string", "null"], "maxLength": 160, "pattern": _STORY_LINE},
                "text": {"type": ["string", "null"], "maxLength": 4000, "pattern": _STORY_TEXT},
                "campaign_id": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                "paid": {"type": ["boolean", "null"]},
                "images": {"type": "integer", "minimum": 0, "maximum": 50},
            }
        ),
        "additionalProperties": False,
    },
    "StoryFinding": _obj(
        {"field": _STR, "rule": _STR, "message": _STR, "match": _STR}, ("field", "rule", "message", "match")
    ),
    "Story": _obj(
        {
            "story_id": _STR,
            "author": _STR,
            "author_name": _STR,
            "title": _STR,
            "text": _STR,
            "campaign_id": {"type": ["string", "null"]},
            "paid": _BOOL,
            "images": {"type": "array", "items": _STR},
            "status": {"enum": ["draft", "pending", "approved", "rejected", "withdrawn"]},
            "reason": {"type": ["string", "null"]},
            "created_at": _STR,
            "updated_at": _STR,
            "submitted_at": {"type": ["string", "null"]},
            "decided_at": {"type": ["string", "null"]},
            "decided_by": {"type": ["string", "null"]},
            "edited_by_reviewer": _BOOL,
            "points": _INT,
            "version": _INT,
            "short_url": {"type": ["string", "null"]},
            "page_url": {"type": ["string", "null"]},
            "findings": {"type": "array", "items": _ref("StoryFinding")},
        },
        ("story_id", "author", "title", "text", "campaign_id", "paid", "images", "status", "version"),
    ),
    "StoryDecision": {
        **_obj({"reason": {"type": ["string", "null"], "maxLength": 500}}),
        "additionalProperties": False,
    },
    "ContentPolicy": _obj(
        {
            "banned_words": {"type": "array", "items": _STR},
            "disclosure": _STR,
            "approved_points": _INT,
            "monthly_cap": _INT,
            "max_images": _INT,
            "max_image_bytes": _INT,
            "max_text": _INT,
            "max_title": _INT,
        },
        ("banned_words", "disclosure", "approved_points", "monthly_cap"),
    ),
    "ContentPolicyInput": {
        **_obj(
            {
                "banned_words": {
                    "type": ["array", "null"],
                    "maxItems": 200,
                    "items": {"type": "string", "maxLength": 40, "pattern": f"^(?=.*\\S)[^\\n{_INVISIBLE}]+$"},
                },
                "disclosure": {"type": ["string", "null"], "maxLength": 40, "pattern": f"^[^\\n{_INVISIBLE}]*$"},
                "approved_points": {"type": ["integer", "null"], "minimum": 0, "maximum": 100000},
                "monthly_cap": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
            }
        ),
        "additionalProperties": False,
    },
    "StoryCheck": _obj(
        {"ok": _BOOL, "findings": {"type": "array", "items": _ref("StoryFinding")}, "policy": _ref("ContentPolicy")},
        ("ok", "findings", "policy"),
    ),
    "StoryPage": _page(_ref("Story")),
    # PUT /me/card and /admin/card: the whole card (a field left out is emptied; null: empty);
    # phone numbers are read in the tenant's phone_region, URLs must be https
    "CardInput": {
        **_obj(
            {
                name: {"type": ["string", "null"], "maxLength": limit}
                for name, limit in (
                    ("title", 100),
                    ("department", 100),
                    ("phone", 64),
                    ("email", 254),
                    ("intro", 500),  # the only field with line breaks
                    ("wechat", 64),
                    ("line", 64),
                    ("photo_url", 512),
                    ("wechat_qr_url", 512),
                    ("line_qr_url", 512),
                )
            }
        ),
        "additionalProperties": False,
    },
    "CompanyCardInput": {
        **_obj(
            {
                name: {"type": ["string", "null"], "maxLength": limit}
                for name, limit in (
                    ("company", 100),
                    ("logo_url", 512),
                    ("website", 512),
                    ("phone", 64),
                    ("email", 254),
                    ("intro", 500),
                )
            }
        ),
        "additionalProperties": False,
    },
    "TapInput": {
        **_obj(
            {
                "action": {"enum": ["call", "save", "email", "campaign", "wechat", "line"]},
                "campaign_id": {"type": ["string", "null"], "pattern": "^([A-Za-z0-9][A-Za-z0-9._-]{0,63})?$"},
            },
            ("action",),
        ),
        "additionalProperties": False,
    },
    "TapReceipt": _obj({"recorded": _BOOL}, ("recorded",)),
    "CardRadar": _obj(
        {
            "viewers": {
                "type": "array",
                "items": _obj(
                    {
                        "visitor": _STR,
                        "customer": {
                            "oneOf": [
                                {"type": "null"},
                                _obj({"customer_id": _STR, "name": _STR}, ("customer_id", "name")),
                            ]
                        },
                        "views": _INT,
                        "taps": {"type": "object", "additionalProperties": _INT},
                        "first_seen": _TS,
                        "last_seen": _TS,
                        "score": _INT,
                    },
                    ("visitor", "customer", "views", "taps", "first_seen", "last_seen", "score"),
                ),
            },
            "totals": _obj(
                {
                    "viewers": _INT,
                    "known_customers": _INT,
                    "anonymous": _INT,
                    "views": _INT,
                    "taps": {"type": "object", "additionalProperties": _INT},
                },
                ("viewers", "known_customers", "anonymous", "views", "taps"),
            ),
        },
        ("viewers", "totals"),
    ),
    "Link": _obj(
        {"code": _STR, "short_url": _STR, "channel": _STR, "campaign_id": _STR, "employee_id": _STR},
        ("code", "short_url", "channel", "campaign_id", "employee_id"),
    ),
    "Me": _obj(
        {
            "employee_id": _STR,
            "name": _STR,
            "team": _STR,
            "region": _STR,
            "points": {"type": "object"},
            "timezone": _STR,
        },
        ("employee_id", "name", "points"),
    ),
    "Leaderboard": _obj(
        {
            "entries": {
                "type": "array",
                "items": _obj({"rank": _INT, "id": _STR, "score": {"type": "number"}}, ("rank", "id", "score")),
            },
            # a board of employees: their names (employee id -> name)
            "names": {"type": "object", "additionalProperties": _STR},
        },
        ("entries",),
    ),
    # the visitor's share token (the landing page's form, or the rp parameter a customer's
    # site received) and a phone number or an e-mail address
    "LeadInput": {
        **_obj(
            {
                "token": _STR,
                "name": _STR,
                "phone": _STR,
                "email": _STR,
                "message": _STR,
                "consent": _BOOL,
                "consent_text": _STR,
                "lang": _STR,
                # the form's country selector: a national phone number is read in this region
                "country": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
            },
            ("token",),
        ),
        "additionalProperties": False,
    },
    "LeadReceipt": _obj({"lead_id": _STR, "status": {"const": "received"}}, ("lead_id", "status")),
    "Customer": _obj(
        {
            "customer_id": _STR,
            "name": _STR,
            "phone": {"type": ["string", "null"]},
            "email": {"type": ["string", "null"]},
            "status": _STR,
            "tags": {"type": "array", "items": _STR},
            "owner": {"type": ["string", "null"]},  # null: in the lead pool
            "created_at": _TS,
        },
        ("customer_id",),
    ),
    # PATCH /customers/{id}: the fields an owner (or an admin) may change
    "CustomerPatch": {
        **_obj(
            {
                "status": _CUSTOMER_STATUS_ENUM,
                "add_tags": {"type": "array", "maxItems": 20, "items": _TAG},  # a customer has at most 20
                "remove_tags": {"type": "array", "maxItems": 20, "items": _TAG},
            }
        ),
        "additionalProperties": False,
        "minProperties": 1,
    },
    "CustomerList": _page(_ref("Customer")),
    "Reward": _obj(
        {"reward_id": _STR, "name": _STR, "price": _INT, "stock": {"type": ["integer", "null"]}, "active": _BOOL},
        ("reward_id", "price"),
    ),
    "RewardInput": {
        **_obj(
            {
                "name": _text(200),
                "kind": {"enum": ["physical", "virtual_code", "perk", "lead_claim"]},
                "description": _DESCRIPTION,
                "image_url": _IMAGE_URL,
                "price": {"type": "integer", "minimum": 1, "maximum": 100_000_000},
                "stock": {"type": ["integer", "null"], "minimum": 0, "maximum": 1_000_000},  # null: unlimited
                "per_employee_limit": {"type": ["integer", "null"], "minimum": 1, "maximum": 10_000},
                # the limit's period (default all): needs a per_employee_limit
                "limit_period": {"enum": ["day", "week", "month", "all"]},
                "active": _BOOL,  # default true
            },
            ("name", "kind", "price"),
        ),
        "additionalProperties": False,
        "dependentSchemas": {
            "limit_period": {"required": ["per_employee_limit"], "properties": {"per_employee_limit": _INT}}
        },
    },
    # PUT /admin/rewards/{id}: a partial update of at least one field (stock: what is left now)
    "RewardUpdate": {
        **_obj(
            {
                "name": _text(200),
                "description": _DESCRIPTION,
                "image_url": _IMAGE_URL,
                "price": {"type": "integer", "minimum": 1, "maximum": 100_000_000},
                "stock": {"type": ["integer", "null"], "minimum": 0, "maximum": 1_000_000},
                "active": _BOOL,
            }
        ),
        "additionalProperties": False,
        "minProperties": 1,
    },
    # POST /admin/redemptions/{id}/fulfil (body optional): the code handed over, virtual_code rewards only
    "FulfilInput": {**_obj({"code": {**_text(256), "type": ["string", "null"]}}), "additionalProperties": False},
    "CancelInput": {**_obj({"reason": {**_text(500), "type": ["string", "null"]}}), "additionalProperties": False},
    # POST /customers/{id}/notes: not blank, at most 2000 characters, newlines and tabs allowed
    "NoteInput": {
        **_obj(
            {
                "text": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 2000,
                    "pattern": r"^[^\x00-\x08\x0b-\x1f]*[^\x00-\x1f\s][^\x00-\x08\x0b-\x1f]*$",
                }
            },
            ("text",),
        ),
        "additionalProperties": False,
    },
    "RewardList": _page(_ref("Reward")),
    "RedemptionList": _page(_ref("Redemption")),
    "Redemption": _obj(
        {"redemption_id": _STR, "reward_id": _STR, "employee_id": _STR, "points": _INT, "status": _STR},
        ("redemption_id", "status"),
    ),
    "LedgerEntry": _obj(
        {"source_key": _STR, "kind": _STR, "points": _INT, "ts": _TS, "campaign_id": _STR, "status": _STR}
    ),
    "Ledger": _page(_ref("LedgerEntry"), employee_id=_STR, points={"type": "object"}),
    "TaskInput": {
        **_obj(
            {
                "campaign_id": _ID_Q,
                "title": {"type": "string", "minLength": 1, "maxLength": 200},
                "materials": {"type": "array", "items": _STR},
                "copies": {"type": "array", "items": _obj({"lang": _STR, "text": _STR}, ("text",)), "minItems": 1},
                "poster_template_id": {"type": ["string", "null"]},
                "channels": {"type": "array", "items": _STR, "minItems": 1},
                # exactly one of: {"all": true}, {"teams": [...]}, {"regions": [...]}, {"employees": [...]}
                "audience": {"type": "object", "minProperties": 1, "maxProperties": 1},
                "deadline": {"type": "string", "format": "date-time"},  # in the future, within a year
            },
            ("campaign_id", "title", "copies", "channels", "audience", "deadline"),
        ),
        "additionalProperties": False,
    },
    "Task": _obj(
        {
            "task_id": _STR,
            "campaign_id": _STR,
            "title": _STR,
            "materials": {"type": "array", "items": _STR},
            "copies": {"type": "array", "items": {"type": "object"}},
            "poster_template_id": {"type": ["string", "null"]},
            "channels": {"type": "array", "items": _STR},
            "audience": {"type": "object"},
            "audience_size": _INT,
            "deadline": _TS,
            "state": {"enum": ["open", "closed"]},
            "created_at": _TS,
            "created_by": _STR,
            "progress": {"type": "object"},
        },
        ("task_id", "title"),
    ),
    # GET /admin/tasks/{id}: the task, its progress (overall, per team, per region) and proofs
    "TaskDetail": _obj(
        {
            "task": _ref("Task"),
            "progress": _obj(
                {"total": {"type": "object"}, "by_team": {"type": "object"}, "by_region": {"type": "object"}}
            ),
            "proofs": {"type": "array", "items": {"type": "object"}},
        },
        ("task", "progress", "proofs"),
    ),
    # GET /me/tasks/{id} and the items of /me/tasks: the employee's assignment with its links
    "MyTask": _obj(
        {"task_id": _STR, "title": _STR, "links": {"type": "array", "items": {"type": "object"}}}, ("task_id",)
    ),
    # POST /admin/materials/uploads: a presigned S3 POST for one image of at most 10 MB
    "UploadInput": {
        **_obj(
            {
                "content_type": {"enum": ["image/jpeg", "image/png", "image/webp"]},
                "name": {"type": "string", "maxLength": 100},
            },
            ("content_type",),
        ),
        "additionalProperties": False,
    },
    # POST /admin/materials/uploads/{id}/complete: the material's name (default: the upload's)
    "UploadComplete": {**_obj({"name": {"type": "string", "maxLength": 100}}), "additionalProperties": False},
    # POST /admin/copies: a copy text in one or more languages, with tags to find it by
    "CopyInput": {
        **_obj(
            {
                "title": {**_visible(100), "type": ["string", "null"]},
                "tags": {"type": "array", "maxItems": 20, "items": _visible(40)},  # stored lower-case
                "variants": {
                    **_obj({lang: _visible(2000) for lang in ("en", "ja", "zh-Hans", "zh-Hant", "ko")}),
                    "additionalProperties": False,
                    "minProperties": 1,
                },
            },
            ("variants",),
        ),
        "additionalProperties": False,
    },
    # POST/PUT /admin/poster-templates: every box inside the canvas; a PUT makes a new version
    "PosterTemplateInput": {
        **_obj(
            {
                "name": _visible(100),
                # pixels, default 1080 x 1920
                "canvas": {
                    "anyOf": [
                        {
                            **_obj(
                                {
                                    "width": {"type": ["integer", "null"], "minimum": 64, "maximum": 4096},
                                    "height": {"type": ["integer", "null"], "minimum": 64, "maximum": 4096},
                                }
                            ),
                            "additionalProperties": False,
                        },
                        {"type": "null"},
                    ]
                },
                # an uploaded material of this tenant (null: the background colour only)
                "background_material_id": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                "background_color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},  # default #FFFFFF
                "text_boxes": {"type": "array", "maxItems": 20, "items": _ref("PosterTextBox")},
                "qr": {
                    **_obj(
                        {
                            "x": {"type": "integer", "minimum": 0, "maximum": 4096},
                            "y": {"type": "integer", "minimum": 0, "maximum": 4096},
                            "size": {"type": "integer", "minimum": 64, "maximum": 4096},  # smaller does not scan
                        },
                        ("x", "y", "size"),
                    ),
                    "additionalProperties": False,
                },
            },
            ("name", "qr"),
        ),
        "additionalProperties": False,
    },
    # a text line bound to the campaign title, the employee's name or team, or its own (custom) text
    "PosterTextBox": {
        **_obj(
            {
                "binding": {"enum": ["campaign_title", "employee_name", "team", "custom"]},
                "x": {"type": "integer", "minimum": 0, "maximum": 4096},
                "y": {"type": "integer", "minimum": 0, "maximum": 4096},
                "width": {"type": "integer", "minimum": 1, "maximum": 4096},
                "height": {"type": "integer", "minimum": 1, "maximum": 4096},
                "font_size": {"type": ["integer", "null"], "minimum": 8, "maximum": 400},  # default 64
                "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"},  # default #000000
                "align": {"enum": ["left", "center", "right"]},  # default left
                "text": _visible(200),  # custom boxes only, and there required
            },
            ("binding", "x", "y", "width", "height"),
        ),
        "additionalProperties": False,
        "if": {"properties": {"binding": {"const": "custom"}}},
        "then": {"required": ["text"]},
        "else": {"not": {"required": ["text"]}},
    },
    # PUT /admin/prizes: the prizes of each period's boards (replacing all); a (dimension, rank,
    # campaign) once per granularity
    "PrizesInput": {
        **_obj(
            {gran: {"type": "array", "maxItems": 50, "items": _ref("PrizeInput")} for gran in ("day", "week", "month")}
        ),
        "additionalProperties": False,
    },
    "PrizeInput": {
        **_obj(
            {
                "dimension": {"enum": ["employee", "team"]},  # team: each member gets the points
                "rank": {"type": "integer", "minimum": 1, "maximum": 100},
                "points": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                "campaign_id": {**_ID_Q, "type": ["string", "null"]},  # an existing campaign; none: all campaigns
            },
            ("dimension", "rank", "points"),
        ),
        "additionalProperties": False,
    },
    # PUT /admin/webhooks: the tenant's endpoint (replacing it); rotate_secret issues a new secret
    "WebhookInput": {
        **_obj(
            {
                # https, a public host name or address (checked again at every delivery), ASCII
                # (international names in punycode), no credentials; IPv4 as four decimal numbers
                "url": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 2048,
                    "format": "uri",
                    # http only to a loopback receiver, and only on local and test stacks
                    "pattern": r"^([Hh][Tt][Tt][Pp][Ss]://[!-~]+|[Hh][Tt][Tt][Pp]://(localhost|127\.[0-9.]+)([:/?#][!-~]*)?)$",
                },
                "events": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"enum": list(EVENT_TYPES)},
                },
                "active": _BOOL,  # default true
                "rotate_secret": _BOOL,  # default false
            },
            ("url", "events"),
        ),
        "additionalProperties": False,
    },
    "PosterTemplate": _obj(
        {
            "template_id": _STR,
            "version": _INT,
            "name": _STR,
            "canvas": _obj({"width": _INT, "height": _INT}),
            "text_boxes": {"type": "array", "items": {"type": "object"}},
            "qr": {"type": "object"},
        },
        ("name",),
    ),
    # web console and employee page lists
    "CampaignList": _page(_ref("Campaign")),
    "EmployeeList": _page(_ref("Employee")),
    "TaskList": _page(_ref("Task")),
    "MyTaskList": _page(_ref("MyTask")),
    "LinkList": _page(_ref("Link")),
    # POST /admin/webhooks/redeliveries: retry an event whose delivery gave up (from the log)
    "RedeliveryInput": {
        **_obj(
            {
                "type": {"type": "string", "enum": list(EVENT_TYPES)},
                "event_id": {"type": "string", "pattern": "^[!-~]{1,200}$"},
            },
            ("type", "event_id"),
        ),
        "additionalProperties": False,
    },
    "Redelivery": _obj(
        {"type": _STR, "event_id": _STR, "state": {"const": "pending"}, "due_at": _INT},
        ("type", "event_id", "state", "due_at"),
    ),
    # the tenant's endpoint as GET /admin/webhooks shows it (the secret masked)
    "WebhookEndpoint": _obj(
        {
            "url": _STR,
            "events": {"type": "array", "items": _STR},
            "active": _BOOL,
            "secret": _STR,
            "created_at": _INT,
            "updated_at": _INT,
        },
        ("url", "events", "active", "secret", "created_at", "updated_at"),
    ),
    # one attempt to deliver one event (times in epoch milliseconds)
    "Delivery": _obj(
        {
            "event_id": _STR,
            "type": _STR,
            "attempt": _INT,
            "at": _INT,
            "ok": _BOOL,
            "status_code": {"type": ["integer", "null"]},
            "latency_ms": _INT,
            "next_retry_at": {"type": ["integer", "null"]},
            "error": {"type": ["string", "null"]},
        },
        ("event_id", "type", "attempt", "at", "ok"),
    ),
    # the log, newest first, and the endpoint it delivers to (null: none configured)
    "DeliveryList": _page(
        _ref("Delivery"),
        endpoint={"oneOf": [_ref("WebhookEndpoint"), {"type": "null"}]},
        event_types={"type": "array", "items": {"enum": list(EVENT_TYPES)}},
    ),
    "MaterialList": _page({"type": "object"}),
    "CopyList": _page({"type": "object"}),
    "TemplateList": _page(_ref("PosterTemplate")),
    "PosterLink": _obj({"url": {"type": "string", "format": "uri"}, "cached": _BOOL}, ("url", "cached")),
    "ExportInput": {
        **_obj(
            {"kind": {"type": "string", "enum": ["visits", "leads", "customers", "ledger"]}, "from": _DAY, "to": _DAY},
            ("kind", "from", "to"),
        ),
        "additionalProperties": False,
    },
    "Export": _obj(
        {
            "export_id": _STR,
            "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
            "kind": _STR,
            "from": _DAY,
            "to": _DAY,
            "rows": {"type": ["integer", "null"]},
            "bytes": {"type": ["integer", "null"]},
            "url": {"type": ["string", "null"], "format": "uri"},
            "expires_in": {"type": ["integer", "null"]},
            "error": {"type": ["string", "null"]},
        },
        ("export_id", "status"),
    ),
    **_ANALYTICS,
    **_IMPORTS,
    **_SCIM,
    **_NOTIFICATIONS,
}

# /scim/v2: (path, METHOD) -> (request schema or None, success status, response schema or None)
SCIM_OPERATIONS: dict[tuple[str, str], tuple[str | None, int, str | None]] = {
    ("/scim/v2/Users", "GET"): (None, 200, "ScimListResponse"),
    ("/scim/v2/Users", "POST"): ("ScimUserInput", 201, "ScimUser"),
    ("/scim/v2/Users/{user_id}", "GET"): (None, 200, "ScimUser"),
    ("/scim/v2/Users/{user_id}", "PUT"): ("ScimUserInput", 200, "ScimUser"),
    ("/scim/v2/Users/{user_id}", "PATCH"): ("ScimPatchOp", 200, "ScimUser"),
    ("/scim/v2/Users/{user_id}", "DELETE"): (None, 204, None),
    ("/scim/v2/Groups", "GET"): (None, 200, "ScimListResponse"),
    ("/scim/v2/Groups", "POST"): ("ScimGroupInput", 201, "ScimGroup"),
    ("/scim/v2/Groups/{group_id}", "GET"): (None, 200, "ScimGroup"),
    ("/scim/v2/Groups/{group_id}", "PUT"): ("ScimGroupInput", 200, "ScimGroup"),
    ("/scim/v2/Groups/{group_id}", "PATCH"): ("ScimPatchOp", 200, "ScimGroup"),
    ("/scim/v2/Groups/{group_id}", "DELETE"): (None, 204, None),
    ("/scim/v2/ServiceProviderConfig", "GET"): (None, 200, "ScimDiscovery"),
    ("/scim/v2/ResourceTypes", "GET"): (None, 200, "ScimListResponse"),
    ("/scim/v2/ResourceTypes/{name}", "GET"): (None, 200, "ScimDiscovery"),
    ("/scim/v2/Schemas", "GET"): (None, 200, "ScimListResponse"),
    ("/scim/v2/Schemas/{schema_id}", "GET"): (None, 200, "ScimDiscovery"),
}
_SCIM_JSON = "application/scim+json"


def _scim_operation(path: str, method: str, op: dict[str, Any]) -> dict[str, Any]:
    """SCIM's media type and error schema, the tenant's SCIM token as the security scheme;
    paths/methods SCIM does not define answer 405/404/501 in the error schema."""
    request, status, response = SCIM_OPERATIONS.get((path, method), (None, 0, None))
    if request is not None:
        op["requestBody"] = {"required": True, "content": {_SCIM_JSON: {"schema": _ref(request)}}}
    else:
        op.pop("requestBody", None)
    error = {"description": "SCIM error", "content": {_SCIM_JSON: {"schema": _ref("ScimError")}}}
    responses: dict[str, Any] = {}
    if status == 204:
        responses["204"] = {"description": "Deleted"}
    elif status:
        schema = _ref(response) if response else {"type": "object"}
        responses[str(status)] = {"description": "OK", "content": {_SCIM_JSON: {"schema": schema}}}
    responses["4XX"] = error
    responses["5XX"] = error
    op["responses"] = responses
    op["security"] = [{"scimToken": []}]
    op["tags"] = ["scim"]
    return op


# other successful answers of an operation than its main one: (path, METHOD) -> {status: schema}
MORE_RESPONSES: dict[tuple[str, str], dict[int, str]] = {
    ("/admin/employees/import", "POST"): {200: "ImportReport"},  # the dry run (or the running job)
    ("/campaigns/{campaign_id}/links", "POST"): {200: "Link"},  # the caller's existing link
    ("/rewards/{reward_id}/redeem", "POST"): {200: "Redemption"},  # a replay of the same key
}

# the success status of operations without a row in OPERATIONS (else 200)
CREATED: frozenset[tuple[str, str]] = frozenset(
    {
        ("/admin/points/reversals", "POST"),
        ("/admin/customers/{customer_id}/convert", "POST"),
        ("/customers/{customer_id}/notes", "POST"),
        ("/me/tasks/{task_id}/proof", "POST"),
        ("/admin/materials", "POST"),
        ("/admin/materials/uploads", "POST"),
        ("/admin/materials/uploads/{upload_id}/complete", "POST"),
        ("/admin/copies", "POST"),
    }
)
# operations whose body may be omitted (the rest of the POST/PUT/PATCH operations need a JSON object)
OPTIONAL_BODY: frozenset[tuple[str, str]] = frozenset(
    {
        ("/admin/redemptions/{redemption_id}/fulfil", "POST"),
        ("/rewards/{reward_id}/redeem", "POST"),
        ("/admin/campaigns/{campaign_id}/duplicate", "POST"),
        ("/unsubscribe", "POST"),  # RFC 8058's List-Unsubscribe=One-Click, or nothing
    }
)
# operations that always refuse: SCIM's read-only discovery endpoints (405), cross-type search (501)
REFUSING: dict[tuple[str, str], int] = {
    **{
        (path, method): 405
        for path in ("/scim/v2/ServiceProviderConfig", "/scim/v2/ResourceTypes", "/scim/v2/Schemas")
        for method in ("POST", "PUT", "PATCH", "DELETE")
    },
    ("/scim/v2/.search", "POST"): 501,
    ("/scim/v2/{resource}", "GET"): 404,
}
# path parameters: what the API accepts (anything else is a 422, or the redirect's 404)
_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
PATH_PARAMS: dict[str, dict[str, Any]] = {
    "period": {"type": "string", "pattern": f"^({_PERIOD})$"},
    "bot_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,31}$"},
    "index": {"type": "string", "pattern": "^[0-9]{1,2}$"},  # a story image, from 0
}

# (path, METHOD) -> (request schema or None, success status, response schema or None)
OPERATIONS: dict[tuple[str, str], tuple[str | None, int, str | None]] = {
    ("/admin/employees/{employee_id}", "PUT"): ("EmployeeInput", 200, "Employee"),
    ("/admin/employees/{employee_id}/invitation", "POST"): (None, 200, "Invitation"),
    ("/admin/employees/{employee_id}/invitation", "DELETE"): (None, 200, "Invitation"),
    ("/admin/employees/{employee_id}/invitation/link", "POST"): (None, 200, "InvitationLink"),
    ("/auth/sign-in", "POST"): ("SignInInput", 200, "SignInResult"),
    ("/auth/new-password", "POST"): ("NewPasswordInput", 200, "SignInResult"),
    ("/auth/refresh", "POST"): ("RefreshInput", 200, "SignInResult"),
    ("/auth/sign-out", "POST"): ("RefreshInput", 200, "SignedOut"),
    ("/auth/forgot-password", "POST"): ("ForgotPasswordInput", 200, "PasswordResetSent"),
    ("/auth/reset-password", "POST"): ("ResetPasswordInput", 200, "PasswordReset"),
    ("/admin/campaigns", "POST"): ("CampaignInput", 201, "Campaign"),
    ("/admin/campaigns/{campaign_id}", "PATCH"): ("CampaignEditInput", 200, "Campaign"),
    ("/admin/campaigns/{campaign_id}/end", "POST"): (None, 200, "Campaign"),
    ("/admin/campaigns/{campaign_id}/duplicate", "POST"): ("DuplicateInput", 201, "Campaign"),
    ("/admin/campaigns/{campaign_id}/archive", "POST"): (None, 200, "Campaign"),
    ("/admin/campaigns/{campaign_id}/archive", "DELETE"): (None, 200, "Campaign"),
    ("/admin/campaigns/{campaign_id}/links/sync", "POST"): (None, 200, "Campaign"),
    ("/admin/tenant", "GET"): (None, 200, "Tenant"),
    ("/admin/tenant", "PUT"): ("TenantInput", 200, "Tenant"),
    ("/campaigns/{campaign_id}", "GET"): (None, 200, "Campaign"),
    ("/campaigns/{campaign_id}/links", "POST"): ("LinkInput", 201, "Link"),
    ("/me", "GET"): (None, 200, "Me"),
    ("/me/ledger", "GET"): (None, 200, "Ledger"),
    ("/admin/employees/{employee_id}/ledger", "GET"): (None, 200, "Ledger"),
    ("/leaderboards", "GET"): (None, 200, "Leaderboard"),
    ("/leads", "POST"): ("LeadInput", 201, "LeadReceipt"),
    ("/customers", "GET"): (None, 200, "CustomerList"),
    ("/customers/{customer_id}", "GET"): (None, 200, "Customer"),
    ("/customers/{customer_id}", "PATCH"): ("CustomerPatch", 200, "Customer"),
    ("/rewards", "GET"): (None, 200, "RewardList"),
    ("/admin/rewards", "POST"): ("RewardInput", 201, "Reward"),
    ("/admin/rewards/{reward_id}", "PUT"): ("RewardUpdate", 200, "Reward"),
    ("/rewards/{reward_id}/redeem", "POST"): (None, 201, "Redemption"),
    ("/admin/tasks", "POST"): ("TaskInput", 201, "Task"),
    ("/admin/tasks/{task_id}", "GET"): (None, 200, "TaskDetail"),
    ("/me/tasks/{task_id}", "GET"): (None, 200, "MyTask"),
    ("/me/tasks", "GET"): (None, 200, "MyTaskList"),
    ("/lead-pool", "GET"): (None, 200, "CustomerList"),
    ("/me/redemptions", "GET"): (None, 200, "RedemptionList"),
    ("/admin/redemptions", "GET"): (None, 200, "RedemptionList"),
    ("/admin/webhooks/deliveries", "GET"): (None, 200, "DeliveryList"),
    ("/admin/materials", "GET"): (None, 200, "MaterialList"),
    ("/admin/copies", "GET"): (None, 200, "CopyList"),
    ("/admin/poster-templates", "GET"): (None, 200, "TemplateList"),
    ("/admin/poster-templates", "POST"): ("PosterTemplateInput", 201, "PosterTemplate"),
    ("/admin/poster-templates/{template_id}", "GET"): (None, 200, "PosterTemplate"),
    ("/admin/poster-templates/{template_id}", "PUT"): ("PosterTemplateInput", 200, "PosterTemplate"),
    ("/admin/exports", "POST"): ("ExportInput", 201, "Export"),
    ("/admin/materials/uploads", "POST"): ("UploadInput", 201, None),
    ("/admin/materials/uploads/{upload_id}/complete", "POST"): ("UploadComplete", 201, None),
    ("/admin/copies", "POST"): ("CopyInput", 201, None),
    ("/admin/prizes", "PUT"): ("PrizesInput", 200, None),
    ("/admin/webhooks", "PUT"): ("WebhookInput", 200, "WebhookEndpoint"),  # the secret in full when new
    ("/admin/webhooks", "GET"): (None, 200, "WebhookEndpoint"),
    ("/admin/webhooks/redeliveries", "POST"): ("RedeliveryInput", 202, "Redelivery"),
    ("/me/notifications", "GET"): (None, 200, "MyNotifications"),
    ("/me/notifications", "PUT"): ("NotificationPreferencesInput", 200, "MyNotifications"),
    ("/admin/notifications", "GET"): (None, 200, "NotificationSettings"),
    ("/admin/notifications", "PUT"): ("NotificationSettingsInput", 200, "NotificationSettings"),
    ("/unsubscribe", "POST"): (None, 200, "Unsubscribed"),
    ("/admin/chat-bots/{bot_id}", "PUT"): ("ChatBotInput", 200, "ChatBot"),
    ("/admin/redemptions/{redemption_id}/fulfil", "POST"): ("FulfilInput", 200, None),
    ("/admin/redemptions/{redemption_id}/cancel", "POST"): ("CancelInput", 200, None),
    ("/customers/{customer_id}/notes", "POST"): ("NoteInput", 201, None),
    ("/admin/campaigns/{campaign_id}/rules", "PUT"): ("RulesUpdate", 200, None),
    ("/admin/employees/{employee_id}/offboard", "POST"): ("OffboardInput", 200, None),
    ("/admin/links/{code}/reassign", "POST"): ("ReassignInput", 200, None),
    ("/admin/points/reversals", "POST"): ("ReversalInput", 201, None),
    # the same body: the withheld entry's source_key (from GET /admin/fraud) and a reason
    ("/admin/points/releases", "POST"): ("ReversalInput", 201, None),
    ("/admin/customers/{customer_id}/convert", "POST"): ("ConversionInput", 201, None),
    ("/me/tasks/{task_id}/proof", "POST"): ("ProofInput", 201, None),
    ("/admin/exports/{export_id}", "GET"): (None, 200, "Export"),
    ("/admin/scim/token", "POST"): (None, 201, "ScimToken"),
    ("/admin/scim/token", "GET"): (None, 200, "ScimTokenStatus"),
    ("/admin/employees/import", "POST"): (None, 202, "ImportJob"),
    ("/admin/employees/imports/{import_id}", "GET"): (None, 200, "ImportJob"),
    ("/admin/employees/imports/{import_id}/resume", "POST"): (None, 202, "ImportJob"),
    ("/analytics/summary", "GET"): (None, 200, "AnalyticsSummary"),
    ("/analytics/timeseries", "GET"): (None, 200, "AnalyticsTimeseries"),
    ("/analytics/breakdown", "GET"): (None, 200, "AnalyticsBreakdown"),
    ("/analytics/segments", "GET"): (None, 200, "AnalyticsSegments"),
    ("/campaigns", "GET"): (None, 200, "CampaignList"),
    ("/admin/employees", "GET"): (None, 200, "EmployeeList"),
    ("/admin/tasks", "GET"): (None, 200, "TaskList"),
    ("/me/links", "GET"): (None, 200, "LinkList"),
    ("/admin/employees/{employee_id}/links", "GET"): (None, 200, "LinkList"),
    ("/me/posters/{campaign_id}", "GET"): (None, 200, "PosterLink"),
    ("/me/stories", "POST"): ("StoryInput", 201, "Story"),
    ("/me/stories/check", "POST"): ("StoryCheckInput", 200, "StoryCheck"),
    ("/me/stories/{story_id}", "GET"): (None, 200, "Story"),
    ("/me/stories/{story_id}", "PATCH"): ("StoryInput", 200, "Story"),
    ("/me/stories/{story_id}/submit", "POST"): (None, 200, "Story"),
    ("/me/stories/{story_id}/withdraw", "POST"): (None, 200, "Story"),
    ("/me/stories/{story_id}/images", "POST"): (None, 201, "Story"),
    ("/me/stories/{story_id}/images/{index}", "DELETE"): (None, 200, "Story"),
    ("/me/stories", "GET"): (None, 200, "StoryPage"),
    ("/admin/stories", "GET"): (None, 200, "StoryPage"),
    ("/admin/stories/{story_id}", "GET"): (None, 200, "Story"),
    ("/admin/stories/{story_id}", "PATCH"): ("StoryInput", 200, "Story"),
    ("/admin/stories/{story_id}/approve", "POST"): ("StoryDecision", 200, "Story"),
    ("/admin/stories/{story_id}/reject", "POST"): ("StoryDecision", 200, "Story"),
    ("/admin/content-policy", "GET"): (None, 200, "ContentPolicy"),
    ("/admin/content-policy", "PUT"): ("ContentPolicyInput", 200, "ContentPolicy"),
    ("/me/card", "GET"): (None, 200, "MyCard"),
    ("/me/card", "PUT"): ("CardInput", 200, "MyCard"),
    ("/me/card/radar", "GET"): (None, 200, "CardRadar"),
    ("/me/card/images/{slot}", "PUT"): (None, 200, "MyCard"),
    ("/me/card/images/{slot}", "DELETE"): (None, 200, "MyCard"),
    ("/admin/card", "GET"): (None, 200, "CompanyCard"),
    ("/admin/card", "PUT"): ("CompanyCardInput", 200, "CompanyCard"),
    ("/c/{code}/taps", "POST"): ("TapInput", 202, "TapReceipt"),
}


def _q(name: str, schema: Mapping[str, Any], description: str = "", *, required: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": "query", "required": required, "schema": dict(schema)}
    if description:
        out["description"] = description
    return out


_LIMIT = _q("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "page size")
_CURSOR = _q("cursor", {"type": "string", "minLength": 1, "maxLength": 400}, "next_cursor of the previous page")
_PAGED = [_LIMIT, _CURSOR]
_BOOL_Q: dict[str, Any] = {"enum": ["true", "false"]}
_CUSTOMER_STATUS = {"enum": ["new", "contacted", "qualified", "won", "lost"]}
_REDEMPTION_STATUS = {"enum": ["requested", "fulfilled", "cancelled"]}
_RANGE = [
    _q("from", _DAY, "first day (tenant time zone)"),
    _q("to", _DAY, "last day, inclusive"),
    _q("campaign", _ID_Q),
    _q("employee", _ID_Q),
]

_SCIM_LIST = [
    _q("filter", _STR, 'RFC 7644 filter, e.g. userName eq "a@b.c"'),
    _q("startIndex", {"type": "integer", "minimum": 1}),
    _q("count", {"type": "integer", "minimum": 0}),
    _q("attributes", _STR),
    _q("excludedAttributes", _STR),
]
_POSTER = [
    _q("template", _ID_Q, "the poster template", required=True),
    _q("channel", {"enum": list(CHANNELS)}, "the link's channel", required=True),
    _q("format", {"enum": ["jpeg", "png"]}),
]
# a customer's share token: the forward it marks (the campaign's chain.share_param names it
# on destination sites; on the short link it is always rp)
_SHARE = _q("rp", {"type": "string", "maxLength": 160}, "share token of the forwarding visitor")
_LANG = _q("lang", {"type": "string", "maxLength": 35}, "the page's language (else Accept-Language)")

# (path, METHOD) -> the request headers it needs
# the signed token of a notification e-mail's unsubscribe link (names whom and what to stop)
_UNSUBSCRIBE_TOKEN = {"name": "t", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1}}
HEADERS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("/rewards/{reward_id}/redeem", "POST"): [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": "one per redemption the employee means; a replay answers the first result (200)",
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        }
    ],
}

# (path, METHOD) -> its query parameters: every one the operation accepts (others are a 422)
QUERY: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("/customers", "GET"): [
        _q("owner", _ID_Q, "admins: an employee id, or pool"),
        _q("status", _CUSTOMER_STATUS),
        _q("tag", {"type": "string", "minLength": 1, "maxLength": 32}),
        _q("campaign_id", _ID_Q),
        _q(
            "q",
            {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
            "any part of a name, e-mail or phone number (case- and width-insensitive)",
        ),
        *_PAGED,
    ],
    ("/lead-pool", "GET"): [
        _q("status", _CUSTOMER_STATUS),
        _q("tag", {"type": "string", "minLength": 1, "maxLength": 32}),
        _q("campaign_id", _ID_Q),
        *_PAGED,
    ],
    ("/me/ledger", "GET"): _PAGED,
    ("/admin/employees/{employee_id}/ledger", "GET"): _PAGED,
    ("/campaigns", "GET"): [_q("archived", _BOOL_Q, "admins: only the archived campaigns"), *_PAGED],
    ("/admin/tasks", "GET"): _PAGED,
    ("/admin/webhooks/deliveries", "GET"): _PAGED,
    ("/unsubscribe", "GET"): [_UNSUBSCRIBE_TOKEN],
    ("/unsubscribe", "POST"): [_UNSUBSCRIBE_TOKEN],
    ("/me/tasks", "GET"): [_LIMIT],
    ("/admin/employees", "GET"): [_q("active", _BOOL_Q)],
    ("/me/links", "GET"): [_q("campaign_id", _ID_Q), _q("channel", {"enum": list(CHANNELS)})],
    ("/rewards", "GET"): [_q("include_inactive", _BOOL_Q, "admins only")],
    ("/me/redemptions", "GET"): [_q("status", _REDEMPTION_STATUS), *_PAGED],
    ("/admin/redemptions", "GET"): [_q("status", _REDEMPTION_STATUS), _q("employee_id", _ID_Q), *_PAGED],
    ("/admin/copies", "GET"): [_q("tag", {"type": "string", "maxLength": 32})],
    ("/leaderboards", "GET"): [
        _q("dimension", {"enum": list(DIMENSIONS)}),
        _q("period", {"type": "string", "pattern": f"^(all|{_PERIOD})$"}, "all, YYYY-MM-DD, YYYY-Www or YYYY-MM"),
        _q("campaign_id", _ID_Q),
        _LIMIT,
    ],
    ("/me/stories", "GET"): [_LIMIT, _CURSOR],
    ("/admin/stories", "GET"): [
        _q("status", {"enum": ["pending", "approved", "rejected", "withdrawn"]}, "review state (default pending)"),
        _LIMIT,
        _CURSOR,
    ],
    ("/admin/fraud", "GET"): [
        _q("days", {"type": "integer", "minimum": 1, "maximum": 90}),
        _q("kind", {"enum": ["burst", "velocity", "employee_click"]}),
    ],
    ("/campaigns/{campaign_id}/chains", "GET"): [_q("root", _ID_Q, "the employee the tree starts at", required=True)],
    ("/settlements/{period}", "GET"): [_LIMIT],
    ("/analytics/summary", "GET"): _RANGE,
    ("/analytics/timeseries", "GET"): _RANGE,
    ("/analytics/breakdown", "GET"): [*_RANGE, _q("by", {"enum": list(BREAKDOWNS)}, required=True), _LIMIT],
    ("/analytics/segments", "GET"): [_q("employee", _ID_Q), _LIMIT],
    ("/admin/employees/import", "POST"): [_q("dry_run", _BOOL_Q)],
    ("/admin/materials", "POST"): [_q("name", {"type": "string", "maxLength": 200})],
    **{
        (path, "GET"): _SCIM_LIST
        for path in ("/scim/v2/Users", "/scim/v2/Groups", "/scim/v2/Users/{user_id}", "/scim/v2/Groups/{group_id}")
    },
    ("/admin/poster-templates/{template_id}", "GET"): [_q("version", {"type": "integer", "minimum": 1})],
    ("/campaigns/{campaign_id}/poster", "GET"): _POSTER,
    ("/me/posters/{campaign_id}", "GET"): _POSTER,
    ("/assets/{name}", "GET"): [_q("v", {"type": "string"}, "cache-busting version (any value)")],
    ("/{code}", "GET"): [_SHARE],
    ("/{code}", "HEAD"): [_SHARE],
    ("/p/{code}", "GET"): [_SHARE, _LANG],
    ("/story/{code}", "GET"): [_SHARE, _LANG],
    ("/story/{code}", "HEAD"): [_SHARE, _LANG],
    ("/p/{code}", "HEAD"): [_SHARE, _LANG],
}


_REDIRECTS = {
    "/{code}",
    "/s/{token}",
    "/campaigns/{campaign_id}/poster",
    "/c/{code}/images/{slot}",
    "/story/{code}/images/{index}",
}
_HTML = {"/p/{code}", "/c/{code}", "/story/{code}", "/console", "/m"}
# a page for GET, JSON (or, with Accept: text/html, the page) for POST
_HTML_GET = {"/unsubscribe"}
_VCARD = {"/c/{code}/vcard"}
_STATIC = {"/assets/{name}"}
_PARAM = re.compile(r"{([^}/]+)}")


def _summary(view: Any, method: str, path: str) -> tuple[str, str]:
    doc = (getattr(view, "__doc__", None) or "").strip()
    if not doc:
        return f"{method} {path}", ""
    lines = [line.strip() for line in doc.splitlines()]
    first = " ".join(lines[: lines.index("")] if "" in lines else lines)
    return first[:200], " ".join(line for line in lines if line)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _takes_json_body(view: Any) -> bool:
    """Whether the view reads its body as a JSON object (``json_body()``, a 422 when it is not one)."""
    code = getattr(inspect.unwrap(view), "__code__", None) if view is not None else None
    return code is not None and "json_body" in _code_names(code)


def _revalidates(view: Any) -> bool:
    """Whether the view answers through ``etag_response`` (an ``ETag``, and 304 to a matching
    ``If-None-Match``: the live pages' fallback polling)."""
    code = getattr(inspect.unwrap(view), "__code__", None) if view is not None else None
    return code is not None and "etag_response" in _code_names(code)


def _path_schema(path: str, name: str) -> dict[str, Any]:
    if name in PATH_PARAMS:
        return dict(PATH_PARAMS[name])
    if name.endswith("_id") and not path.startswith("/scim/"):
        return {"type": "string", "pattern": _ID_PATTERN}
    return dict(_STR)


def _operation(path: str, method: str, view: Any, content_types: list[str]) -> dict[str, Any]:
    summary, description = _summary(view, method, path)
    name = str(getattr(view, "__name__", "") or f"{method.lower()}_{path}")
    op: dict[str, Any] = {"operationId": f"{name}_{method.lower()}", "summary": summary}
    if description and description != summary:
        op["description"] = description
    params = [
        {"name": p, "in": "path", "required": True, "schema": _path_schema(path, p)} for p in _PARAM.findall(path)
    ]
    params += QUERY.get((path, method), [])
    params += HEADERS.get((path, method), [])
    if params:
        op["parameters"] = params
    key = (path, method)
    request, status, response = OPERATIONS.get(key, (None, 201 if key in CREATED else 200, None))
    body_required = key not in OPTIONAL_BODY
    if request is not None:
        op["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": _ref(request)}}}
    elif method in ("POST", "PUT", "PATCH") and _takes_json_body(view):
        op["requestBody"] = {"required": body_required, "content": {"application/json": {"schema": {"type": "object"}}}}
    elif method in ("POST", "PUT", "PATCH") and [t for t in content_types if t != "application/json"]:
        types = [t for t in content_types if t != "application/json"]
        op["requestBody"] = {"required": body_required, "content": {t: {"schema": {}} for t in types}}
    responses: dict[str, Any] = {}
    if key in REFUSING:
        pass
    elif method == "OPTIONS":
        responses["204"] = {"description": "CORS preflight"}
    elif path in _REDIRECTS:
        responses["302"] = {"description": "Redirect", "headers": {"Location": {"schema": _STR}}}
    elif path in _HTML or (path in _HTML_GET and method in ("GET", "HEAD")):
        responses["200"] = {"description": "HTML page", "content": {"text/html": {"schema": _STR}}}
    elif path in _VCARD:
        responses["200"] = {"description": "vCard 4.0 (RFC 6350)", "content": {"text/vcard": {"schema": _STR}}}
    elif path in _STATIC:
        assets = ("text/javascript", "text/css", "application/json", "image/svg+xml", "application/manifest+json")
        content = {t: {"schema": {"type": "object"} if t == "application/json" else _STR} for t in assets}
        responses["200"] = {"description": "Static asset", "content": content}  # i18n.json is an object
    elif method in ("OPTIONS", "HEAD"):
        responses["200"] = {"description": "OK"}
    else:
        schema = _ref(response) if response else {"type": "object"}
        responses[str(status)] = {"description": "OK", "content": {"application/json": {"schema": schema}}}
        for extra, name in MORE_RESPONSES.get((path, method), {}).items():
            responses[str(extra)] = {"description": "OK", "content": {"application/json": {"schema": _ref(name)}}}
        if path in _HTML_GET:
            responses[str(status)]["content"]["text/html"] = {"schema": _STR}
        if _revalidates(view):
            responses[str(status)]["headers"] = {"ETag": {"schema": _STR}}
            responses["304"] = {"description": "Not modified (If-None-Match matched the ETag)"}
            op.setdefault("parameters", []).append(
                {"name": "If-None-Match", "in": "header", "required": False, "schema": _STR}
            )
    responses["4XX"] = _error("Client error")
    responses["5XX"] = _error("Server error")
    if path in _REDIRECTS or path in _HTML:  # browsers (Accept: text/html) get a small page
        for rng in ("4XX", "5XX"):
            responses[rng]["content"]["text/html"] = {"schema": _STR}
    op["responses"] = responses
    if not requires_auth(view):
        op["security"] = []
    elif role := _role(view):
        op["x-ripple-role"] = role  # refused with 403 for any other role
    tag = path.strip("/").split("/", 1)[0] or "redirect"
    op["tags"] = ["card" if tag == "c" else "redirect" if tag.startswith("{") or tag in ("s", "p") else tag]
    if path.startswith("/scim/"):
        return _scim_operation(path, method, op)
    return op


def build_document(routes: Mapping[str, Mapping[str, Any]], version: str = "1.0.0") -> dict[str, Any]:
    """``routes`` is ``app.routes`` of a Chalice app: path -> method -> RouteEntry."""
    paths: dict[str, dict[str, Any]] = {}
    for path in sorted(routes):
        for method in sorted(routes[path]):
            entry = routes[path][method]
            view = getattr(entry, "view_function", None)
            content_types = list(getattr(entry, "content_types", None) or [])
            paths.setdefault(path, {})[method.lower()] = _operation(path, method.upper(), view, content_types)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ripple API",
            "version": version,
            "description": "All-staff marketing: tracked links, redirects, points, leaderboards, "
            "customers, rewards, tasks, posters and exports. Bearer JWT on every non-public route.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                # /scim/v2: the tenant's SCIM token from POST /admin/scim/token
                "scimToken": {"type": "http", "scheme": "bearer"},
            },
            "schemas": SCHEMAS,
        },
    }


_cached: str | None = None


def document_json(routes: Mapping[str, Mapping[str, Any]]) -> str:
    """The serialized document, built on the first call of the process."""
    global _cached
    if _cached is None:
        _cached = json.dumps(build_document(routes), ensure_ascii=False, separators=(",", ":"))
    return _cached
