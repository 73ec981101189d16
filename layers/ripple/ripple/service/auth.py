"""Authorisation rules shared by every use case."""

from __future__ import annotations

from ripple.domain.errors import ForbiddenError
from ripple.domain.model import Role
from ripple.service.ports import Principal  # re-exported: they are the ports' types

__all__ = ["Principal", "require_role"]


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise ForbiddenError(f"this endpoint requires the {allowed} role")
