"""Admin use cases: employees, campaigns and tenant settings."""

from __future__ import annotations

from typing import Any

from ripple.domain.errors import NotFoundError
from ripple.domain.model import Campaign, Employee, Role, Tenant
from ripple.domain.timeutil import validate_timezone
from ripple.domain.validation import check_id, validate_campaign, validate_employee
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = ["create_campaign", "get_campaign", "get_tenant", "update_tenant", "upsert_employee"]


def upsert_employee(svc: Services, principal: Principal, employee_id: str, body: dict[str, Any]) -> Employee:
    require_role(principal, Role.ADMIN)
    check_id(employee_id, "employee_id")
    fields = validate_employee(body)
    existing = svc.employees.get(principal.tenant_id, employee_id)
    employee = Employee(
        tenant_id=principal.tenant_id,
        employee_id=employee_id,
        name=fields["name"],
        team=fields["team"],
        region=fields["region"],
        active=existing.active if existing else True,
        updated_at=svc.clock(),
    )
    svc.employees.put(employee)
    return employee


def create_campaign(svc: Services, principal: Principal, body: dict[str, Any]) -> Campaign:
    require_role(principal, Role.ADMIN)
    fields = validate_campaign(body)
    campaign = Campaign(
        tenant_id=principal.tenant_id,
        campaign_id="c" + svc.ids(11),
        created_at=svc.clock(),
        created_by=principal.sub,
        **fields,
    )
    svc.campaigns.create(campaign)
    return campaign


def get_campaign(svc: Services, principal: Principal, campaign_id: str) -> Campaign:
    check_id(campaign_id, "campaign_id")
    campaign = svc.campaigns.get(principal.tenant_id, campaign_id)
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    return campaign


def get_tenant(svc: Services, principal: Principal) -> Tenant:
    require_role(principal, Role.ADMIN)
    return svc.tenants.get(principal.tenant_id)


def update_tenant(svc: Services, principal: Principal, body: dict[str, Any]) -> Tenant:
    from ripple.domain.validation import _reject_unknown, _text

    require_role(principal, Role.ADMIN)
    _reject_unknown(body, {"name", "timezone"})
    current = svc.tenants.get(principal.tenant_id)
    name = _text(body, "name", max_len=200, required=False) or current.name
    timezone = _text(body, "timezone", max_len=64, required=False) or current.timezone
    validate_timezone(timezone)
    tenant = Tenant(principal.tenant_id, name, timezone)
    svc.tenants.put(tenant)
    return tenant
