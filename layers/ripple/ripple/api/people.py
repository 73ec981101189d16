"""Employees and their accounts (admin): adding, inviting, importing, offboarding, SCIM tokens."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    CSV_TYPES,
    Area,
    Auth,
    current_request,
    json_body,
    public_base,
    query_params,
    raw_bytes,
)
from ripple.domain.model import Role
from ripple.http import json_response
from ripple.service.auth import Principal

__all__ = ["people"]

people = Area("people")


@people.route("/admin/employees/{employee_id}", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_employee(principal: Principal, employee_id: str) -> Any:
    from ripple.service.admin import upsert_employee

    employee = upsert_employee(bootstrap.services(), principal, employee_id, json_body())
    return employee.to_public()


@people.route("/admin/employees/import", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, content_types=CSV_TYPES)
def post_employee_import(principal: Principal) -> Response:
    """CSV of employees (id,name,email,team,region,role) as the raw body; ``?dry_run=true``
    only checks it. 202 job, 200 dry-run report, 422 per-row errors (nothing written)."""
    from ripple.service.imports import start_import

    data = raw_bytes()
    status, body = start_import(bootstrap.services(), principal, data, query_params())
    return json_response(body, status)


@people.route("/admin/employees/imports/{import_id}", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_employee_import(principal: Principal, import_id: str) -> Any:
    """An import job's status and progress (processed of total, created, updated, failed)."""
    from ripple.service.imports import get_import

    return get_import(bootstrap.services(), principal, import_id)


@people.route(
    "/admin/employees/imports/{import_id}/resume", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=202
)
def post_employee_import_resume(principal: Principal, import_id: str) -> Any:
    """Restart a job whose worker died (lease expired); it continues from its cursor."""
    from ripple.service.imports import resume_import

    return resume_import(bootstrap.services(), principal, import_id)


@people.route("/admin/employees/{employee_id}/offboard", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def post_offboard(principal: Principal, employee_id: str) -> Any:
    from ripple.service.customers import offboard_employee

    return offboard_employee(bootstrap.services(), principal, employee_id, json_body())


@people.route("/admin/links/{code}/reassign", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def post_reassign_link(principal: Principal, code: str) -> Any:
    from ripple.service.customers import reassign_link

    return reassign_link(bootstrap.services(), principal, code, json_body())


@people.route("/admin/employees/{employee_id}/invitation", methods=["POST", "DELETE"], auth=Auth.USER, role=Role.ADMIN)
def employee_invitation(principal: Principal, employee_id: str) -> Any:
    """POST: send the invitation again (a new temporary password); DELETE: revoke it."""
    from ripple.service.admin import resend_invitation, revoke_invitation

    use_case = resend_invitation if current_request().method == "POST" else revoke_invitation
    return use_case(bootstrap.services(), principal, employee_id)


@people.route("/admin/employees/{employee_id}/invitation/link", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def employee_invitation_link(principal: Principal, employee_id: str) -> Response:
    """A fresh invitation to hand over in person: its link and a QR code of it, shown once
    (the e-mailed one stops working)."""
    from ripple.service.admin import invitation_link
    from ripple.web.qr import svg_data_url

    svc = bootstrap.services()
    result = invitation_link(svc, principal, employee_id, public_base(svc.settings.public_base_url))
    return json_response({**result, "qr": svg_data_url(result["url"])}, headers={"Cache-Control": "no-store"})


@people.route("/admin/scim/token", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201)
def post_scim_token(principal: Principal) -> Any:
    """A new SCIM bearer token for the tenant (shown once; the previous one stops working)."""
    from ripple.service.scim import rotate_token

    return rotate_token(bootstrap.services(), principal)


@people.route("/admin/scim/token", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_scim_token(principal: Principal) -> Any:
    """Whether the tenant has a SCIM token and when it was issued (never the token)."""
    from ripple.service.scim import token_status

    return token_status(bootstrap.services(), principal)


@people.route("/admin/employees", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_employees(principal: Principal) -> Any:
    """Every employee of the tenant (``?active=true|false``)."""
    from ripple.service.listings import list_employees

    return list_employees(bootstrap.services(), principal, query_params())


@people.route("/admin/employees/{employee_id}/links", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_employee_links(principal: Principal, employee_id: str) -> Any:
    """One employee's links, newest first (admin)."""
    from ripple.service.listings import employee_links

    svc = bootstrap.services()
    return employee_links(svc, principal, employee_id, public_base(svc.settings.public_base_url))
