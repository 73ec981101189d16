"""Signing in, and setting up a tenant: the use cases behind ``/auth/*`` and ``ripple tenant
create``. Passwords and codes go to the identity provider (Cognito) and nowhere else; Ripple
only relays them over TLS and never stores or logs them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ripple.domain.errors import ConflictError, ValidationError
from ripple.domain.model import Role
from ripple.domain.validation import _reject_unknown, check_id, check_tenant_id
from ripple.service.auth import Principal
from ripple.service.context import Services

__all__ = [
    "OPERATOR",
    "confirm_forgot_password",
    "create_tenant",
    "forgot_password",
    "new_password",
    "refresh",
    "sign_in",
    "sign_out",
]

OPERATOR = "ripple-operator"  # who `ripple tenant create` acts as (recorded, never a sign-in)
_MAX_SECRET = 256


def _string(body: dict[str, Any], name: str, *, max_len: int = _MAX_SECRET) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise ValidationError(f"{name} is required (a string of at most {max_len} characters)", details={"field": name})
    return value


def _email(body: dict[str, Any]) -> str:
    from ripple.domain.contact import normalise_email

    if "email" not in body:
        raise ValidationError("email is required", details={"field": "email"})
    return normalise_email(body["email"])


def _directory(svc: Services) -> Any:
    if svc.directory is None:
        raise ConflictError("sign-in is not configured on this deployment (no user pool)")
    return svc.directory


def sign_in(svc: Services, body: dict[str, Any]) -> dict[str, Any]:
    """E-mail and password -> tokens, or the ``NEW_PASSWORD_REQUIRED`` challenge of a first
    sign-in with the invitation's temporary password."""
    _reject_unknown(body, {"email", "password"})
    email = _email(body)
    return dict(_directory(svc).sign_in(email, _string(body, "password")))


def new_password(svc: Services, body: dict[str, Any]) -> dict[str, Any]:
    _reject_unknown(body, {"email", "session", "new_password"})
    email = _email(body)
    session = _string(body, "session", max_len=4096)
    return dict(_directory(svc).answer_new_password(email, session, _string(body, "new_password")))


def refresh(svc: Services, body: dict[str, Any]) -> dict[str, Any]:
    _reject_unknown(body, {"refresh_token"})
    return dict(_directory(svc).refresh(_string(body, "refresh_token", max_len=4096)))


def sign_out(svc: Services, body: dict[str, Any]) -> dict[str, Any]:
    """Revoke the refresh token (and the tokens it issued) at the identity provider."""
    _reject_unknown(body, {"refresh_token"})
    _directory(svc).revoke(_string(body, "refresh_token", max_len=4096))
    return {"signed_out": True}


def forgot_password(svc: Services, body: dict[str, Any]) -> dict[str, Any]:
    """Always the same answer, whether the e-mail has a sign-in or not (no enumeration)."""
    _reject_unknown(body, {"email"})
    _directory(svc).forgot_password(_email(body))
    return {"sent": True}


def confirm_forgot_password(svc: Services, body: dict[str, Any]) -> dict[str, Any]:
    _reject_unknown(body, {"email", "code", "new_password"})
    email = _email(body)
    _directory(svc).confirm_forgot_password(email, _string(body, "code", max_len=64), _string(body, "new_password"))
    return {"reset": True}


def create_tenant(
    svc: Services,
    tenant_id: str,
    *,
    admin_email: str,
    admin_id: str = "admin",
    name: str = "",
    timezone: str = "UTC",
    team: str = "admins",
    region: str = "hq",
) -> dict[str, Any]:
    """A new tenant and its first administrator (a sign-in in the ``admin`` group, invited by
    the identity provider's e-mail). Refuses a tenant id that is taken."""
    from ripple.domain.timeutil import validate_timezone
    from ripple.service.admin import upsert_employee

    check_tenant_id(tenant_id)
    check_id(admin_id, "admin_id")
    validate_timezone(timezone)
    tenant = svc.tenants.get(tenant_id)
    if tenant.name or svc.employees.in_tenant(tenant_id):
        raise ConflictError(f"tenant {tenant_id} already exists")
    _directory(svc)
    operator = Principal(tenant_id=tenant_id, sub=OPERATOR, role=Role.ADMIN)
    admin = upsert_employee(
        svc,
        operator,
        admin_id,
        {"name": name or admin_id, "team": team, "region": region, "email": admin_email, "role": "admin"},
    )
    svc.tenants.put(replace(tenant, name=name or tenant_id, timezone=timezone))
    return {"tenant_id": tenant_id, "admin": admin.to_public()}
