"""Sign-in relayed to Cognito (public): password, first-login new password, refresh, sign-out, reset."""

from __future__ import annotations

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    json_body,
)
from ripple.http import json_response

__all__ = ["auth"]

auth = Area("auth")


def _auth_flow(name: str) -> Response:
    from ripple.service import identity

    use_case = getattr(identity, name)
    return json_response(use_case(bootstrap.services(), json_body()))


@auth.route("/auth/sign-in", methods=["POST"], auth=Auth.PUBLIC)
def auth_sign_in() -> Response:
    return _auth_flow("sign_in")


@auth.route("/auth/new-password", methods=["POST"], auth=Auth.PUBLIC)
def auth_new_password() -> Response:
    return _auth_flow("new_password")


@auth.route("/auth/refresh", methods=["POST"], auth=Auth.PUBLIC)
def auth_refresh() -> Response:
    return _auth_flow("refresh")


@auth.route("/auth/sign-out", methods=["POST"], auth=Auth.PUBLIC)
def auth_sign_out() -> Response:
    return _auth_flow("sign_out")


@auth.route("/auth/forgot-password", methods=["POST"], auth=Auth.PUBLIC)
def auth_forgot_password() -> Response:
    return _auth_flow("forgot_password")


@auth.route("/auth/reset-password", methods=["POST"], auth=Auth.PUBLIC)
def auth_reset_password() -> Response:
    return _auth_flow("confirm_forgot_password")
