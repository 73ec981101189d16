"""The points ledger: an employee's entries, reversals and the fraud review."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    current_request,
    json_body,
    query_params,
)
from ripple.domain.model import Role
from ripple.http import etag_response
from ripple.service.auth import Principal

__all__ = ["points"]

points = Area("points")


@points.route("/admin/fraud", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_fraud(principal: Principal) -> Any:
    from ripple.service.ledger import fraud_report

    return fraud_report(bootstrap.services(), principal, query_params())


@points.route("/admin/points/reversals", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201)
def post_reversal(principal: Principal) -> Any:
    from ripple.service.ledger import reverse_points

    return reverse_points(bootstrap.services(), principal, json_body())


@points.route("/admin/points/releases", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201)
def post_release(principal: Principal) -> Any:
    """Fraud review: pay a withheld outcome found genuine (once, with a reason)."""
    from ripple.service.ledger import release_withheld

    return release_withheld(bootstrap.services(), principal, json_body())


@points.route("/admin/employees/{employee_id}/ledger", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_employee_ledger(principal: Principal, employee_id: str) -> Any:
    from ripple.service.ledger import ledger_for

    return ledger_for(bootstrap.services(), principal, employee_id, query_params())


@points.route("/me/ledger", methods=["GET"], auth=Auth.USER)
def get_my_ledger(principal: Principal) -> Response:
    from ripple.service.ledger import ledger_for

    return etag_response(current_request(), ledger_for(bootstrap.services(), principal, None, query_params()))
