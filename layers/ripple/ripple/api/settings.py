"""The tenant's settings and its webhook endpoint (admin)."""

from __future__ import annotations

from typing import Any

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    json_body,
    query_params,
)
from ripple.domain.model import Role
from ripple.service.auth import Principal

__all__ = ["settings"]

settings = Area("settings")


@settings.route("/admin/tenant", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_tenant(principal: Principal) -> Any:
    from ripple.service.admin import get_tenant as get_tenant_uc

    tenant = get_tenant_uc(bootstrap.services(), principal)
    return tenant.settings_dict()


@settings.route("/admin/tenant", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_tenant(principal: Principal) -> Any:
    from ripple.service.admin import update_tenant

    tenant = update_tenant(bootstrap.services(), principal, json_body())
    return tenant.settings_dict()


@settings.route("/admin/webhooks", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_webhooks(principal: Principal) -> Any:
    """The tenant's webhook endpoint; the signing secret is in the response only when new."""
    from ripple.service.webhooks import configure

    return configure(bootstrap.services(), principal, json_body(), allow_private=bootstrap.config().private_receivers)


@settings.route("/admin/webhooks", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_webhooks(principal: Principal) -> Any:
    from ripple.service.webhooks import get_config

    return get_config(bootstrap.services(), principal)


@settings.route("/admin/webhooks/test", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def post_webhook_test(principal: Principal) -> Any:
    from ripple.service.webhooks import send_ping

    return send_ping(bootstrap.services(), principal, allow_private=bootstrap.config().private_receivers)


@settings.route("/admin/webhooks/deliveries", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_webhook_deliveries(principal: Principal) -> Any:
    from ripple.service.webhooks import deliveries

    return deliveries(bootstrap.services(), principal, query_params())


@settings.route("/admin/webhooks/redeliveries", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=202)
def post_webhook_redelivery(principal: Principal) -> Any:
    """Retry an event whose delivery gave up: back in the outbox, due now (202: the
    dispatcher delivers it within a minute, and logs the attempt)."""
    from ripple.service.webhooks import redeliver

    return redeliver(bootstrap.services(), principal, json_body())
