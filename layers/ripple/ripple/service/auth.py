"""Authorisation rules shared by every use case."""

from __future__ import annotations

from dataclasses import dataclass

from ripple.domain.errors import ForbiddenError
from ripple.domain.model import Role

__all__ = ["Principal", "require_role"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, from claims only an administrator can set: ``tenant_id`` and ``sub``
    (the Ripple employee id) are the Cognito user's immutable ``custom:tenant`` and
    ``custom:employee_id``, ``role`` its group membership; ``subject`` is Cognito's ``sub``."""

    tenant_id: str
    sub: str
    role: Role
    subject: str = ""


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise ForbiddenError(f"this endpoint requires the {allowed} role")
