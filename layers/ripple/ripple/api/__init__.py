"""Ripple's HTTP API by area: each module is one Chalice Blueprint of routes declared with
:meth:`ripple.api.routing.Area.route` (who may call it, its success status, its error mapping).

``app.py`` creates the app and calls :func:`register_areas`; the API function's package is
still ``app.py`` alone, these modules ship in the ripple layer. Views import their use cases
lazily, so importing the areas costs the redirect's cold start only their own bytecode.
"""

from __future__ import annotations

from importlib import import_module

from chalice.app import Chalice

from ripple.api import routing

__all__ = ["AREAS", "register_areas"]

# Registration order is irrelevant to routing (literal segments beat parameters, see
# ripple.web.http_api); the visitors' catch-all ``/{code}`` comes last for readability.
AREAS = (
    "auth",
    "people",
    "campaigns",
    "customers",
    "points",
    "mall",
    "me",
    "content",
    "stories",
    "reports",
    "settings",
    "notifications",
    "scim",
    "pages",
    "visitors",
)


def register_areas(app: Chalice) -> None:
    """Register every area's blueprint on ``app`` (once per process)."""
    routing.bind(app)
    for name in AREAS:
        module = import_module(f"ripple.api.{name}")
        area: routing.Area = getattr(module, name)
        app.register_blueprint(area.blueprint)
