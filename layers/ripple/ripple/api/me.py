"""The signed-in employee's own summary, links and the leaderboards."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    current_request,
    public_base,
    query_params,
)
from ripple.http import etag_response
from ripple.service.auth import Principal

__all__ = ["me"]

me = Area("me")


@me.route("/me", methods=["GET"], auth=Auth.USER)
def get_me(principal: Principal) -> Response:
    from ripple.service.queries import me

    return etag_response(current_request(), me(bootstrap.services(), principal))


@me.route("/leaderboards", methods=["GET"], auth=Auth.USER)
def get_leaderboards(principal: Principal) -> Response:
    from ripple.service.queries import leaderboard_page

    return etag_response(current_request(), leaderboard_page(bootstrap.services(), principal, query_params()))


@me.route("/me/links", methods=["GET"], auth=Auth.USER)
def get_my_links(principal: Principal) -> Any:
    """The caller's own links (``?campaign_id=&channel=``), newest first."""
    from ripple.service.listings import my_links

    svc = bootstrap.services()
    return my_links(svc, principal, public_base(svc.settings.public_base_url), query_params())
