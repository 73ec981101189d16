"""The company's customers, the lead pool, conversions and public lead capture."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    client_ip,
    current_request,
    json_body,
    query_params,
)
from ripple.domain.model import Role
from ripple.http import VISITOR_COOKIE, cookies, optional_viewer
from ripple.service.auth import Principal

__all__ = ["customers"]

customers = Area("customers")


@customers.route(
    "/admin/customers/{customer_id}/convert", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201
)
def post_convert(principal: Principal, customer_id: str) -> Any:
    from ripple.service.ledger import convert_customer

    return convert_customer(bootstrap.services(), principal, customer_id, json_body())


@customers.route("/customers", methods=["GET"], auth=Auth.USER)
def get_customers(principal: Principal) -> Any:
    from ripple.service.customers import list_customers

    return list_customers(bootstrap.services(), principal, query_params())


@customers.route("/customers/{customer_id}", methods=["GET"], auth=Auth.USER)
def get_customer(principal: Principal, customer_id: str) -> Any:
    from ripple.service.customers import get_customer as get_customer_uc

    return get_customer_uc(bootstrap.services(), principal, customer_id)


@customers.route("/customers/{customer_id}", methods=["PATCH"], auth=Auth.USER)
def patch_customer(principal: Principal, customer_id: str) -> Any:
    from ripple.service.customers import patch_customer as patch_customer_uc

    return patch_customer_uc(bootstrap.services(), principal, customer_id, json_body())


@customers.route("/customers/{customer_id}/notes", methods=["POST"], auth=Auth.USER, status=201)
def post_customer_note(principal: Principal, customer_id: str) -> Any:
    from ripple.service.customers import note_customer

    return note_customer(bootstrap.services(), principal, customer_id, json_body())


@customers.route("/lead-pool", methods=["GET"], auth=Auth.USER)
def get_lead_pool(principal: Principal) -> Any:
    from ripple.service.customers import lead_pool

    return lead_pool(bootstrap.services(), principal, query_params())


@customers.route("/lead-pool/{customer_id}/claim", methods=["POST"], auth=Auth.USER)
def post_claim(principal: Principal, customer_id: str) -> Any:
    from ripple.service.customers import claim_from_pool

    return claim_from_pool(bootstrap.services(), principal, customer_id)


_LEADS_CORS: dict[str, str | list[str]] = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}


@customers.route("/leads", methods=["OPTIONS"], auth=Auth.PUBLIC, errors=False)
def options_lead() -> Response:
    """CORS preflight: forms on a customer's own site may post leads (no credentials)."""
    return Response(body="", status_code=204, headers=_LEADS_CORS)


@customers.route("/leads", methods=["POST"], auth=Auth.PUBLIC, status=201, cors=True)
def post_lead() -> Any:
    """Public lead capture (the landing page's form, or a form on the customer's site
    carrying the visitor's share token). Rate limited per network and per token."""
    from ripple.service.leads import LeadRequest, submit_lead

    request = current_request()
    jar = cookies(request)
    receipt = submit_lead(
        bootstrap.services(),
        LeadRequest(
            body=json_body(),
            client_ip=client_ip(),
            user_agent=(request.headers.get("user-agent") or "")[:512],
            visitor_cookie=jar.get(VISITOR_COOKIE),
            viewer=optional_viewer(request, jar, bootstrap.verifier),  # staff earn nothing
            country=(request.headers.get("cloudfront-viewer-country") or "")[:2],
            language=(request.headers.get("accept-language") or "").split(",", 1)[0].split(";", 1)[0].strip()[:35],
        ),
    )
    return {"lead_id": receipt.lead_id, "status": "received"}
