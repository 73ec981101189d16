"""Admin use cases: employees, campaigns and tenant settings."""

from __future__ import annotations

from typing import Any

from ripple.domain.errors import NotFoundError, ValidationError
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
    """Partial update of tenant settings: name, timezone, attribution rule, recycling of
    untouched customers to the pool (days, or null to switch it off), phone region."""
    from dataclasses import replace

    from ripple.domain.customers import validate_attribution
    from ripple.domain.validation import _reject_unknown, _text

    require_role(principal, Role.ADMIN)
    _reject_unknown(body, {"name", "timezone", "attribution", "recycle_after_days", "phone_region"})
    current = svc.tenants.get(principal.tenant_id)
    name = _text(body, "name", max_len=200, required=False) or current.name
    timezone = _text(body, "timezone", max_len=64, required=False) or current.timezone
    validate_timezone(timezone)
    tenant = replace(current, name=name, timezone=timezone)
    if "attribution" in body:
        rule = validate_attribution(body["attribution"])
        tenant = replace(tenant, attribution_mode=rule.mode, attribution_days=rule.days or current.attribution_days)
    if "recycle_after_days" in body:
        days = body["recycle_after_days"]
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650):
            raise ValidationError(
                "recycle_after_days must be an integer 1..3650 or null", details={"field": "recycle_after_days"}
            )
        tenant = replace(tenant, recycle_after_days=days)
    if "phone_region" in body:
        region = body["phone_region"]
        if not isinstance(region, str) or len(region) != 2 or not region.isascii() or not region.isalpha():
            raise ValidationError("phone_region must be a two-letter region code", details={"field": "phone_region"})
        tenant = replace(tenant, phone_region=region.upper())
    svc.tenants.put(tenant)
    return tenant
