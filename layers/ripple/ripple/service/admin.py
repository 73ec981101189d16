"""Admin use cases: employees, campaigns and tenant settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from typing import Any

from ripple.domain.errors import NotFoundError, ValidationError
from ripple.domain.model import Campaign, Employee, Role, Tenant
from ripple.domain.timeutil import validate_timezone
from ripple.domain.validation import check_id, validate_campaign, validate_employee
from ripple.service.accounts import forget_account
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = [
    "create_campaign",
    "get_campaign",
    "get_tenant",
    "invitation_link",
    "reactivate_employee",
    "resend_invitation",
    "revoke_invitation",
    "update_rules",
    "update_tenant",
    "upsert_employee",
]


def upsert_employee(svc: Services, principal: Principal, employee_id: str, body: dict[str, Any]) -> Employee:
    """Create or update an employee. With an ``email`` the employee gets a sign-in: the
    identity provider's user is created (and its invitation sent) or updated through
    ``svc.directory``, with the tenant and employee id fixed in it for good, and the role
    as group membership. The provider goes first: if it refuses, nothing is written."""
    require_role(principal, Role.ADMIN)
    check_id(employee_id, "employee_id")
    fields = validate_employee(body)
    existing = svc.employees.get(principal.tenant_id, employee_id)
    email = fields.get("email", existing.email if existing else "")
    role = fields.get("role", existing.role if existing else Role.EMPLOYEE.value)
    if existing is not None and existing.subject and not email:
        email = existing.email
    subject = existing.subject if existing else ""
    if email and svc.directory is not None:
        subject = _sync_sign_in(svc, principal.tenant_id, employee_id, existing, email, fields["name"], role)
    employee = Employee(
        tenant_id=principal.tenant_id,
        employee_id=employee_id,
        name=fields["name"],
        team=fields["team"],
        region=fields["region"],
        active=existing.active if existing else True,
        updated_at=svc.clock(),
        email=email,
        role=role,
        subject=subject,
        signed_in=existing.signed_in if existing and existing.subject == subject else False,
    )
    svc.employees.put(employee)
    forget_account(principal.tenant_id, employee_id)
    return employee


def _sync_sign_in(
    svc: Services, tenant_id: str, employee_id: str, existing: Employee | None, email: str, name: str, role: str
) -> str:
    from ripple.domain.errors import ConflictError
    from ripple.service.ports import EmailTakenError

    admin = role == Role.ADMIN.value
    try:
        if existing is not None and existing.subject:
            if (existing.email, existing.name, existing.role) != (email, name, role):
                svc.directory.update_user(existing.subject, email=email, name=name, admin=admin)
            return existing.subject
        user = svc.directory.create_user(
            tenant_id=tenant_id, employee_id=employee_id, email=email, name=name, admin=admin
        )
    except EmailTakenError as exc:
        raise ConflictError(
            f"{email} already has a sign-in (one e-mail, one employee)", details={"field": "email"}
        ) from exc
    return str(user.subject)


def _invited(svc: Services, principal: Principal, employee_id: str) -> Employee:
    from ripple.domain.errors import ConflictError

    require_role(principal, Role.ADMIN)
    check_id(employee_id, "employee_id")
    employee = svc.employees.get(principal.tenant_id, employee_id)
    if employee is None:
        raise NotFoundError(f"employee {employee_id} not found")
    if not employee.subject or svc.directory is None:
        raise ConflictError(f"employee {employee_id} has no sign-in: give them an e-mail first")
    if employee.status != "invited":
        raise ConflictError(f"employee {employee_id} is {employee.status}, not invited")
    return employee


def resend_invitation(svc: Services, principal: Principal, employee_id: str) -> dict[str, Any]:
    """A new invitation for someone who has not signed in yet: Cognito e-mails a new temporary
    password (valid for the pool's TemporaryPasswordValidityDays), the previous one stops working."""
    employee = _invited(svc, principal, employee_id)
    svc.directory.resend_invitation(employee.subject)
    return {"employee_id": employee_id, "status": "invited", "email": employee.email, "sent": True}


def revoke_invitation(svc: Services, principal: Principal, employee_id: str) -> dict[str, Any]:
    """The invitation's temporary password stops working (replaced by one nobody knows); the
    employee stays invited and can be sent a new one."""
    from ripple.domain.invitations import temporary_password

    employee = _invited(svc, principal, employee_id)
    svc.directory.reset_invitation(employee.subject, temporary_password())
    return {"employee_id": employee_id, "status": "invited", "email": employee.email, "sent": False}


def invitation_link(svc: Services, principal: Principal, employee_id: str, app_url: str) -> dict[str, Any]:
    """A new invitation handed over in person (the console shows it as a QR code to scan with
    the employee's phone, or a link to pass on): a fresh temporary password, set at the
    identity provider and returned in the link once, never stored. Like a re-sent e-mail it
    replaces the invitation before it; it works once and expires with the pool's
    temporary-password validity."""
    from datetime import datetime

    from ripple.domain.invitations import invitation_expiry, invitation_url, temporary_password

    employee = _invited(svc, principal, employee_id)
    password = temporary_password()
    svc.directory.reset_invitation(employee.subject, password)
    issued = datetime.fromtimestamp(svc.clock() / 1000, tz=UTC)
    return {
        "employee_id": employee_id,
        "status": "invited",
        "email": employee.email,
        "url": invitation_url(app_url, employee.email, password),
        "expires_at": invitation_expiry(issued).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def reactivate_employee(svc: Services, principal: Principal, employee_id: str) -> Employee:
    """Undo an offboarding (a directory re-enabling someone): the employee signs in and earns
    again. Customers handed over stay with whoever has them now."""
    require_role(principal, Role.ADMIN)
    check_id(employee_id, "employee_id")
    existing = svc.employees.get(principal.tenant_id, employee_id)
    if existing is None:
        raise NotFoundError(f"employee {employee_id} not found")
    if existing.active:
        return existing
    if existing.subject and svc.directory is not None:
        svc.directory.set_enabled(existing.subject, True)  # the provider first: if it refuses, nothing changes
    employee = replace(existing, active=True, updated_at=svc.clock())
    svc.employees.put(employee)
    forget_account(principal.tenant_id, employee_id)
    return employee


def create_campaign(svc: Services, principal: Principal, body: dict[str, Any]) -> Campaign:
    from ripple.domain.compliance import check_campaign
    from ripple.domain.model import RulesVersion

    require_role(principal, Role.ADMIN)
    fields = validate_campaign(body)
    check_campaign(fields["name"], fields.get("landing"))
    campaign = Campaign(
        tenant_id=principal.tenant_id,
        campaign_id="c" + svc.ids(11),
        created_at=svc.clock(),
        created_by=principal.sub,
        rules_history=(RulesVersion(1, 0, fields["points"]),),
        **fields,
    )
    svc.campaigns.create(campaign)
    tenant = svc.tenants.get(principal.tenant_id)
    if not tenant.name:  # register the tenant (scheduled jobs iterate registered tenants)
        svc.tenants.put(replace(tenant, name=principal.tenant_id))
    return campaign


def update_rules(svc: Services, principal: Principal, campaign_id: str, body: dict[str, Any]) -> Campaign:
    """A new version of a campaign's rules, in force from now. Events that happened earlier
    are still paid by the version in force then, so nothing already earned is rewritten."""
    from ripple.domain.model import RulesVersion
    from ripple.domain.validation import validate_rules_update

    require_role(principal, Role.ADMIN)
    check_id(campaign_id, "campaign_id")
    rules = validate_rules_update(body)
    campaign = svc.campaigns.get(principal.tenant_id, campaign_id)
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    version = RulesVersion(campaign.rules_version + 1, svc.clock(), rules)
    return svc.campaigns.add_rules_version(campaign, version)


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
    from ripple.domain.customers import validate_attribution
    from ripple.domain.validation import _reject_unknown, _text

    require_role(principal, Role.ADMIN)
    _reject_unknown(
        body,
        {
            "name",
            "timezone",
            "attribution",
            "recycle_after_days",
            "phone_region",
            "fraud",
            "pool_claim_price",
            "segments",
            "ended_url",
        },
    )
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
    if "fraud" in body:
        fraud = body["fraud"]
        if not isinstance(fraud, dict) or set(fraud) - {"burst_links", "velocity_per_hour"}:
            raise ValidationError(
                "fraud must be an object with burst_links and/or velocity_per_hour", details={"field": "fraud"}
            )
        for key, low, high in (("burst_links", 2, 1000), ("velocity_per_hour", 1, 1_000_000)):
            if key in fraud:
                value = fraud[key]
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high
                ):
                    raise ValidationError(
                        f"fraud.{key} must be null or an integer {low}..{high}", details={"field": f"fraud.{key}"}
                    )
                changes: dict[str, Any] = {key: value}
                tenant = replace(tenant, **changes)
    if "phone_region" in body:
        region = body["phone_region"]
        if not isinstance(region, str) or len(region) != 2 or not region.isascii() or not region.isalpha():
            raise ValidationError("phone_region must be a two-letter region code", details={"field": "phone_region"})
        tenant = replace(tenant, phone_region=region.upper())
    if "pool_claim_price" in body:
        price = body["pool_claim_price"]
        if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= 1_000_000:
            raise ValidationError(
                "pool_claim_price must be an integer 0..1000000", details={"field": "pool_claim_price"}
            )
        tenant = replace(tenant, pool_claim_price=price)
    if "segments" in body:
        tenant = _with_segments(tenant, body["segments"])
    if "ended_url" in body:
        from ripple.domain.validation import validate_destination_url

        raw = body["ended_url"]
        refused = ValidationError("ended_url must be an https:// URL or null", details={"field": "ended_url"})
        try:
            url = "" if raw is None or raw == "" else validate_destination_url(raw)
        except ValidationError as exc:
            raise refused from exc
        if url and not url.startswith("https://"):
            raise refused
        tenant = replace(tenant, ended_url=url)
    svc.tenants.put(tenant)
    return tenant


def _with_segments(tenant: Tenant, raw: Any) -> Tenant:
    """``{"window_days", "medium", "heavy", "reach_days"}``, any subset (validated together)."""
    from ripple.domain.analytics import SegmentPolicy

    keys = {"window_days", "medium", "heavy", "reach_days"}
    if not isinstance(raw, dict) or not raw or set(raw) - keys:
        raise ValidationError(
            "segments must be an object with window_days, medium, heavy and/or reach_days",
            details={"field": "segments"},
        )
    for key, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"segments.{key} must be an integer", details={"field": f"segments.{key}"})
    policy = SegmentPolicy(
        window_days=raw.get("window_days", tenant.segment_window_days),
        medium=raw.get("medium", tenant.segment_medium),
        heavy=raw.get("heavy", tenant.segment_heavy),
        reach_days=raw.get("reach_days", tenant.reach_days),
    )  # raises ValidationError for out-of-range or inconsistent thresholds
    return replace(
        tenant,
        segment_window_days=policy.window_days,
        segment_medium=policy.medium,
        segment_heavy=policy.heavy,
        reach_days=policy.reach_days,
    )
