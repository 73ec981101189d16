"""SCIM 2.0 provisioning (RFC 7643/7644) at /scim/v2.

/scim/v2/* authenticates with the tenant's SCIM token (POST /admin/scim/token), not a user's
JWT, and answers in SCIM's media type and error schema. ripple.service.scim (and the filter
parser it loads on a filtered list) is imported inside the views only, so the redirect's cold
start never pays for it.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    current_request,
    query_params,
    raw_bytes,
)
from ripple.domain.errors import RippleError

__all__ = ["scim"]

scim = Area("scim")


SCIM_TYPES = ["application/scim+json", "application/json"]


SCIM_MAX_BODY = 1024 * 1024  # a group of a few thousand members


def _scim_response(body: Any, status: int = 200) -> Response:
    if body is None:
        return Response(body="", status_code=status, headers={"Cache-Control": "no-store"})
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": "application/scim+json; charset=utf-8", "Cache-Control": "no-store"},
    )


def _scim_base() -> str:
    request = current_request()
    configured = bootstrap.config().public_base_url
    if configured:
        return configured.rstrip("/") + "/scim/v2"
    ctx = request.context or {}
    if ctx.get("domainName") and "amazonaws.com" in str(ctx.get("domainName")):
        stage = str(ctx.get("stage") or "$default")
        prefix = "" if stage == "$default" else f"/{stage}"  # the HTTP API's default stage has no path
        return f"https://{ctx['domainName']}{prefix}/scim/v2"
    return f"http://{request.headers.get('host', 'localhost')}/scim/v2"


def _scim(operation: str, *args: Any, status: int = 200, body: bool = False) -> Response:
    """Authenticate the SCIM token, call ``ripple.service.scim.<operation>``, answer in SCIM.

    The use cases' signatures follow their names: ``list_*(svc, p, query, base)``,
    ``get_*(svc, p, id, base, query)``, ``create_*(svc, p, body, base)``,
    ``replace_*``/``patch_*(svc, p, id, body, base)``, ``delete_*(svc, p, id)``."""
    from ripple.domain.scim import ScimError
    from ripple.service import scim

    try:
        principal = scim.authenticate_scim(current_request().headers.get("authorization"))
        extra: list[Any] = []
        if body:
            try:
                extra.append(json.loads(_scim_body()))
            except (ValueError, RecursionError) as exc:
                raise ScimError(400, f"the body is not JSON: {exc}", "invalidSyntax") from exc
        if operation.startswith(("get_", "list_")):
            extra.append(_scim_base())
            extra.append(query_params())
        elif operation.startswith(("create_", "replace_", "patch_")):
            extra.append(_scim_base())
        if operation.startswith("list_"):
            extra = [query_params(), _scim_base()]
        result = getattr(scim, operation)(bootstrap.services(), principal, *args, *extra)
        return _scim_response(result, status)
    except ScimError as err:
        return _scim_response(err.to_scim(), err.status)
    except RippleError as err:
        kind = {409: "uniqueness", 400: "invalidValue", 422: "invalidValue"}.get(err.status)
        code = 400 if err.status == 422 else err.status
        return _scim_response(ScimError(code, err.message, kind).to_scim(), code)
    except Exception:
        import logging

        logging.getLogger("ripple.scim").exception("unhandled error in SCIM %s", operation)
        return _scim_response(ScimError(500, "internal error").to_scim(), 500)


def _scim_body() -> bytes:
    from ripple.domain.scim import ScimError

    data = raw_bytes()
    if len(data) > SCIM_MAX_BODY:
        raise ScimError(413, f"the body exceeds {SCIM_MAX_BODY} bytes", "tooLarge")
    if not data:
        raise ScimError(400, "the body must be a JSON object", "invalidSyntax")
    return data


def _scim_static(kind: str, item_id: str | None = None) -> Response:
    """Discovery documents (RFC 7644 §4): the same for every tenant, behind the token."""
    from ripple.domain import scim as rules
    from ripple.service.scim import authenticate_scim

    try:
        authenticate_scim(current_request().headers.get("authorization"))
        base = _scim_base()
        if kind == "ServiceProviderConfig":
            return _scim_response(rules.service_provider_config(base))
        items = rules.schemas(base) if kind == "Schemas" else rules.resource_types(base)
        if item_id is None:
            return _scim_response(
                {
                    "schemas": [rules.LIST_SCHEMA],
                    "totalResults": len(items),
                    "startIndex": 1,
                    "itemsPerPage": len(items),
                    "Resources": items,
                }
            )
        found = next((i for i in items if i["id"] == item_id), None)
        if found is None:
            raise rules.ScimError(404, f"no {kind[:-1]} {item_id}")
        return _scim_response(found)
    except rules.ScimError as err:
        return _scim_response(err.to_scim(), err.status)


def _scim_not_allowed() -> Response:
    from ripple.domain.scim import ScimError

    return _scim_response(ScimError(405, "discovery endpoints are read-only (GET)").to_scim(), 405)


@scim.route("/scim/v2/Users", methods=["GET"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_list_users() -> Response:
    """SCIM: list users (``filter=userName eq "…"``, ``startIndex``, ``count``)."""
    return _scim("list_users")


@scim.route("/scim/v2/Users", methods=["POST"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_create_user() -> Response:
    """SCIM: create a user (an employee; 409 uniqueness when the userName is taken)."""
    return _scim("create_user", status=201, body=True)


@scim.route("/scim/v2/Users/{user_id}", methods=["GET"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_get_user(user_id: str) -> Response:
    """SCIM: one user."""
    return _scim("get_user", user_id)


@scim.route("/scim/v2/Users/{user_id}", methods=["PUT"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_replace_user(user_id: str) -> Response:
    """SCIM: replace a user (``active: false`` offboards, customers to the pool)."""
    return _scim("replace_user", user_id, body=True)


@scim.route("/scim/v2/Users/{user_id}", methods=["PATCH"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_patch_user(user_id: str) -> Response:
    """SCIM: PATCH a user (RFC 7644 §3.5.2; ``active: false`` offboards)."""
    return _scim("patch_user", user_id, body=True)


@scim.route("/scim/v2/Users/{user_id}", methods=["DELETE"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_delete_user(user_id: str) -> Response:
    """SCIM: delete a user (the employee is offboarded, customers to the pool)."""
    return _scim("delete_user", user_id, status=204)


@scim.route("/scim/v2/Groups", methods=["GET"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_list_groups() -> Response:
    """SCIM: list groups (teams)."""
    return _scim("list_groups")


@scim.route("/scim/v2/Groups", methods=["POST"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_create_group() -> Response:
    """SCIM: create a group (a team; members move into it)."""
    return _scim("create_group", status=201, body=True)


@scim.route("/scim/v2/Groups/{group_id}", methods=["GET"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_get_group(group_id: str) -> Response:
    """SCIM: one group."""
    return _scim("get_group", group_id)


@scim.route("/scim/v2/Groups/{group_id}", methods=["PUT"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_replace_group(group_id: str) -> Response:
    """SCIM: replace a group (members added move in, members removed become unassigned)."""
    return _scim("replace_group", group_id, body=True)


@scim.route("/scim/v2/Groups/{group_id}", methods=["PATCH"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_patch_group(group_id: str) -> Response:
    """SCIM: PATCH a group (add/remove members, rename)."""
    return _scim("patch_group", group_id, body=True)


@scim.route("/scim/v2/Groups/{group_id}", methods=["DELETE"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_delete_group(group_id: str) -> Response:
    """SCIM: delete a group (its members become unassigned)."""
    return _scim("delete_group", group_id, status=204)


@scim.route("/scim/v2/ServiceProviderConfig", methods=["GET"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_service_provider_config() -> Response:
    """SCIM: what this service provider supports (RFC 7644 §4)."""
    return _scim_static("ServiceProviderConfig")


@scim.route("/scim/v2/ResourceTypes", methods=["GET"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_resource_types() -> Response:
    """SCIM: the resource types (User, Group)."""
    return _scim_static("ResourceTypes")


@scim.route("/scim/v2/ResourceTypes/{name}", methods=["GET"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_resource_type(name: str) -> Response:
    """SCIM: one resource type."""
    return _scim_static("ResourceTypes", name)


@scim.route("/scim/v2/Schemas", methods=["GET"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_schemas() -> Response:
    """SCIM: the schemas (core User with the enterprise extension, Group)."""
    return _scim_static("Schemas")


@scim.route("/scim/v2/Schemas/{schema_id}", methods=["GET"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_schema(schema_id: str) -> Response:
    """SCIM: one schema."""
    return _scim_static("Schemas", schema_id)


@scim.route(
    "/scim/v2/ServiceProviderConfig",
    methods=["POST", "PUT", "PATCH", "DELETE"],
    auth=Auth.SCIM,
    errors=False,
    content_types=SCIM_TYPES,
)
def scim_service_provider_config_write() -> Response:
    """SCIM: discovery endpoints are read-only (405)."""
    return _scim_not_allowed()


@scim.route(
    "/scim/v2/ResourceTypes",
    methods=["POST", "PUT", "PATCH", "DELETE"],
    auth=Auth.SCIM,
    errors=False,
    content_types=SCIM_TYPES,
)
def scim_resource_types_write() -> Response:
    """SCIM: discovery endpoints are read-only (405)."""
    return _scim_not_allowed()


@scim.route(
    "/scim/v2/Schemas",
    methods=["POST", "PUT", "PATCH", "DELETE"],
    auth=Auth.SCIM,
    errors=False,
    content_types=SCIM_TYPES,
)
def scim_schemas_write() -> Response:
    """SCIM: discovery endpoints are read-only (405)."""
    return _scim_not_allowed()


@scim.route("/scim/v2/.search", methods=["POST"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_search_all() -> Response:
    """SCIM: searching every resource type at once is not implemented (501, RFC 7644 §3.4.3)."""
    from ripple.domain.scim import ScimError

    return _scim_response(ScimError(501, "POST /.search across resource types is not supported").to_scim(), 501)


@scim.route("/scim/v2/{resource}", methods=["GET"], auth=Auth.SCIM, errors=False, content_types=SCIM_TYPES)
def scim_unknown(resource: str) -> Response:
    """SCIM: an endpoint that does not exist, answered in SCIM's error schema (404)."""
    from ripple.domain.scim import ScimError

    return _scim_response(ScimError(404, f"no SCIM endpoint /{resource}").to_scim(), 404)
