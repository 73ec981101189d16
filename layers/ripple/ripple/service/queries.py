"""Read models: an employee's points and the leaderboards."""

from __future__ import annotations

from typing import Any

from ripple.domain.errors import ForbiddenError, NotFoundError, ValidationError
from ripple.domain.model import Role
from ripple.domain.points import ALL_CAMPAIGNS, DIMENSIONS, board_id
from ripple.domain.ranking import RankedEntry, rank
from ripple.domain.timeutil import parse_period
from ripple.domain.validation import check_id, reject_unknown_params, validate_limit
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = ["leaderboard", "leaderboard_page", "me"]

_LEADERBOARD_PARAMS = {"dimension", "period", "campaign_id", "limit"}


def me(svc: Services, principal: Principal) -> dict[str, Any]:
    require_role(principal, Role.EMPLOYEE)
    employee = svc.employees.get(principal.tenant_id, principal.sub)
    if employee is None:
        raise ForbiddenError("your account is not registered as an employee of this tenant")
    balances = svc.points.balances(principal.tenant_id, principal.sub)
    return {
        "employee_id": employee.employee_id,
        "name": employee.name,
        "team": employee.team,
        "region": employee.region,
        "points": balances,
        # the tenant's zone: "today", this week and this month on the boards are its, not the phone's
        "timezone": svc.tenants.get(principal.tenant_id).timezone,
    }


def leaderboard(svc: Services, principal: Principal, params: dict[str, str]) -> list[RankedEntry]:
    require_role(principal, Role.ADMIN, Role.EMPLOYEE)
    reject_unknown_params(params, _LEADERBOARD_PARAMS)
    dimension = params.get("dimension", "employee")
    if dimension not in DIMENSIONS:
        raise ValidationError(f"dimension must be one of: {', '.join(DIMENSIONS)}", details={"field": "dimension"})
    period = parse_period(params.get("period", "all"))
    limit = validate_limit(params.get("limit"))
    scope = ALL_CAMPAIGNS
    if "campaign_id" in params:
        campaign_id = check_id(params["campaign_id"], "campaign_id")
        if svc.campaigns.get(principal.tenant_id, campaign_id) is None:
            raise NotFoundError(f"campaign {campaign_id} not found")
        scope = campaign_id
    rows = svc.points.top(board_id(principal.tenant_id, dimension, scope, period), limit)
    return rank(rows, limit)


def leaderboard_page(svc: Services, principal: Principal, params: dict[str, str]) -> dict[str, object]:
    """``leaderboard`` as the API answers it: ``entries``, and for a board of employees
    ``names`` (employee id -> name, one BatchGetItem for the page, at most 100 keys), so no
    page shows bare ids."""
    entries = leaderboard(svc, principal, params)
    page: dict[str, object] = {"entries": [e.to_dict() for e in entries]}
    if params.get("dimension", "employee") == "employee" and entries:
        found = svc.employees.batch_get((principal.tenant_id, e.id) for e in entries)
        page["names"] = {e.employee_id: e.name for e in found.values() if e.name}
    return page
