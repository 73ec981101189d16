"""Ripple's HTTP API and the public redirect (AWS Chalice).

Entry points only: parse the request, call a use case, map domain errors to JSON. Heavy
modules (posters, Pillow, pydantic) are never imported here, because every cold start of
the redirect pays for what this module imports; see ``make bench`` for the import ratio.
"""

from __future__ import annotations

import html
from typing import Any

from chalice.app import Chalice, Request, Response

from ripple import bootstrap
from ripple.domain.errors import NotFoundError, RippleError
from ripple.domain.validation import parse_json_body
from ripple.http import (
    VISITOR_COOKIE,
    authenticate,
    cookies,
    error_response,
    handle_errors,
    json_response,
    optional_viewer,
)
from ripple.service.auth import Principal

app = Chalice(app_name="ripple")
app.api.binary_types = []


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it for every routed call
    return request


def _principal() -> Principal:
    cfg = bootstrap.config()
    return authenticate(_request(), secret=cfg.jwt_secret, mode=cfg.auth_mode)


def _body() -> dict[str, Any]:
    return parse_json_body(_request().raw_body)


def _query() -> dict[str, str]:
    return dict(_request().query_params or {})


# ------------------------------------------------------------------ admin


@app.route("/admin/employees/{employee_id}", methods=["PUT"])
@handle_errors
def put_employee(employee_id: str) -> Response:
    from ripple.service.admin import upsert_employee

    principal = _principal()
    employee = upsert_employee(bootstrap.services(), principal, employee_id, _body())
    return json_response(employee.to_public())


@app.route("/admin/campaigns", methods=["POST"])
@handle_errors
def post_campaign() -> Response:
    from ripple.service.admin import create_campaign

    principal = _principal()
    campaign = create_campaign(bootstrap.services(), principal, _body())
    return json_response(campaign.to_public(), 201)


@app.route("/admin/tenant", methods=["GET"])
@handle_errors
def get_tenant() -> Response:
    from ripple.service.admin import get_tenant as get_tenant_uc

    tenant = get_tenant_uc(bootstrap.services(), _principal())
    return json_response({"tenant_id": tenant.tenant_id, "name": tenant.name, "timezone": tenant.timezone})


@app.route("/admin/tenant", methods=["PUT"])
@handle_errors
def put_tenant() -> Response:
    from ripple.service.admin import update_tenant

    principal = _principal()
    tenant = update_tenant(bootstrap.services(), principal, _body())
    return json_response({"tenant_id": tenant.tenant_id, "name": tenant.name, "timezone": tenant.timezone})


# ------------------------------------------------------------------ employees


@app.route("/campaigns/{campaign_id}", methods=["GET"])
@handle_errors
def get_campaign(campaign_id: str) -> Response:
    from ripple.service.admin import get_campaign as get_campaign_uc

    campaign = get_campaign_uc(bootstrap.services(), _principal(), campaign_id)
    return json_response(campaign.to_public())


@app.route("/campaigns/{campaign_id}/links", methods=["POST"])
@handle_errors
def post_link(campaign_id: str) -> Response:
    from ripple.service.links import issue_link

    principal = _principal()
    svc = bootstrap.services()
    link, created = issue_link(svc, principal, campaign_id, _body())
    return json_response(link.to_public(svc.settings.public_base_url), 201 if created else 200)


@app.route("/campaigns/{campaign_id}/chains", methods=["GET"])
@handle_errors
def get_chains(campaign_id: str) -> Response:
    from ripple.service.chains import chain_tree

    return json_response(chain_tree(bootstrap.services(), _principal(), campaign_id, _query()))


@app.route("/me", methods=["GET"])
@handle_errors
def get_me() -> Response:
    from ripple.service.queries import me

    return json_response(me(bootstrap.services(), _principal()))


@app.route("/leaderboards", methods=["GET"])
@handle_errors
def get_leaderboards() -> Response:
    from ripple.service.queries import leaderboard

    entries = leaderboard(bootstrap.services(), _principal(), _query())
    return json_response({"entries": [e.to_dict() for e in entries]})


# ------------------------------------------------------------------ public redirect


_ERROR_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' "
    "content='width=device-width,initial-scale=1'><title>{title}</title></head><body style="
    "'font-family:system-ui,sans-serif;margin:3em auto;max-width:30em;padding:0 1em'>"
    "<h1>{title}</h1><p>{message}</p></body></html>"
)


def _visitor_error(err: RippleError) -> Response:
    """Browsers get a small page; API clients get the usual JSON error."""
    accept = _request().headers.get("accept") or ""
    if "text/html" not in accept:
        return error_response(err)
    titles = {404: "Link not found", 410: "This campaign has ended"}
    page = _ERROR_PAGE.format(title=titles.get(err.status, "Error"), message=html.escape(err.message))
    return Response(
        body=page,
        status_code=err.status,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
    )


def _follow(code: str, share_token: str | None) -> Response:
    from ripple.service.redirect import VisitRequest, follow_link

    request = _request()
    try:
        cfg = bootstrap.config()
        jar = cookies(request)
        identity = (request.context or {}).get("identity") or {}
        outcome = follow_link(
            bootstrap.services(),
            VisitRequest(
                code=code,
                method=request.method,
                user_agent=(request.headers.get("user-agent") or "")[:512],
                client_ip=str(identity.get("sourceIp") or ""),
                visitor_cookie=jar.get(VISITOR_COOKIE),
                viewer=optional_viewer(request, jar, secret=cfg.jwt_secret),
                country=request.headers.get("cloudfront-viewer-country") or "",
                share_token=share_token[:128] if share_token else None,
            ),
        )
    except RippleError as err:
        return _visitor_error(err)
    headers: dict[str, str | list[str]] = {
        "Location": outcome.location,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer-when-downgrade",
    }
    if outcome.set_visitor_cookie:
        secure = "; Secure" if (request.headers.get("x-forwarded-proto") or "") == "https" else ""
        headers["Set-Cookie"] = (
            f"{VISITOR_COOKIE}={outcome.set_visitor_cookie}; Max-Age=63072000; Path=/; HttpOnly; SameSite=Lax{secure}"
        )
    return Response(body="", status_code=302, headers=headers)


@app.route("/{code}", methods=["GET", "HEAD"])
def follow(code: str) -> Response:
    """The public redirect. ``?rp=<token>`` marks a forward through a customer's share."""
    query: dict[str, str] = dict(_request().query_params or {})
    return _follow(code, query.get("rp"))


@app.route("/s/{token}", methods=["GET", "HEAD"])
def follow_share(token: str) -> Response:
    """A customer's child link: the token names its link, so destination sites can build
    ``{base}/s/{rp}`` from the query parameter alone."""
    from ripple.domain.chains import token_code

    code = token_code(token)
    if code is None:
        return _visitor_error(NotFoundError("no such link"))
    return _follow(code, token)


@app.route("/", methods=["GET"])
def root() -> Response:
    return error_response(NotFoundError("no such link"))
