"""The points mall (rewards, redemptions) and period-end prizes and settlements."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    current_request,
    json_body,
    query_params,
)
from ripple.domain.model import Role
from ripple.http import json_response
from ripple.service.auth import Principal

__all__ = ["mall"]

mall = Area("mall")


@mall.route("/admin/rewards", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201)
def post_reward(principal: Principal) -> Any:
    from ripple.service.rewards import create_reward

    return create_reward(bootstrap.services(), principal, json_body()).to_public()


@mall.route("/admin/rewards/{reward_id}", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_reward(principal: Principal, reward_id: str) -> Any:
    from ripple.service.rewards import update_reward

    return update_reward(bootstrap.services(), principal, reward_id, json_body()).to_public()


@mall.route("/rewards", methods=["GET"], auth=Auth.USER)
def get_rewards(principal: Principal) -> Any:
    from ripple.service.rewards import list_rewards

    return list_rewards(bootstrap.services(), principal, query_params())


@mall.route("/rewards/{reward_id}/redeem", methods=["POST"], auth=Auth.USER)
def post_redeem(principal: Principal, reward_id: str) -> Response:
    """Needs an ``Idempotency-Key`` header; a replay returns the first result (200)."""
    from ripple.service.rewards import redeem

    request = current_request()
    key = request.headers.get("idempotency-key")
    status, body = redeem(bootstrap.services(), principal, reward_id, key, request.raw_body)
    return json_response(body, status)


@mall.route("/me/redemptions", methods=["GET"], auth=Auth.USER)
def get_my_redemptions(principal: Principal) -> Any:
    from ripple.service.rewards import my_redemptions

    return my_redemptions(bootstrap.services(), principal, query_params())


@mall.route("/admin/redemptions", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_admin_redemptions(principal: Principal) -> Any:
    from ripple.service.rewards import admin_redemptions

    return admin_redemptions(bootstrap.services(), principal, query_params())


@mall.route("/admin/redemptions/{redemption_id}/fulfil", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def post_fulfil(principal: Principal, redemption_id: str) -> Any:
    from ripple.service.rewards import fulfil_redemption

    body = json_body() if current_request().raw_body else {}
    return fulfil_redemption(bootstrap.services(), principal, redemption_id, body).to_public()


@mall.route("/admin/redemptions/{redemption_id}/cancel", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def post_cancel_redemption(principal: Principal, redemption_id: str) -> Any:
    from ripple.service.rewards import cancel_redemption

    return cancel_redemption(bootstrap.services(), principal, redemption_id, json_body())


@mall.route("/admin/prizes", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_prizes(principal: Principal) -> Any:
    from ripple.service.settlement import get_prizes as get_prizes_uc

    return get_prizes_uc(bootstrap.services(), principal)


@mall.route("/admin/prizes", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_prizes(principal: Principal) -> Any:
    from ripple.service.settlement import put_prizes as put_prizes_uc

    return put_prizes_uc(bootstrap.services(), principal, json_body())


@mall.route("/settlements/{period}", methods=["GET"], auth=Auth.USER)
def get_settlement(principal: Principal, period: str) -> Any:
    from ripple.service.settlement import get_settlement as get_settlement_uc

    return get_settlement_uc(bootstrap.services(), principal, period, query_params())
