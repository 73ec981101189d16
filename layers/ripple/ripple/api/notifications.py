"""Notification preferences (employee), channel configuration (admin) and the public
unsubscribe link every notification e-mail carries (RFC 8058 one-click)."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import Area, Auth, current_request, json_body, query_params
from ripple.domain.model import Role
from ripple.service.auth import Principal

__all__ = ["notifications"]

notifications = Area("notifications")
_FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain"]


@notifications.route("/me/notifications", methods=["GET"], auth=Auth.USER)
def get_my_notifications(principal: Principal) -> Any:
    """My preferences and my 20 most recent notifications (with what happened to each)."""
    from ripple.service.notifications import get_preferences

    return get_preferences(bootstrap.services(), principal)


@notifications.route("/me/notifications", methods=["PUT"], auth=Auth.USER)
def put_my_notifications(principal: Principal) -> Any:
    """Change my preferences (only the fields given): kinds by e-mail, quiet hours, zone, language."""
    from ripple.service.notifications import put_preferences

    return put_preferences(bootstrap.services(), principal, json_body())


@notifications.route("/admin/notifications", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_notification_settings(principal: Principal) -> Any:
    from ripple.service.notifications import get_settings

    return get_settings(bootstrap.services(), principal)


@notifications.route("/admin/notifications", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_notification_settings(principal: Principal) -> Any:
    from ripple.service.notifications import put_settings

    return put_settings(bootstrap.services(), principal, json_body())


def _page(kind: str, *, done: bool) -> Response:
    from ripple.domain.landing import LANGUAGES, negotiate_language
    from ripple.web.unsubscribe_page import UNSUBSCRIBE_POLICY, render_unsubscribe_page

    request = current_request()
    lang = negotiate_language(request.headers.get("accept-language"), None, LANGUAGES, "en")
    action = "unsubscribe?t=" + query_params().get("t", "")
    return Response(
        body=render_unsubscribe_page(lang, kind, action, done=done),
        status_code=200,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": UNSUBSCRIBE_POLICY,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


@notifications.route("/unsubscribe", methods=["GET"], auth=Auth.PUBLIC)
def unsubscribe_page() -> Response:
    """What the link stops, and a button; a GET never unsubscribes (link scanners follow links)."""
    from ripple.service.notifications import unsubscribe_target

    _, _, kind = unsubscribe_target(bootstrap.services(), query_params())
    return _page(kind, done=False)


@notifications.route("/unsubscribe", methods=["POST"], auth=Auth.PUBLIC, content_types=_FORM_TYPES)
def unsubscribe_now() -> Any:
    """One-click unsubscribe (the mail client's POST of ``List-Unsubscribe=One-Click``, or
    the page's button). Idempotent; JSON unless the caller asks for HTML."""
    from ripple.service.notifications import unsubscribe

    result = unsubscribe(bootstrap.services(), query_params())
    accept = current_request().headers.get("accept", "")
    if "text/html" in accept:
        kinds = result["unsubscribed"]
        return _page(kinds[0] if len(kinds) == 1 else "*", done=True)
    return result


@notifications.route("/admin/chat-bots", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_chat_bots(principal: Principal) -> Any:
    """The tenant's group chat bots (URLs masked, secrets never shown)."""
    from ripple.service.chatbots import list_bots

    return list_bots(bootstrap.services(), principal)


@notifications.route("/admin/chat-bots/{bot_id}", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_chat_bot(principal: Principal, bot_id: str) -> Any:
    """Add or replace a group bot: WeCom, DingTalk, Feishu/Lark, Slack or Teams, and the events it posts."""
    from ripple.service.chatbots import put_bot

    return put_bot(
        bootstrap.services(), principal, bot_id, json_body(), allow_private=bootstrap.config().private_receivers
    )


@notifications.route("/admin/chat-bots/{bot_id}", methods=["DELETE"], auth=Auth.USER, role=Role.ADMIN)
def delete_chat_bot(principal: Principal, bot_id: str) -> Any:
    from ripple.service.chatbots import delete_bot

    return delete_bot(bootstrap.services(), principal, bot_id)


@notifications.route("/admin/chat-bots/{bot_id}/test", methods=["POST"], auth=Auth.USER, role=Role.ADMIN)
def test_chat_bot(principal: Principal, bot_id: str) -> Any:
    """Post a sample message to the group now; the attempt is in the delivery log."""
    from ripple.service.chatbots import send_test_message

    return send_test_message(
        bootstrap.services(), principal, bot_id, allow_private=bootstrap.config().private_receivers
    )
