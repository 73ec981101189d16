"""The user pool, its app client and groups, created in moto from template.yaml's
``AWS::Cognito::*`` resources (their CloudFormation properties are the API's parameters), so
the local stack's Cognito is configured exactly like the deployed one."""

from __future__ import annotations

from typing import Any

from infra.template import conditions, load_template, resolve

__all__ = ["HASHED_APP_URL", "create_user_pool", "local_sign_in", "pool_env"]

#: the app URL pools are created with (then updated to the stack's own): see create_user_pool
HASHED_APP_URL = "http://127.0.0.1:8000"


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: res.get("Properties", {}) for lid, res in template["Resources"].items() if res.get("Type") == kind}


def create_user_pool(
    client: Any,
    stack_name: str,
    template: dict[str, Any] | None = None,
    *,
    app_url: str = "",
    parameters: dict[str, str] | None = None,
) -> dict[str, str]:
    """Create the template's one user pool, client and groups; returns their ids.
    ``app_url``: where the invitation message's link and the Hosted UI's callbacks point (the
    local API; default ``RIPPLE_PUBLIC_BASE_URL``). ``parameters``: template parameters the
    pool is made for (e.g. ``HostedUiDomainPrefix``: the stack's Hosted UI stand-in)."""
    import os

    template = template or load_template()
    ((pool_lid, pool_props),) = _of_type(template, "AWS::Cognito::UserPool").items()
    app_url = app_url or os.environ.get("RIPPLE_PUBLIC_BASE_URL") or HASHED_APP_URL
    local = {"AppUrl": app_url.rstrip("/")}
    when = conditions(template, parameters)  # by default: no Hosted UI, no federation
    # moto (MOTO_COGNITO_IDP_*_ID_STRATEGY=HASH) derives the pool's and the client's ids from
    # their whole configuration, and the tests mint tokens for the ids of a pool made with the
    # template's defaults: so both are created as by default, with a fixed app URL, and then
    # updated to this stack's URL and parameters (an update keeps the ids).
    neutral = {"AppUrl": HASHED_APP_URL}
    default = conditions(template)
    props = resolve(pool_props, stack_name, neutral, default)
    name = props.pop("UserPoolName")
    for existing in client.list_user_pools(MaxResults=60)["UserPools"]:
        if existing["Name"] == name:  # a restored stack (its journal replayed): the same pool
            pool_id = existing["Id"]
            (app,) = client.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
            return {"user_pool_id": pool_id, "client_id": app["ClientId"]}
    pool_id = client.create_user_pool(PoolName=name, **props)["UserPool"]["Id"]
    actual = resolve(pool_props, stack_name, local, when)
    if actual != {**props, "UserPoolName": name}:
        # UpdateUserPool resets what it is not given (as on AWS): everything it accepts
        fixed = {"UserPoolName", "Schema", "UsernameAttributes", "AliasAttributes", "UsernameConfiguration"}
        client.update_user_pool(UserPoolId=pool_id, **{k: v for k, v in actual.items() if k not in fixed})
    client_id = ""
    for app_props in _of_type(template, "AWS::Cognito::UserPoolClient").values():
        assert app_props["UserPoolId"] == {"Ref": pool_lid}
        created = {k: v for k, v in resolve(app_props, stack_name, neutral, default).items() if k != "UserPoolId"}
        client_id = client.create_user_pool_client(UserPoolId=pool_id, **created)["UserPoolClient"]["ClientId"]
        wanted = {k: v for k, v in resolve(app_props, stack_name, local, when).items() if k != "UserPoolId"}
        if wanted != created:
            update = {k: v for k, v in wanted.items() if k != "GenerateSecret"}  # not an update parameter
            client.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, **update)
    for group_props in _of_type(template, "AWS::Cognito::UserPoolGroup").values():
        kwargs = {k: v for k, v in resolve(group_props, stack_name, local, when).items() if k != "UserPoolId"}
        client.create_group(UserPoolId=pool_id, **kwargs)
    return {"user_pool_id": pool_id, "client_id": client_id}


def pool_env(ids: dict[str, str]) -> dict[str, str]:
    """The variables template.yaml gives every function (``RIPPLE_USER_POOL_*``)."""
    return {"RIPPLE_USER_POOL_ID": ids["user_pool_id"], "RIPPLE_USER_POOL_CLIENT_ID": ids["client_id"]}


def local_sign_in(svc: Any, tenant: str, sub: str, role: str) -> dict[str, Any]:
    """Local stack only (``ripple token --tenant --sub --role``, the demo seed): give the
    employee a sign-in if they have none (e-mail ``<sub>@<tenant>.example.test``), set a fresh
    password as the operator and sign in with it through Cognito's USER_PASSWORD_AUTH, as the
    sign-in page does. The token is a real Cognito ID token."""
    import secrets

    from ripple.domain.model import Role
    from ripple.service.admin import upsert_employee
    from ripple.service.auth import Principal
    from ripple.service.identity import OPERATOR, sign_in

    operator = Principal(tenant_id=tenant, sub=OPERATOR, role=Role.ADMIN)
    current = svc.employees.get(tenant, sub)
    if current is None or not current.subject or current.role != role:
        body = {
            "name": current.name if current else sub,
            "team": current.team if current else "team",
            "region": current.region if current else "region",
            "email": current.email if current and current.email else f"{sub}@{tenant}.example.test",
            "role": role,
        }
        current = upsert_employee(svc, operator, sub, body)
    password = secrets.token_urlsafe(18) + "a1"
    svc.directory.set_password(current.subject, password)
    return sign_in(svc, {"email": current.email, "password": password})
