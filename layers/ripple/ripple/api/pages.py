"""The web console, the employee page, their assets and the OpenAPI document (public).

The pages are files of ripple/web/static, read on first use (ripple.web.console): public,
strict CSP (no inline script); the data behind them comes from the JSON API with a bearer token.
"""

from __future__ import annotations

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    current_app,
    query_params,
)

__all__ = ["pages"]

pages = Area("pages")


def _web_page(name: str) -> Response:
    from ripple.web.console import page

    cfg = bootstrap.config()
    served = page(
        name,
        env=cfg.env,
        live_url=cfg.live_url,
        hosted_ui=cfg.hosted_ui_url,
        client_id=cfg.user_pool_client_id,
        provider=cfg.federation_provider,
    )
    return Response(body=served.body, status_code=200, headers=served.headers)


@pages.route("/console", methods=["GET"], auth=Auth.PUBLIC)
def web_console() -> Response:
    """The admin web console (HTML page; signs in with the API's bearer token)."""
    return _web_page("console")


@pages.route("/m", methods=["GET"], auth=Auth.PUBLIC)
def web_employee_page() -> Response:
    """The employee mobile page (HTML page; signs in with the API's bearer token)."""
    return _web_page("m")


@pages.route("/assets/{name}", methods=["GET"], auth=Auth.PUBLIC)
def web_asset(name: str) -> Response:
    """A script, stylesheet or dictionary of the web pages (whitelisted names only)."""
    from ripple.web.console import asset

    served = asset(name, query_params().get("v"))
    return Response(body=served.body, status_code=200, headers=served.headers)


@pages.route("/openapi.json", methods=["GET"], auth=Auth.PUBLIC)
def get_openapi() -> Response:
    """The OpenAPI 3.1 document of this API (public; built once per process)."""
    from ripple.web.openapi import document_json

    return Response(
        body=document_json(current_app().routes),
        status_code=200,
        headers={"Content-Type": "application/json; charset=utf-8", "Cache-Control": "public, max-age=300"},
    )
