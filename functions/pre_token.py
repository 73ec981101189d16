"""PreTokenFunction: Cognito's PreTokenGeneration trigger (V1) for federated sign-ins.

A user of the company's identity provider (SAML or OIDC, template.yaml's FederationProvider)
has no ``custom:tenant`` / ``custom:employee_id`` of their own. This trigger asks
``ripple.service.federation.admit_federated`` who they are and writes the answer into the ID
token (``claimsToAddOrOverride``) with the role as the ``cognito:groups`` claim
(``groupsToOverride``); the API verifies that token like any other. Raising refuses the sign-in:
Cognito issues no token and shows the reason. Users with a password of their own (no
``identities`` attribute) pass through unchanged: their attributes were set by an admin.

Event shape: https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger

from ripple import bootstrap
from ripple.service.federation import FederatedSignIn, FederationPolicy, admit_federated

logger = Logger(service="ripple-sign-in")

__all__ = ["handler"]


def _policy() -> FederationPolicy:
    return FederationPolicy(
        tenant_id=os.environ.get("RIPPLE_FEDERATION_TENANT", ""),
        creates_employees=os.environ.get("RIPPLE_FEDERATION_CREATES_EMPLOYEES", "false") == "true",
    )


def _provider(attributes: dict[str, Any]) -> str:
    try:
        identities = json.loads(str(attributes.get("identities") or "[]"))
    except ValueError:
        return ""
    return str(identities[0].get("providerName", "")) if identities and isinstance(identities[0], dict) else ""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = (event.get("request") or {}).get("userAttributes") or {}
    if not attributes.get("identities"):
        return event  # a password user: the admin set their attributes
    provider = _provider(attributes)
    sign_in = FederatedSignIn(
        subject=str(attributes.get("sub", "")),
        email=str(attributes.get("email", "")),
        name=str(attributes.get("name", "")),
        team=str(attributes.get("custom:team", "")),
        region=str(attributes.get("custom:region", "")),
    )
    try:
        admission = admit_federated(bootstrap.services(), _policy(), sign_in)
    except Exception as exc:
        logger.warning("federated sign-in refused", extra={"provider": provider, "reason": str(exc)})
        raise
    logger.info(
        "federated sign-in",
        extra={"provider": provider, "tenant": admission.tenant_id, "employee": admission.employee_id},
    )
    response = event.setdefault("response", {})
    response["claimsOverrideDetails"] = {
        "claimsToAddOrOverride": {"custom:tenant": admission.tenant_id, "custom:employee_id": admission.employee_id},
        "groupOverrideDetails": {"groupsToOverride": ["admin"] if admission.admin else []},
    }
    return event
