"""Federated sign-in: who a person the company's identity provider signed in is in Ripple.

With ``FederationProvider`` set (template.yaml), staff sign in through the Cognito Hosted UI
with their company account (SAML or OIDC). Cognito then creates a user of its own for them,
which carries no ``custom:tenant`` or ``custom:employee_id``: nobody set them, and the
provider must not be able to. The PreTokenGeneration trigger (functions/pre_token.py) asks
this use case who they are: the employee of the federation's tenant who has their e-mail
(staff the admin added by CSV, SCIM or the console), or, if the deployment allows it, a new
employee made from what the provider says (team, region). The answer goes into the ID token;
anyone else is refused a token at all. Roles are Ripple's record, never the provider's.

The employee's ``subject`` becomes the federated user's ``sub``, so ``check_account`` admits
exactly that sign-in from then on (a password sign-in made before stops working).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ripple.domain.errors import AuthenticationError, ConflictError, ValidationError
from ripple.domain.model import Employee, Role
from ripple.service.accounts import forget_account
from ripple.service.context import Services

__all__ = ["Admission", "FederatedSignIn", "FederationPolicy", "admit_federated"]

_UNASSIGNED = "unassigned"


@dataclass(frozen=True, slots=True)
class FederatedSignIn:
    """What Cognito's trigger event says of the person (the command of this use case)."""

    subject: str
    email: str
    name: str = ""
    team: str = ""
    region: str = ""


@dataclass(frozen=True, slots=True)
class FederationPolicy:
    tenant_id: str
    creates_employees: bool = False


@dataclass(frozen=True, slots=True)
class Admission:
    tenant_id: str
    employee_id: str
    admin: bool


def _field(value: str) -> str:
    """A team or region id from the provider's text (``Sales Japan`` → ``Sales-Japan``), as
    SCIM's groups become teams."""
    from ripple.domain.scim import team_id_for

    return team_id_for(value) if value.strip() else _UNASSIGNED


def admit_federated(svc: Services, policy: FederationPolicy, sign_in: FederatedSignIn) -> Admission:
    """The employee this federated sign-in is, or ``AuthenticationError`` (no token issued)."""
    from ripple.domain.contact import normalise_email

    if not policy.tenant_id:
        raise AuthenticationError("federated sign-in is not set up (no tenant)")
    if not sign_in.subject:
        raise AuthenticationError("the identity provider's user has no subject")
    try:
        email = normalise_email(sign_in.email)
    except ValidationError as exc:
        raise AuthenticationError("the identity provider sent no usable e-mail for this person") from exc
    for _ in range(2):  # a concurrent first sign-in of the same person may create them first
        employee = _by_email(svc, policy.tenant_id, email)
        if employee is None:
            if not policy.creates_employees:
                raise AuthenticationError(f"{email} is not an employee of {policy.tenant_id}: ask your administrator")
            try:
                employee = _create(svc, policy.tenant_id, email, sign_in)
            except ConflictError:
                continue
        if not employee.active:
            raise AuthenticationError("this account has been deactivated")
        if employee.subject != sign_in.subject:
            svc.employees.put(replace(employee, subject=sign_in.subject, signed_in=False, updated_at=svc.clock()))
            forget_account(policy.tenant_id, employee.employee_id)
        return Admission(policy.tenant_id, employee.employee_id, employee.role == Role.ADMIN.value)
    raise AuthenticationError("could not sign this person in; try again")


def _by_email(svc: Services, tenant_id: str, email: str) -> Employee | None:
    owner = svc.employees.owners_of_emails(tenant_id, [email]).get(email)
    return svc.employees.get(tenant_id, owner) if owner is not None else None


def _create(svc: Services, tenant_id: str, email: str, sign_in: FederatedSignIn) -> Employee:
    import secrets

    from ripple.domain.scim import employee_id_for

    base = employee_id_for(email)
    for attempt in range(12):
        candidate = base if attempt == 0 else f"{base[:54]}-{secrets.token_hex(4)}"
        if svc.employees.get(tenant_id, candidate) is None:
            employee = Employee(
                tenant_id=tenant_id,
                employee_id=candidate,
                name=" ".join(sign_in.name.split())[:100] or candidate,
                team=_field(sign_in.team),
                region=_field(sign_in.region),
                updated_at=svc.clock(),
                email=email,
                role=Role.EMPLOYEE.value,
                subject=sign_in.subject,
            )
            svc.employees.put(employee)  # claims the e-mail; a concurrent claim is a ConflictError
            return employee
    raise AuthenticationError("could not allocate an employee id for this person")  # pragma: no cover
