"""Ripple's HTTP API and the public redirect (AWS Chalice).

Entry points only: parse the request, call a use case, map domain errors to JSON. Heavy
modules (posters, Pillow, pydantic) are never imported here, because every cold start of
the redirect pays for what this module imports; see ``make bench`` for the import ratio.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.app import Request, Response

from ripple import bootstrap
from ripple.domain.errors import NotFoundError, RippleError
from ripple.domain.validation import parse_json_body
from ripple.http import (
    VISITOR_COOKIE,
    authenticate,
    cookies,
    error_response,
    etag_response,
    handle_errors,
    json_response,
    optional_viewer,
)
from ripple.service.auth import Principal
from ripple.web.http_api import HttpApiChalice

# Behind the HTTP API's prefix routes (template.yaml), see ripple.web.http_api.
app = HttpApiChalice(app_name="ripple")
# Request bodies of these types arrive base64-encoded from API Gateway (the HTTP API encodes
# every non-text body) and Chalice decodes them; no response of the app has these types.
app.api.binary_types = ["image/jpeg", "image/png", "image/webp", *("text/csv", "application/vnd.ms-excel")]
# what browsers and curl send a .csv as (Windows reports application/vnd.ms-excel)
CSV_TYPES = ["text/csv", "application/vnd.ms-excel"]


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it for every routed call
    current: Request = request
    return current


def _principal() -> Principal:
    """The verified caller. Offboarded employees (and Cognito users replaced by another for
    the same employee id) are refused even while their token has not expired yet: one
    cached read of the employee record (the API path, never the redirect)."""
    from ripple.domain.model import Role
    from ripple.service.accounts import check_account

    principal = authenticate(_request(), bootstrap.verifier())
    svc = bootstrap.services()
    check_account(svc, principal)
    if principal.role is Role.EMPLOYEE:
        cookie = cookies(_request()).get(VISITOR_COOKIE)
        if cookie and svc.fraud is not None:
            from ripple.service.ledger import remember_device

            remember_device(svc, principal, cookie)  # their phone, for the anti-fraud rules
    return principal


def _body() -> dict[str, Any]:
    return parse_json_body(_request().raw_body)


def _query() -> dict[str, str]:
    return dict(_request().query_params or {})


def _base_url(configured: str) -> str:
    """Base of short links: ``PublicBaseUrl``, else the API's own ``https://{domain}[/{stage}]``
    (template.yaml cannot pass that in: it would make the function depend on its own API)."""
    if configured:
        return configured
    ctx = _request().context or {}
    stage = ctx.get("stage", "")
    stage = "" if stage == "$default" else stage  # the HTTP API's default stage has no path prefix
    return f"https://{ctx.get('domainName', '')}/{stage}".rstrip("/")


# ------------------------------------------------------------------ admin


@app.route("/admin/employees/{employee_id}", methods=["PUT"])
@handle_errors
def put_employee(employee_id: str) -> Response:
    from ripple.service.admin import upsert_employee

    principal = _principal()
    employee = upsert_employee(bootstrap.services(), principal, employee_id, _body())
    return json_response(employee.to_public())


@app.route("/admin/employees/import", methods=["POST"], content_types=CSV_TYPES)
@handle_errors
def post_employee_import() -> Response:
    """CSV of employees (id,name,email,team,region,role) as the raw body; ``?dry_run=true``
    only checks it. 202 job, 200 dry-run report, 422 per-row errors (nothing written)."""
    from ripple.service.imports import start_import

    principal = _principal()
    raw = _request().raw_body
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw or b"")
    status, body = start_import(bootstrap.services(), principal, data, _query())
    return json_response(body, status)


@app.route("/admin/employees/imports/{import_id}", methods=["GET"])
@handle_errors
def get_employee_import(import_id: str) -> Response:
    """An import job's status and progress (processed of total, created, updated, failed)."""
    from ripple.service.imports import get_import

    return json_response(get_import(bootstrap.services(), _principal(), import_id))


@app.route("/admin/employees/imports/{import_id}/resume", methods=["POST"])
@handle_errors
def post_employee_import_resume(import_id: str) -> Response:
    """Restart a job whose worker died (lease expired); it continues from its cursor."""
    from ripple.service.imports import resume_import

    return json_response(resume_import(bootstrap.services(), _principal(), import_id), 202)


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
    return json_response(tenant.settings_dict())


@app.route("/admin/tenant", methods=["PUT"])
@handle_errors
def put_tenant() -> Response:
    from ripple.service.admin import update_tenant

    principal = _principal()
    tenant = update_tenant(bootstrap.services(), principal, _body())
    return json_response(tenant.settings_dict())


@app.route("/admin/campaigns/{campaign_id}/rules", methods=["PUT"])
@handle_errors
def put_campaign_rules(campaign_id: str) -> Response:
    """A new rules version, in force from now (earlier events keep their version)."""
    from ripple.service.admin import update_rules

    principal = _principal()
    campaign = update_rules(bootstrap.services(), principal, campaign_id, _body())
    return json_response(campaign.to_public())


@app.route("/admin/fraud", methods=["GET"])
@handle_errors
def get_fraud() -> Response:
    from ripple.service.ledger import fraud_report

    return json_response(fraud_report(bootstrap.services(), _principal(), _query()))


@app.route("/admin/webhooks", methods=["PUT"])
@handle_errors
def put_webhooks() -> Response:
    """The tenant's webhook endpoint; the signing secret is in the response only when new."""
    from ripple.service.webhooks import configure

    principal = _principal()
    allow_private = bootstrap.config().env in ("local", "test")
    return json_response(configure(bootstrap.services(), principal, _body(), allow_private=allow_private))


@app.route("/admin/webhooks", methods=["GET"])
@handle_errors
def get_webhooks() -> Response:
    from ripple.service.webhooks import get_config

    return json_response(get_config(bootstrap.services(), _principal()))


@app.route("/admin/webhooks/test", methods=["POST"])
@handle_errors
def post_webhook_test() -> Response:
    from ripple.service.webhooks import send_ping

    principal = _principal()
    allow_private = bootstrap.config().env in ("local", "test")
    return json_response(send_ping(bootstrap.services(), principal, allow_private=allow_private))


@app.route("/admin/webhooks/deliveries", methods=["GET"])
@handle_errors
def get_webhook_deliveries() -> Response:
    from ripple.service.webhooks import deliveries

    return json_response(deliveries(bootstrap.services(), _principal(), _query()))


@app.route("/admin/points/reversals", methods=["POST"])
@handle_errors
def post_reversal() -> Response:
    from ripple.service.ledger import reverse_points

    principal = _principal()
    return json_response(reverse_points(bootstrap.services(), principal, _body()), 201)


@app.route("/admin/employees/{employee_id}/ledger", methods=["GET"])
@handle_errors
def get_employee_ledger(employee_id: str) -> Response:
    from ripple.service.ledger import ledger_for

    return json_response(ledger_for(bootstrap.services(), _principal(), employee_id, _query()))


@app.route("/admin/customers/{customer_id}/convert", methods=["POST"])
@handle_errors
def post_convert(customer_id: str) -> Response:
    from ripple.service.ledger import convert_customer

    principal = _principal()
    return json_response(convert_customer(bootstrap.services(), principal, customer_id, _body()), 201)


@app.route("/admin/employees/{employee_id}/offboard", methods=["POST"])
@handle_errors
def post_offboard(employee_id: str) -> Response:
    from ripple.service.customers import offboard_employee

    principal = _principal()
    return json_response(offboard_employee(bootstrap.services(), principal, employee_id, _body()))


@app.route("/admin/links/{code}/reassign", methods=["POST"])
@handle_errors
def post_reassign_link(code: str) -> Response:
    from ripple.service.customers import reassign_link

    principal = _principal()
    return json_response(reassign_link(bootstrap.services(), principal, code, _body()))


# ------------------------------------------------------------------ customers and the lead pool


@app.route("/customers", methods=["GET"])
@handle_errors
def get_customers() -> Response:
    from ripple.service.customers import list_customers

    return json_response(list_customers(bootstrap.services(), _principal(), _query()))


@app.route("/customers/{customer_id}", methods=["GET"])
@handle_errors
def get_customer(customer_id: str) -> Response:
    from ripple.service.customers import get_customer as get_customer_uc

    return json_response(get_customer_uc(bootstrap.services(), _principal(), customer_id))


@app.route("/customers/{customer_id}", methods=["PATCH"])
@handle_errors
def patch_customer(customer_id: str) -> Response:
    from ripple.service.customers import patch_customer as patch_customer_uc

    principal = _principal()
    return json_response(patch_customer_uc(bootstrap.services(), principal, customer_id, _body()))


@app.route("/customers/{customer_id}/notes", methods=["POST"])
@handle_errors
def post_customer_note(customer_id: str) -> Response:
    from ripple.service.customers import note_customer

    principal = _principal()
    return json_response(note_customer(bootstrap.services(), principal, customer_id, _body()), 201)


@app.route("/lead-pool", methods=["GET"])
@handle_errors
def get_lead_pool() -> Response:
    from ripple.service.customers import lead_pool

    return json_response(lead_pool(bootstrap.services(), _principal(), _query()))


@app.route("/lead-pool/{customer_id}/claim", methods=["POST"])
@handle_errors
def post_claim(customer_id: str) -> Response:
    from ripple.service.customers import claim_from_pool

    return json_response(claim_from_pool(bootstrap.services(), _principal(), customer_id))


_LEADS_CORS: dict[str, str | list[str]] = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}


@app.route("/leads", methods=["OPTIONS"])
def options_lead() -> Response:
    """CORS preflight: forms on a customer's own site may post leads (no credentials)."""
    return Response(body="", status_code=204, headers=_LEADS_CORS)


@app.route("/leads", methods=["POST"], cors=True)
@handle_errors
def post_lead() -> Response:
    """Public lead capture (the landing page's form, or a form on the customer's site
    carrying the visitor's share token). Rate limited per network and per token."""
    from ripple.service.leads import LeadRequest, submit_lead

    request = _request()
    jar = cookies(request)
    receipt = submit_lead(
        bootstrap.services(),
        LeadRequest(
            body=_body(),
            client_ip=_client_ip(),
            user_agent=(request.headers.get("user-agent") or "")[:512],
            visitor_cookie=jar.get(VISITOR_COOKIE),
            viewer=optional_viewer(request, jar, bootstrap.verifier),  # staff earn nothing
            country=(request.headers.get("cloudfront-viewer-country") or "")[:2],
            language=(request.headers.get("accept-language") or "").split(",", 1)[0].split(";", 1)[0].strip()[:35],
        ),
    )
    return json_response({"lead_id": receipt.lead_id, "status": "received"}, 201)


# ------------------------------------------------------------------ points mall


@app.route("/admin/rewards", methods=["POST"])
@handle_errors
def post_reward() -> Response:
    from ripple.service.rewards import create_reward

    principal = _principal()
    return json_response(create_reward(bootstrap.services(), principal, _body()).to_public(), 201)


@app.route("/admin/rewards/{reward_id}", methods=["PUT"])
@handle_errors
def put_reward(reward_id: str) -> Response:
    from ripple.service.rewards import update_reward

    principal = _principal()
    return json_response(update_reward(bootstrap.services(), principal, reward_id, _body()).to_public())


@app.route("/rewards", methods=["GET"])
@handle_errors
def get_rewards() -> Response:
    from ripple.service.rewards import list_rewards

    return json_response(list_rewards(bootstrap.services(), _principal(), _query()))


@app.route("/rewards/{reward_id}/redeem", methods=["POST"])
@handle_errors
def post_redeem(reward_id: str) -> Response:
    """Needs an ``Idempotency-Key`` header; a replay returns the first result (200)."""
    from ripple.service.rewards import redeem

    principal = _principal()
    request = _request()
    key = request.headers.get("idempotency-key")
    status, body = redeem(bootstrap.services(), principal, reward_id, key, request.raw_body)
    return json_response(body, status)


@app.route("/me/redemptions", methods=["GET"])
@handle_errors
def get_my_redemptions() -> Response:
    from ripple.service.rewards import my_redemptions

    return json_response(my_redemptions(bootstrap.services(), _principal(), _query()))


@app.route("/admin/redemptions", methods=["GET"])
@handle_errors
def get_admin_redemptions() -> Response:
    from ripple.service.rewards import admin_redemptions

    return json_response(admin_redemptions(bootstrap.services(), _principal(), _query()))


@app.route("/admin/redemptions/{redemption_id}/fulfil", methods=["POST"])
@handle_errors
def post_fulfil(redemption_id: str) -> Response:
    from ripple.service.rewards import fulfil_redemption

    principal = _principal()
    body = _body() if _request().raw_body else {}
    return json_response(fulfil_redemption(bootstrap.services(), principal, redemption_id, body).to_public())


@app.route("/admin/redemptions/{redemption_id}/cancel", methods=["POST"])
@handle_errors
def post_cancel_redemption(redemption_id: str) -> Response:
    from ripple.service.rewards import cancel_redemption

    principal = _principal()
    return json_response(cancel_redemption(bootstrap.services(), principal, redemption_id, _body()))


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
    return json_response(link.to_public(_base_url(svc.settings.public_base_url)), 201 if created else 200)


@app.route("/campaigns/{campaign_id}/chains", methods=["GET"])
@handle_errors
def get_chains(campaign_id: str) -> Response:
    from ripple.service.chains import chain_tree

    return json_response(chain_tree(bootstrap.services(), _principal(), campaign_id, _query()))


@app.route("/me", methods=["GET"])
@handle_errors
def get_me() -> Response:
    from ripple.service.queries import me

    return etag_response(_request(), me(bootstrap.services(), _principal()))


@app.route("/me/ledger", methods=["GET"])
@handle_errors
def get_my_ledger() -> Response:
    from ripple.service.ledger import ledger_for

    return etag_response(_request(), ledger_for(bootstrap.services(), _principal(), None, _query()))


# ------------------------------------------------------------------ promotion tasks


@app.route("/admin/tasks", methods=["POST"])
@handle_errors
def post_task() -> Response:
    from ripple.service.tasks import create_task

    principal = _principal()
    return json_response(create_task(bootstrap.services(), principal, _request().raw_body), 201)


@app.route("/admin/tasks/{task_id}", methods=["GET"])
@handle_errors
def get_admin_task(task_id: str) -> Response:
    from ripple.service.tasks import admin_task

    return etag_response(_request(), admin_task(bootstrap.services(), _principal(), task_id))


@app.route("/me/tasks", methods=["GET"])
@handle_errors
def get_my_tasks() -> Response:
    from ripple.service.tasks import list_my_tasks

    principal = _principal()
    svc = bootstrap.services()
    return etag_response(_request(), list_my_tasks(svc, principal, _base_url(svc.settings.public_base_url), _query()))


@app.route("/me/tasks/{task_id}", methods=["GET"])
@handle_errors
def get_my_task(task_id: str) -> Response:
    from ripple.service.tasks import open_my_task

    principal = _principal()
    svc = bootstrap.services()
    return etag_response(_request(), open_my_task(svc, principal, task_id, _base_url(svc.settings.public_base_url)))


@app.route("/me/tasks/{task_id}/proof", methods=["POST"])
@handle_errors
def post_task_proof(task_id: str) -> Response:
    from ripple.service.tasks import submit_proof

    principal = _principal()
    return json_response(submit_proof(bootstrap.services(), principal, task_id, _body()), 201)


@app.route("/leaderboards", methods=["GET"])
@handle_errors
def get_leaderboards() -> Response:
    from ripple.service.queries import leaderboard_page

    return etag_response(_request(), leaderboard_page(bootstrap.services(), _principal(), _query()))


# ------------------------------------------------------------------ materials, templates and posters
# Image decoding and rendering run in the PosterFunction (functions/poster.py, Pillow in its
# own layer): these views import only ripple.service.posters, never an imaging library.


def _poster_deps() -> Any:
    from ripple.service.posters import default_deps

    return default_deps()


@app.route("/admin/materials", methods=["POST"], content_types=["image/jpeg", "image/png", "image/webp"])
@handle_errors
def post_material() -> Response:
    """The raw image is the body (``Content-Type: image/jpeg|png|webp``, at most 10 MB)."""
    from ripple.service.posters import upload_material

    principal = _principal()
    request = _request()
    raw = request.raw_body
    body = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw or b"")
    name = str(_query().get("name") or "")
    result = upload_material(
        bootstrap.services(), _poster_deps(), principal, body, request.headers.get("content-type") or "", name
    )
    return json_response(result, 201)


@app.route("/admin/materials/uploads", methods=["POST"])
@handle_errors
def post_material_upload() -> Response:
    """Large images go straight to S3 with a presigned POST, then ``…/complete``."""
    from ripple.service.posters import start_upload

    principal = _principal()
    return json_response(start_upload(bootstrap.services(), _poster_deps(), principal, _body()), 201)


@app.route("/admin/materials/uploads/{upload_id}/complete", methods=["POST"])
@handle_errors
def post_material_upload_complete(upload_id: str) -> Response:
    from ripple.service.posters import complete_upload

    principal = _principal()
    return json_response(complete_upload(bootstrap.services(), _poster_deps(), principal, upload_id, _body()), 201)


@app.route("/admin/materials", methods=["GET"])
@handle_errors
def get_materials() -> Response:
    from ripple.service.posters import list_materials

    return json_response(list_materials(_poster_deps(), _principal()))


@app.route("/admin/copies", methods=["POST"])
@handle_errors
def post_copy() -> Response:
    from ripple.service.posters import create_copy

    principal = _principal()
    return json_response(create_copy(bootstrap.services(), _poster_deps(), principal, _body()), 201)


@app.route("/admin/copies", methods=["GET"])
@handle_errors
def get_copies() -> Response:
    from ripple.service.posters import list_copies

    return json_response(list_copies(_poster_deps(), _principal(), _query()))


@app.route("/admin/poster-templates", methods=["POST"])
@handle_errors
def post_poster_template() -> Response:
    from ripple.service.posters import create_template

    principal = _principal()
    return json_response(create_template(bootstrap.services(), _poster_deps(), principal, _body()), 201)


@app.route("/admin/poster-templates", methods=["GET"])
@handle_errors
def get_poster_templates() -> Response:
    from ripple.service.posters import list_templates

    return json_response(list_templates(_poster_deps(), _principal()))


@app.route("/admin/poster-templates/{template_id}", methods=["GET"])
@handle_errors
def get_poster_template(template_id: str) -> Response:
    from ripple.service.posters import get_template

    return json_response(get_template(_poster_deps(), _principal(), template_id, _query()))


@app.route("/admin/poster-templates/{template_id}", methods=["PUT"])
@handle_errors
def put_poster_template(template_id: str) -> Response:
    """Editing creates a new version (the response carries it)."""
    from ripple.service.posters import update_template

    principal = _principal()
    return json_response(update_template(bootstrap.services(), _poster_deps(), principal, template_id, _body()))


@app.route("/campaigns/{campaign_id}/poster", methods=["GET"])
@handle_errors
def get_poster(campaign_id: str) -> Response:
    """302 to a presigned S3 URL of the caller's poster (rendered on the first request only)."""
    from ripple.service.posters import get_poster as get_poster_uc

    principal = _principal()
    svc = bootstrap.services()
    base_url = _base_url(svc.settings.public_base_url)
    result = get_poster_uc(svc, _poster_deps(), principal, campaign_id, _query(), base_url)
    return Response(
        body="",
        status_code=302,
        headers={
            "Location": result.url,
            "Cache-Control": "private, no-store",
            "X-Poster-Cache": "hit" if result.cached else "miss",
        },
    )


# ------------------------------------------------------------------ period-end settlement


@app.route("/admin/prizes", methods=["GET"])
@handle_errors
def get_prizes() -> Response:
    from ripple.service.settlement import get_prizes as get_prizes_uc

    return json_response(get_prizes_uc(bootstrap.services(), _principal()))


@app.route("/admin/prizes", methods=["PUT"])
@handle_errors
def put_prizes() -> Response:
    from ripple.service.settlement import put_prizes as put_prizes_uc

    principal = _principal()
    return json_response(put_prizes_uc(bootstrap.services(), principal, _body()))


@app.route("/settlements/{period}", methods=["GET"])
@handle_errors
def get_settlement(period: str) -> Response:
    from ripple.service.settlement import get_settlement as get_settlement_uc

    return json_response(get_settlement_uc(bootstrap.services(), _principal(), period, _query()))


# ------------------------------------------------------------------ CSV exports
# The CSV is written by the ExportFunction (functions/exports.py) straight into S3.


@app.route("/admin/exports", methods=["POST"])
@handle_errors
def post_export() -> Response:
    """Start a CSV export of visits, leads, customers or ledger for a date range (tenant time zone)."""
    from ripple.service.exports import start_export

    principal = _principal()
    return json_response(start_export(bootstrap.services(), principal, _body()), 201)


@app.route("/admin/exports/{export_id}", methods=["GET"])
@handle_errors
def get_export(export_id: str) -> Response:
    """An export's status and, once done, a presigned download URL."""
    from ripple.service.exports import get_export as get_export_uc

    return json_response(get_export_uc(bootstrap.services(), _principal(), export_id))


# ------------------------------------------------------------------ analytics


@app.route("/analytics/summary", methods=["GET"])
@handle_errors
def get_analytics_summary() -> Response:
    """Totals, chain depth and the exposure-to-conversion funnel for a date range
    (``from``/``to`` in the tenant's zone; ``campaign``, ``employee``). Employees: their own."""
    from ripple.service.analytics import summary

    return etag_response(_request(), summary(bootstrap.services(), _principal(), _query()))


@app.route("/analytics/timeseries", methods=["GET"])
@handle_errors
def get_analytics_timeseries() -> Response:
    """The same metrics per day of the range (days without activity as zeros)."""
    from ripple.service.analytics import timeseries

    return etag_response(_request(), timeseries(bootstrap.services(), _principal(), _query()))


@app.route("/analytics/breakdown", methods=["GET"])
@handle_errors
def get_analytics_breakdown() -> Response:
    """Metrics per channel, team, region, employee, device, os, country, subdivision, city or
    campaign."""
    from ripple.service.analytics import breakdown

    return etag_response(_request(), breakdown(bootstrap.services(), _principal(), _query()))


@app.route("/analytics/segments", methods=["GET"])
@handle_errors
def get_analytics_segments() -> Response:
    """People by engagement level (light, medium, heavy) and reach, overall and per employee."""
    from ripple.service.analytics import segments

    return etag_response(_request(), segments(bootstrap.services(), _principal(), _query()))


@app.route("/admin/employees/{employee_id}/invitation", methods=["POST", "DELETE"])
@handle_errors
def employee_invitation(employee_id: str) -> Response:
    """POST: send the invitation again (a new temporary password); DELETE: revoke it."""
    from ripple.service.admin import resend_invitation, revoke_invitation

    use_case = resend_invitation if _request().method == "POST" else revoke_invitation
    return json_response(use_case(bootstrap.services(), _principal(), employee_id))


@app.route("/admin/employees/{employee_id}/invitation/link", methods=["POST"])
@handle_errors
def employee_invitation_link(employee_id: str) -> Response:
    """A fresh invitation to hand over in person: its link and a QR code of it, shown once
    (the e-mailed one stops working)."""
    from ripple.service.admin import invitation_link
    from ripple.web.qr import svg_data_url

    principal = _principal()
    svc = bootstrap.services()
    result = invitation_link(svc, principal, employee_id, _base_url(svc.settings.public_base_url))
    return json_response({**result, "qr": svg_data_url(result["url"])}, headers={"Cache-Control": "no-store"})


# ------------------------------------------------------------------ sign-in (public: relayed to Cognito)


def _auth_flow(name: str) -> Response:
    from ripple.service import identity

    use_case = getattr(identity, name)
    return json_response(use_case(bootstrap.services(), _body()))


@app.route("/auth/sign-in", methods=["POST"])
@handle_errors
def auth_sign_in() -> Response:
    return _auth_flow("sign_in")


@app.route("/auth/new-password", methods=["POST"])
@handle_errors
def auth_new_password() -> Response:
    return _auth_flow("new_password")


@app.route("/auth/refresh", methods=["POST"])
@handle_errors
def auth_refresh() -> Response:
    return _auth_flow("refresh")


@app.route("/auth/sign-out", methods=["POST"])
@handle_errors
def auth_sign_out() -> Response:
    return _auth_flow("sign_out")


@app.route("/auth/forgot-password", methods=["POST"])
@handle_errors
def auth_forgot_password() -> Response:
    return _auth_flow("forgot_password")


@app.route("/auth/reset-password", methods=["POST"])
@handle_errors
def auth_reset_password() -> Response:
    return _auth_flow("confirm_forgot_password")


# ------------------------------------------------------------------ SCIM 2.0 provisioning
# /scim/v2/* authenticates with the tenant's SCIM token (POST /admin/scim/token), not a user's
# JWT, and answers in SCIM's media type and error schema. ripple.service.scim (and the filter
# parser it loads on a filtered list) is imported inside the views only, so the redirect's cold
# start never pays for it.

SCIM_TYPES = ["application/scim+json", "application/json"]
SCIM_MAX_BODY = 1024 * 1024  # a group of a few thousand members


@app.route("/admin/scim/token", methods=["POST"])
@handle_errors
def post_scim_token() -> Response:
    """A new SCIM bearer token for the tenant (shown once; the previous one stops working)."""
    from ripple.service.scim import rotate_token

    return json_response(rotate_token(bootstrap.services(), _principal()), 201)


@app.route("/admin/scim/token", methods=["GET"])
@handle_errors
def get_scim_token() -> Response:
    """Whether the tenant has a SCIM token and when it was issued (never the token)."""
    from ripple.service.scim import token_status

    return json_response(token_status(bootstrap.services(), _principal()))


def _scim_response(body: Any, status: int = 200) -> Response:
    if body is None:
        return Response(body="", status_code=status, headers={"Cache-Control": "no-store"})
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": "application/scim+json; charset=utf-8", "Cache-Control": "no-store"},
    )


def _scim_base() -> str:
    request = _request()
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
        principal = scim.authenticate_scim(_request().headers.get("authorization"))
        extra: list[Any] = []
        if body:
            try:
                extra.append(json.loads(_scim_body()))
            except (ValueError, RecursionError) as exc:
                raise ScimError(400, f"the body is not JSON: {exc}", "invalidSyntax") from exc
        if operation.startswith(("get_", "list_")):
            extra.append(_scim_base())
            extra.append(_query())
        elif operation.startswith(("create_", "replace_", "patch_")):
            extra.append(_scim_base())
        if operation.startswith("list_"):
            extra = [_query(), _scim_base()]
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

    raw = _request().raw_body
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw or b"")
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
        authenticate_scim(_request().headers.get("authorization"))
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


@app.route("/scim/v2/Users", methods=["GET"], content_types=SCIM_TYPES)
def scim_list_users() -> Response:
    """SCIM: list users (``filter=userName eq "…"``, ``startIndex``, ``count``)."""
    return _scim("list_users")


@app.route("/scim/v2/Users", methods=["POST"], content_types=SCIM_TYPES)
def scim_create_user() -> Response:
    """SCIM: create a user (an employee; 409 uniqueness when the userName is taken)."""
    return _scim("create_user", status=201, body=True)


@app.route("/scim/v2/Users/{user_id}", methods=["GET"], content_types=SCIM_TYPES)
def scim_get_user(user_id: str) -> Response:
    """SCIM: one user."""
    return _scim("get_user", user_id)


@app.route("/scim/v2/Users/{user_id}", methods=["PUT"], content_types=SCIM_TYPES)
def scim_replace_user(user_id: str) -> Response:
    """SCIM: replace a user (``active: false`` offboards, customers to the pool)."""
    return _scim("replace_user", user_id, body=True)


@app.route("/scim/v2/Users/{user_id}", methods=["PATCH"], content_types=SCIM_TYPES)
def scim_patch_user(user_id: str) -> Response:
    """SCIM: PATCH a user (RFC 7644 §3.5.2; ``active: false`` offboards)."""
    return _scim("patch_user", user_id, body=True)


@app.route("/scim/v2/Users/{user_id}", methods=["DELETE"], content_types=SCIM_TYPES)
def scim_delete_user(user_id: str) -> Response:
    """SCIM: delete a user (the employee is offboarded, customers to the pool)."""
    return _scim("delete_user", user_id, status=204)


@app.route("/scim/v2/Groups", methods=["GET"], content_types=SCIM_TYPES)
def scim_list_groups() -> Response:
    """SCIM: list groups (teams)."""
    return _scim("list_groups")


@app.route("/scim/v2/Groups", methods=["POST"], content_types=SCIM_TYPES)
def scim_create_group() -> Response:
    """SCIM: create a group (a team; members move into it)."""
    return _scim("create_group", status=201, body=True)


@app.route("/scim/v2/Groups/{group_id}", methods=["GET"], content_types=SCIM_TYPES)
def scim_get_group(group_id: str) -> Response:
    """SCIM: one group."""
    return _scim("get_group", group_id)


@app.route("/scim/v2/Groups/{group_id}", methods=["PUT"], content_types=SCIM_TYPES)
def scim_replace_group(group_id: str) -> Response:
    """SCIM: replace a group (members added move in, members removed become unassigned)."""
    return _scim("replace_group", group_id, body=True)


@app.route("/scim/v2/Groups/{group_id}", methods=["PATCH"], content_types=SCIM_TYPES)
def scim_patch_group(group_id: str) -> Response:
    """SCIM: PATCH a group (add/remove members, rename)."""
    return _scim("patch_group", group_id, body=True)


@app.route("/scim/v2/Groups/{group_id}", methods=["DELETE"], content_types=SCIM_TYPES)
def scim_delete_group(group_id: str) -> Response:
    """SCIM: delete a group (its members become unassigned)."""
    return _scim("delete_group", group_id, status=204)


@app.route("/scim/v2/ServiceProviderConfig", methods=["GET"], content_types=SCIM_TYPES)
def scim_service_provider_config() -> Response:
    """SCIM: what this service provider supports (RFC 7644 §4)."""
    return _scim_static("ServiceProviderConfig")


@app.route("/scim/v2/ResourceTypes", methods=["GET"], content_types=SCIM_TYPES)
def scim_resource_types() -> Response:
    """SCIM: the resource types (User, Group)."""
    return _scim_static("ResourceTypes")


@app.route("/scim/v2/ResourceTypes/{name}", methods=["GET"], content_types=SCIM_TYPES)
def scim_resource_type(name: str) -> Response:
    """SCIM: one resource type."""
    return _scim_static("ResourceTypes", name)


@app.route("/scim/v2/Schemas", methods=["GET"], content_types=SCIM_TYPES)
def scim_schemas() -> Response:
    """SCIM: the schemas (core User with the enterprise extension, Group)."""
    return _scim_static("Schemas")


@app.route("/scim/v2/Schemas/{schema_id}", methods=["GET"], content_types=SCIM_TYPES)
def scim_schema(schema_id: str) -> Response:
    """SCIM: one schema."""
    return _scim_static("Schemas", schema_id)


@app.route("/scim/v2/ServiceProviderConfig", methods=["POST", "PUT", "PATCH", "DELETE"], content_types=SCIM_TYPES)
def scim_service_provider_config_write() -> Response:
    """SCIM: discovery endpoints are read-only (405)."""
    return _scim_not_allowed()


@app.route("/scim/v2/ResourceTypes", methods=["POST", "PUT", "PATCH", "DELETE"], content_types=SCIM_TYPES)
def scim_resource_types_write() -> Response:
    """SCIM: discovery endpoints are read-only (405)."""
    return _scim_not_allowed()


@app.route("/scim/v2/Schemas", methods=["POST", "PUT", "PATCH", "DELETE"], content_types=SCIM_TYPES)
def scim_schemas_write() -> Response:
    """SCIM: discovery endpoints are read-only (405)."""
    return _scim_not_allowed()


@app.route("/scim/v2/.search", methods=["POST"], content_types=SCIM_TYPES)
def scim_search_all() -> Response:
    """SCIM: searching every resource type at once is not implemented (501, RFC 7644 §3.4.3)."""
    from ripple.domain.scim import ScimError

    return _scim_response(ScimError(501, "POST /.search across resource types is not supported").to_scim(), 501)


@app.route("/scim/v2/{resource}", methods=["GET"], content_types=SCIM_TYPES)
def scim_unknown(resource: str) -> Response:
    """SCIM: an endpoint that does not exist, answered in SCIM's error schema (404)."""
    from ripple.domain.scim import ScimError

    return _scim_response(ScimError(404, f"no SCIM endpoint /{resource}").to_scim(), 404)


# ------------------------------------------------------------------ web console and employee page
# (static pages and the list endpoints they need go here)
# The pages are files of ripple/web/static, read on first use (ripple.web.console): public,
# strict CSP (no inline script), the data behind them comes from the JSON API with a bearer token.


def _web_page(name: str) -> Response:
    from ripple.web.console import page

    cfg = bootstrap.config()
    served = page(
        name,
        env=cfg.env,
        live_url=cfg.live_url,
        hosted_ui=cfg.hosted_ui_url,
        client_id=cfg.user_pool_client_id,
        provider=cfg.federation_provider,
    )
    return Response(body=served.body, status_code=200, headers=served.headers)


@app.route("/console", methods=["GET"])
@handle_errors
def web_console() -> Response:
    """The admin web console (HTML page; signs in with the API's bearer token)."""
    return _web_page("console")


@app.route("/m", methods=["GET"])
@handle_errors
def web_employee_page() -> Response:
    """The employee mobile page (HTML page; signs in with the API's bearer token)."""
    return _web_page("m")


@app.route("/assets/{name}", methods=["GET"])
@handle_errors
def web_asset(name: str) -> Response:
    """A script, stylesheet or dictionary of the web pages (whitelisted names only)."""
    from ripple.web.console import asset

    served = asset(name, _query().get("v"))
    return Response(body=served.body, status_code=200, headers=served.headers)


@app.route("/campaigns", methods=["GET"])
@handle_errors
def get_campaigns() -> Response:
    """The tenant's campaigns, one page (``?limit=&cursor=``)."""
    from ripple.service.listings import list_campaigns

    return json_response(list_campaigns(bootstrap.services(), _principal(), _query()))


@app.route("/admin/employees", methods=["GET"])
@handle_errors
def get_employees() -> Response:
    """Every employee of the tenant (``?active=true|false``)."""
    from ripple.service.listings import list_employees

    return json_response(list_employees(bootstrap.services(), _principal(), _query()))


@app.route("/admin/tasks", methods=["GET"])
@handle_errors
def get_admin_tasks() -> Response:
    """The tenant's tasks, newest first, with overall progress (``?limit=&cursor=``)."""
    from ripple.service.listings import list_tasks

    return etag_response(_request(), list_tasks(bootstrap.services(), _principal(), _query()))


@app.route("/admin/employees/{employee_id}/links", methods=["GET"])
@handle_errors
def get_employee_links(employee_id: str) -> Response:
    """One employee's links, newest first (admin)."""
    from ripple.service.listings import employee_links

    principal = _principal()
    svc = bootstrap.services()
    return json_response(employee_links(svc, principal, employee_id, _base_url(svc.settings.public_base_url)))


@app.route("/me/links", methods=["GET"])
@handle_errors
def get_my_links() -> Response:
    """The caller's own links (``?campaign_id=&channel=``), newest first."""
    from ripple.service.listings import my_links

    principal = _principal()
    svc = bootstrap.services()
    return json_response(my_links(svc, principal, _base_url(svc.settings.public_base_url), _query()))


@app.route("/me/posters/{campaign_id}", methods=["GET"])
@handle_errors
def get_my_poster(campaign_id: str) -> Response:
    """Like ``GET /campaigns/{id}/poster`` but the presigned URL comes back as JSON
    (``{"url", "cached"}``), for pages that send the token in a header and show the image."""
    from ripple.service.posters import get_poster as get_poster_uc

    principal = _principal()
    svc = bootstrap.services()
    base_url = _base_url(svc.settings.public_base_url)
    result = get_poster_uc(svc, _poster_deps(), principal, campaign_id, _query(), base_url)
    return json_response({"url": result.url, "cached": result.cached}, headers={"Cache-Control": "private, no-store"})


# ------------------------------------------------------------------ public redirect


def _visitor_page(err: RippleError, *, short_link: bool = False) -> Response:
    """The page a visitor's browser gets for a missing link (404) or an ended campaign (410):
    in the visitor's language, and for an ended campaign with the company's name and website
    (one tenant read, only for ended links: the redirect's hot path is untouched)."""
    from ripple.domain.errors import CampaignEndedError
    from ripple.domain.landing import LANGUAGES, negotiate_language
    from ripple.web.landing_page import render_landing_error

    request = _request()
    accept_language = (request.headers.get("accept-language") or "")[:256]
    query: dict[str, str] = dict(request.query_params or {})
    lang = negotiate_language(accept_language, query.get("lang"), LANGUAGES, "en")
    company = website = ""
    if isinstance(err, CampaignEndedError):
        tenant = bootstrap.services().tenants.get(err.tenant_id)
        company, website = tenant.name if tenant.name != tenant.tenant_id else "", tenant.ended_url
    status = err.status if err.status in (404, 410) else 400
    body = render_landing_error(lang, status, company=company, website=website, short_link=short_link)
    return Response(
        body="" if request.method == "HEAD" else body,
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Content-Language": lang},
    )


def _visitor_error(err: RippleError) -> Response:
    """Browsers get a small page; API clients get the usual JSON error."""
    accept = _request().headers.get("accept") or ""
    if "text/html" not in accept:
        return error_response(err)
    return _visitor_page(err, short_link=True)


def _client_ip() -> str:
    identity = (_request().context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "")


def _visit_request(code: str, share_token: str | None, *, token_limit: int) -> Any:
    """What the redirect and the landing page know about the person asking (a VisitRequest)."""
    from ripple.service.redirect import VisitRequest

    request = _request()
    jar = cookies(request)
    return VisitRequest(
        code=code,
        method=request.method,
        user_agent=(request.headers.get("user-agent") or "")[:512],
        client_ip=_client_ip(),
        visitor_cookie=jar.get(VISITOR_COOKIE),
        viewer=optional_viewer(request, jar, bootstrap.verifier),
        country=request.headers.get("cloudfront-viewer-country") or "",
        city=(request.headers.get("cloudfront-viewer-city") or "")[:64],
        subdivision=(request.headers.get("cloudfront-viewer-country-region") or "")[:8],
        share_token=share_token[:token_limit] if share_token else None,
    )


def _set_visitor_cookie(headers: dict[str, str | list[str]], value: str | None) -> None:
    if value:
        secure = "; Secure" if (_request().headers.get("x-forwarded-proto") or "") == "https" else ""
        headers["Set-Cookie"] = f"{VISITOR_COOKIE}={value}; Max-Age=63072000; Path=/; HttpOnly; SameSite=Lax{secure}"


def _follow(code: str, share_token: str | None) -> Response:
    from ripple.service.redirect import follow_link

    try:
        outcome = follow_link(
            bootstrap.services(),
            _visit_request(code, share_token, token_limit=128),
            base_url=_base_url(bootstrap.config().public_base_url),
        )
    except RippleError as err:
        return _visitor_error(err)
    headers: dict[str, str | list[str]] = {
        "Location": outcome.location,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer-when-downgrade",
    }
    _set_visitor_cookie(headers, outcome.set_visitor_cookie)
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


@app.route("/p/{code}", methods=["GET", "HEAD"])
def landing_page(code: str) -> Response:
    """The hosted mobile landing page: recorded like a redirect, rendered in the visitor's
    language, no third-party anything, a strict nonce-based CSP."""
    from ripple.service.landing import visit_landing
    from ripple.web.landing_page import content_security_policy, new_nonce, render_landing_page, visitor_region

    request = _request()
    query: dict[str, str] = dict(request.query_params or {})
    accept_language = (request.headers.get("accept-language") or "")[:256]
    visit = _visit_request(code, query.get("rp"), token_limit=160)
    try:
        view = visit_landing(
            bootstrap.services(),
            visit,
            base_url=_base_url(bootstrap.config().public_base_url),
            accept_language=accept_language,
            query_lang=query.get("lang"),
        )
    except RippleError as err:
        return _visitor_page(err)
    nonce = new_nonce()
    html = render_landing_page(
        view.landing,
        view.lang,
        share_url=view.share_url,
        leads_url=view.leads_url,
        share_token=view.share_token,
        nonce=nonce,
        campaign_name=view.campaign_name,
        phone_region=visitor_region(visit.country, accept_language),
    )
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": content_security_policy(nonce),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Content-Language": view.lang,
    }
    _set_visitor_cookie(headers, view.set_visitor_cookie)
    return Response(body="" if request.method == "HEAD" else html, status_code=200, headers=headers)


# ------------------------------------------------------------------ business cards (名刺 / 电子名片)


@app.route("/me/card", methods=["GET"])
@handle_errors
def get_my_card() -> Response:
    from ripple.service.cards import get_my_card as use_case

    principal = _principal()
    base_url = _base_url(bootstrap.config().public_base_url)
    return json_response(use_case(bootstrap.services(), principal, base_url=base_url))


@app.route("/me/card", methods=["PUT"])
@handle_errors
def put_my_card() -> Response:
    from ripple.service.cards import put_my_card as use_case

    principal = _principal()
    base_url = _base_url(bootstrap.config().public_base_url)
    return json_response(use_case(bootstrap.services(), principal, _body(), base_url=base_url))


# Any declared type reaches the use case, which answers 422 naming the slot for what is not
# JPEG, PNG or WebP (a type Chalice does not list would get its own 415 instead).
_CARD_IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif", "application/octet-stream"]
_CARD_IMAGE_TYPES += ["application/json", "text/plain", "application/x-www-form-urlencoded"]


@app.route("/me/card/images/{slot}", methods=["PUT"], content_types=_CARD_IMAGE_TYPES)
@handle_errors
def put_card_image(slot: str) -> Response:
    """My photo (``photo``) or WeChat/LINE QR image (``wechat_qr``, ``line_qr``): the raw
    image is the body (JPEG, PNG or WebP, at most 2 MB), checked like every material."""
    from ripple.service.cards import upload_card_image

    principal = _principal()
    request = _request()
    raw = request.raw_body
    body = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw or b"")
    base_url = _base_url(bootstrap.config().public_base_url)
    result = upload_card_image(
        bootstrap.services(),
        _poster_deps(),
        principal,
        slot,
        body,
        request.headers.get("content-type") or "",
        base_url=base_url,
    )
    return json_response(result)


@app.route("/me/card/images/{slot}", methods=["DELETE"])
@handle_errors
def delete_card_image(slot: str) -> Response:
    from ripple.service.cards import delete_card_image as use_case

    principal = _principal()
    base_url = _base_url(bootstrap.config().public_base_url)
    return json_response(use_case(bootstrap.services(), principal, slot, base_url=base_url))


@app.route("/me/card/radar", methods=["GET"])
@handle_errors
def get_card_radar() -> Response:
    from ripple.service.cards import card_radar

    return json_response(card_radar(bootstrap.services(), _principal(), _query()))


@app.route("/admin/card", methods=["GET"])
@handle_errors
def get_company_card() -> Response:
    from ripple.service.cards import get_company_card as use_case

    return json_response(use_case(bootstrap.services(), _principal()))


@app.route("/admin/card", methods=["PUT"])
@handle_errors
def put_company_card() -> Response:
    from ripple.service.cards import put_company_card as use_case

    principal = _principal()
    return json_response(use_case(bootstrap.services(), principal, _body()))


@app.route("/c/{code}", methods=["GET", "HEAD"])
def card_page(code: str) -> Response:
    """An employee's public business card: recorded like a landing page (surface ``card``),
    rendered in the visitor's language under the same strict nonce CSP."""
    from ripple.service.cards import visit_card
    from ripple.web.card_page import card_security_policy as content_security_policy
    from ripple.web.card_page import render_card_page
    from ripple.web.landing_page import new_nonce

    request = _request()
    query: dict[str, str] = dict(request.query_params or {})
    accept_language = (request.headers.get("accept-language") or "")[:256]
    try:
        view = visit_card(
            bootstrap.services(),
            _visit_request(code, query.get("rp"), token_limit=160),
            base_url=_base_url(bootstrap.config().public_base_url),
            accept_language=accept_language,
            query_lang=query.get("lang"),
        )
    except RippleError as err:
        return _visitor_page(err)
    nonce = new_nonce()
    html = render_card_page(
        lang=view.lang,
        images=view.images,
        name=view.name,
        card=view.card,
        company=view.company,
        campaigns=view.campaigns,
        campaign_ids=view.campaign_ids,
        share_url=view.share_url,
        vcard_url=view.vcard_url,
        taps_url=view.taps_url,
        nonce=nonce,
    )
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": content_security_policy(nonce, local=bootstrap.config().env in ("local", "test")),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Content-Language": view.lang,
    }
    _set_visitor_cookie(headers, view.set_visitor_cookie)
    return Response(body="" if request.method == "HEAD" else html, status_code=200, headers=headers)


@app.route("/c/{code}/vcard", methods=["GET"])
@handle_errors
def card_vcard(code: str) -> Response:
    """ "Save contact": the card as a vCard 4.0 (RFC 6350), UTF-8."""
    from urllib.parse import quote

    from ripple.service.cards import vcard_for

    name, text = vcard_for(bootstrap.services(), code, base_url=_base_url(bootstrap.config().public_base_url))
    return Response(
        body=text,
        status_code=200,
        headers={
            "Content-Type": "text/vcard; charset=utf-8",
            "Content-Disposition": f"attachment; filename=\"contact.vcf\"; filename*=UTF-8''{quote(name)}.vcf",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@app.route("/c/{code}/images/{slot}", methods=["GET"])
@handle_errors
def card_image(code: str, slot: str) -> Response:
    """An uploaded card image: a redirect to a short-lived presigned URL of the re-encoded object."""
    from ripple.service.cards import card_image_key

    key = card_image_key(bootstrap.services(), code, slot)
    return Response(
        body="",
        status_code=302,
        headers={"Location": _poster_deps().blobs.presign(key, 3600), "Cache-Control": "private, max-age=600"},
    )


@app.route("/c/{code}/taps", methods=["POST"], content_types=["application/json", "text/plain"])
@handle_errors
def post_card_tap(code: str) -> Response:
    """What a card's viewer tapped (public, rate limited): 202 whether or not it counted."""
    from ripple.service.cards import TapRequest, record_tap

    request = _request()
    jar = cookies(request)
    recorded = record_tap(
        bootstrap.services(),
        TapRequest(
            code=code,
            body=_body(),
            user_agent=(request.headers.get("user-agent") or "")[:512],
            client_ip=_client_ip(),
            visitor_cookie=jar.get(VISITOR_COOKIE),
            viewer=optional_viewer(request, jar, bootstrap.verifier),
        ),
    )
    return json_response({"recorded": recorded}, 202)


@app.route("/openapi.json", methods=["GET"])
@handle_errors
def get_openapi() -> Response:
    """The OpenAPI 3.1 document of this API (public; built once per process)."""
    from ripple.web.openapi import document_json

    return Response(
        body=document_json(app.routes),
        status_code=200,
        headers={"Content-Type": "application/json; charset=utf-8", "Cache-Control": "public, max-age=300"},
    )


@app.route("/", methods=["GET"])
def root() -> Response:
    return error_response(NotFoundError("no such link"))
