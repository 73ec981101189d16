"""The web console (``GET /console``) and the employee page (``GET /m``): static files shipped
in this package (``static/``), served by the app itself with the JSON API behind them.

No CDN and no build step: vanilla JavaScript, one stylesheet, SVG charts drawn in the DOM and
the UI strings of every language in ``static/i18n.json``. Files are read on first use and
cached for the life of the process, so importing this module costs nothing and ``app.py``
imports it only inside the views. Assets are referenced as ``assets/<name>?v=<hash>``: a
request carrying the current hash may be cached for a year, anything else for 5 minutes.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from ripple.domain.errors import NotFoundError

__all__ = [
    "ASSETS",
    "LANGUAGES",
    "PAGES",
    "StaticFile",
    "asset",
    "asset_version",
    "content_security_policy",
    "page",
    "read_static",
]

STATIC_DIR = Path(__file__).resolve().parent / "static"
LANGUAGES = ("en", "ja", "zh-Hans", "zh-Hant")

# route name -> file of static/
PAGES: dict[str, str] = {"console": "console.html", "m": "m.html"}
# The only names GET /assets/{name} serves, with their Content-Type.
ASSETS: dict[str, str] = {
    "app.css": "text/css; charset=utf-8",
    "common.js": "text/javascript; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "m.js": "text/javascript; charset=utf-8",
    "i18n.json": "application/json; charset=utf-8",
    "icon.svg": "image/svg+xml",
    "manifest.webmanifest": "application/manifest+json",  # /m installed on the home screen
}
_PLACEHOLDER = re.compile(r"\{\{(v:[a-z0-9.]+)\}\}")
_LONG = "public, max-age=31536000, immutable"
_SHORT = "public, max-age=300"


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: str
    headers: dict[str, str | list[str]] = field(default_factory=dict)


@functools.cache
def read_static(filename: str) -> str:
    return (STATIC_DIR / filename).read_text(encoding="utf-8")


@functools.cache
def asset_version(name: str) -> str:
    """First 12 hex digits of the SHA-256 of an asset (its cache-busting version)."""
    return hashlib.sha256(read_static(name).encode("utf-8")).hexdigest()[:12]


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, or "" (a CSP source never carries a path here)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc or any(c in parts.netloc for c in " ;,'\""):
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def _web_origin(url: str, *, local: bool) -> str:
    """``https://host[:port]`` of a URL (``http`` too on the local stack), or ""."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    schemes = ("https", "http") if local else ("https",)
    if parts.scheme not in schemes or not parts.netloc or any(c in parts.netloc for c in " ;,'\""):
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(*, local: bool = False, live_url: str = "", hosted_ui: str = "") -> str:
    """Scripts, styles and fonts from this origin only (no inline script or style), API calls
    to this origin, the live pages' WebSocket API and the Hosted UI's token endpoint only;
    images also from https (posters are presigned S3 URLs) and, on the local stack, from the
    loopback (moto's S3)."""
    img = "img-src 'self' data: https:" + (" http://127.0.0.1:* http://localhost:*" if local else "")
    live = " ".join(o for o in (_origin(live_url), _web_origin(hosted_ui, local=local)) if o)
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            img,
            "font-src 'self'",
            "connect-src 'self'" + (f" {live}" if live else ""),
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def _security_headers() -> dict[str, str | list[str]]:
    return {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


@functools.cache
def _render(name: str) -> str:
    return _PLACEHOLDER.sub(lambda match: asset_version(match.group(1)[2:]), read_static(PAGES[name]))


def page(
    name: str, *, env: str, live_url: str = "", hosted_ui: str = "", client_id: str = "", provider: str = ""
) -> StaticFile:
    """An HTML page (``console`` or ``m``); both sign in with their own form (``/auth/*``).
    ``live_url``: the WebSocket API the page subscribes to (in its ``ripple-live`` meta tag
    and the CSP's ``connect-src``), "" = the page polls (every 60 s). ``hosted_ui``: the
    Cognito Hosted UI the page also offers (authorization code + PKCE with ``client_id``;
    straight to the federated ``provider`` when one is named), "" = none."""
    if name not in PAGES:
        raise NotFoundError(f"no page {name}")
    local = env in ("local", "test")
    live = live_url if _origin(live_url) else ""
    hosted = hosted_ui if _web_origin(hosted_ui, local=local) and client_id else ""
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-cache",
        "Content-Security-Policy": content_security_policy(local=local, live_url=live, hosted_ui=hosted),
        **_security_headers(),
    }
    values = {
        "live": live,
        "hosted_ui": hosted,
        "client_id": client_id if hosted else "",
        "idp": provider if hosted else "",
    }
    body = _render(name)
    for key, value in values.items():
        body = body.replace("{{" + key + "}}", html.escape(value, quote=True))
    return StaticFile(body, headers)


def asset(name: str, version: str | None = None) -> StaticFile:
    """A whitelisted asset; anything else is a 404 (no path is ever built from the name)."""
    content_type = ASSETS.get(name)
    if content_type is None:
        raise NotFoundError(f"no asset {name[:80]}")
    cache = _LONG if version is not None and version == asset_version(name) else _SHORT
    return StaticFile(read_static(name), {"Content-Type": content_type, "Cache-Control": cache, **_security_headers()})
