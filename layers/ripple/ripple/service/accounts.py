"""Is the verified caller still someone Ripple lets in?

A Cognito ID token stays valid until it expires (an hour), so offboarding must also stop
tokens already handed out. Each API call checks the caller's employee record: offboarded,
a sign-in that was replaced (another Cognito user now holds the employee id) or a changed
role all give 401. The record is cached per process for ``ACCOUNT_TTL`` seconds (and
forgotten at once by the use cases that change it), so a warm function pays no read for
most calls and another container notices an offboarding within that time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from ripple.domain.errors import AuthenticationError
from ripple.domain.model import Employee
from ripple.service.auth import Principal
from ripple.service.context import Services
from ripple.service.redirect import TTLCache

__all__ = ["ACCOUNT_TTL", "account_cache", "check_account", "forget_account"]

ACCOUNT_TTL: Final = 30.0
_MISSING: Final = Employee(tenant_id="", employee_id="", name="", team="", region="")
account_cache: TTLCache[tuple[str, str], Employee] = TTLCache(max_size=20_000, ttl_seconds=ACCOUNT_TTL)


def forget_account(tenant_id: str, employee_id: str) -> None:
    account_cache.discard((tenant_id, employee_id))


def check_account(svc: Services, principal: Principal) -> None:
    """Raise 401 unless the caller's record (if Ripple has one) still admits this token.

    A token without a record is admitted: its ``custom:tenant`` and ``custom:employee_id``
    were set by an administrator (``ripple tenant create``, or an integration), never by the
    user. The first admitted call of an invited employee marks the invitation accepted."""
    key = (principal.tenant_id, principal.sub)
    employee = account_cache.get(key)
    if employee is None:
        employee = svc.employees.get(*key) or _MISSING
        account_cache.set(key, employee)
    if employee is _MISSING:
        return
    if not employee.active:
        raise AuthenticationError("this account has been deactivated")
    if employee.subject and principal.subject and employee.subject != principal.subject:
        raise AuthenticationError("this sign-in no longer belongs to the employee")
    if employee.subject and employee.role != principal.role.value:
        raise AuthenticationError("your role has changed: sign in again")
    if employee.subject and not employee.signed_in:
        svc.employees.mark_signed_in(*key)
        account_cache.set(key, replace(employee, signed_in=True))
