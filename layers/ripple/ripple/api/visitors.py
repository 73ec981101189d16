"""What the public sees: the redirect, share links, hosted landing pages and business cards.

The redirect is the hot path: one cached link lookup, one write of the visit, a 302 with
``Cache-Control: no-store``; nothing heavy is imported here or by the views before they run.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    client_ip,
    current_request,
    json_body,
    poster_deps,
    public_base,
)
from ripple.domain.errors import NotFoundError, RippleError
from ripple.http import VISITOR_COOKIE, cookies, error_response, optional_viewer

__all__ = ["visitors"]

visitors = Area("visitors")


def _visitor_page(err: RippleError, *, short_link: bool = False) -> Response:
    """The page a visitor's browser gets for a missing link (404) or an ended campaign (410):
    in the visitor's language, and for an ended campaign with the company's name and website
    (one tenant read, only for ended links: the redirect's hot path is untouched)."""
    from ripple.domain.errors import CampaignEndedError
    from ripple.domain.landing import LANGUAGES, negotiate_language
    from ripple.web.landing_page import render_landing_error

    request = current_request()
    accept_language = (request.headers.get("accept-language") or "")[:256]
    query: dict[str, str] = dict(request.query_params or {})
    lang = negotiate_language(accept_language, query.get("lang"), LANGUAGES, "en")
    company = website = ""
    if isinstance(err, CampaignEndedError):
        tenant = bootstrap.services().tenants.get(err.tenant_id)
        company, website = tenant.name if tenant.name != tenant.tenant_id else "", tenant.ended_url
    status = err.status if err.status in (404, 410) else 400
    body = render_landing_error(lang, status, company=company, website=website, short_link=short_link)
    return Response(
        body="" if request.method == "HEAD" else body,
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Content-Language": lang},
    )


def _visitor_error(err: RippleError) -> Response:
    """Browsers get a small page; API clients get the usual JSON error."""
    accept = current_request().headers.get("accept") or ""
    if "text/html" not in accept:
        return error_response(err)
    return _visitor_page(err, short_link=True)


def _visit_request(code: str, share_token: str | None, *, token_limit: int) -> Any:
    """What the redirect and the landing page know about the person asking (a VisitRequest)."""
    from ripple.service.redirect import VisitRequest

    request = current_request()
    jar = cookies(request)
    return VisitRequest(
        code=code,
        method=request.method,
        user_agent=(request.headers.get("user-agent") or "")[:512],
        client_ip=client_ip(),
        visitor_cookie=jar.get(VISITOR_COOKIE),
        viewer=optional_viewer(request, jar, bootstrap.verifier),
        country=request.headers.get("cloudfront-viewer-country") or "",
        city=(request.headers.get("cloudfront-viewer-city") or "")[:64],
        subdivision=(request.headers.get("cloudfront-viewer-country-region") or "")[:8],
        share_token=share_token[:token_limit] if share_token else None,
    )


def _set_visitor_cookie(headers: dict[str, str | list[str]], value: str | None) -> None:
    if value:
        secure = "; Secure" if (current_request().headers.get("x-forwarded-proto") or "") == "https" else ""
        headers["Set-Cookie"] = f"{VISITOR_COOKIE}={value}; Max-Age=63072000; Path=/; HttpOnly; SameSite=Lax{secure}"


def _follow(code: str, share_token: str | None) -> Response:
    from ripple.service.redirect import follow_link

    try:
        outcome = follow_link(
            bootstrap.services(),
            _visit_request(code, share_token, token_limit=128),
            base_url=public_base(bootstrap.config().public_base_url),
        )
    except RippleError as err:
        return _visitor_error(err)
    headers: dict[str, str | list[str]] = {
        "Location": outcome.location,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer-when-downgrade",
    }
    _set_visitor_cookie(headers, outcome.set_visitor_cookie)
    return Response(body="", status_code=302, headers=headers)


@visitors.route("/{code}", methods=["GET", "HEAD"], auth=Auth.PUBLIC, errors=False)
def follow(code: str) -> Response:
    """The public redirect. ``?rp=<token>`` marks a forward through a customer's share."""
    query: dict[str, str] = dict(current_request().query_params or {})
    return _follow(code, query.get("rp"))


@visitors.route("/s/{token}", methods=["GET", "HEAD"], auth=Auth.PUBLIC, errors=False)
def follow_share(token: str) -> Response:
    """A customer's child link: the token names its link, so destination sites can build
    ``{base}/s/{rp}`` from the query parameter alone."""
    from ripple.domain.chains import token_code

    code = token_code(token)
    if code is None:
        return _visitor_error(NotFoundError("no such link"))
    return _follow(code, token)


@visitors.route("/p/{code}", methods=["GET", "HEAD"], auth=Auth.PUBLIC, errors=False)
def landing_page(code: str) -> Response:
    """The hosted mobile landing page: recorded like a redirect, rendered in the visitor's
    language, no third-party anything, a strict nonce-based CSP."""
    from ripple.service.landing import visit_landing
    from ripple.web.landing_page import content_security_policy, new_nonce, render_landing_page, visitor_region

    request = current_request()
    query: dict[str, str] = dict(request.query_params or {})
    accept_language = (request.headers.get("accept-language") or "")[:256]
    visit = _visit_request(code, query.get("rp"), token_limit=160)
    try:
        view = visit_landing(
            bootstrap.services(),
            visit,
            base_url=public_base(bootstrap.config().public_base_url),
            accept_language=accept_language,
            query_lang=query.get("lang"),
        )
    except RippleError as err:
        return _visitor_page(err)
    nonce = new_nonce()
    html = render_landing_page(
        view.landing,
        view.lang,
        share_url=view.share_url,
        leads_url=view.leads_url,
        share_token=view.share_token,
        nonce=nonce,
        campaign_name=view.campaign_name,
        phone_region=visitor_region(visit.country, accept_language),
    )
    return _page(html, content_security_policy(nonce), view.lang, view.set_visitor_cookie)


@visitors.route("/c/{code}", methods=["GET", "HEAD"], auth=Auth.PUBLIC, errors=False)
def card_page(code: str) -> Response:
    """An employee's public business card: recorded like a landing page (surface ``card``),
    rendered in the visitor's language under the same strict nonce CSP."""
    from ripple.service.cards import visit_card
    from ripple.web.card_page import card_security_policy as content_security_policy
    from ripple.web.card_page import render_card_page
    from ripple.web.landing_page import new_nonce

    request = current_request()
    query: dict[str, str] = dict(request.query_params or {})
    accept_language = (request.headers.get("accept-language") or "")[:256]
    try:
        view = visit_card(
            bootstrap.services(),
            _visit_request(code, query.get("rp"), token_limit=160),
            base_url=public_base(bootstrap.config().public_base_url),
            accept_language=accept_language,
            query_lang=query.get("lang"),
        )
    except RippleError as err:
        return _visitor_page(err)
    nonce = new_nonce()
    html = render_card_page(
        lang=view.lang,
        images=view.images,
        name=view.name,
        card=view.card,
        company=view.company,
        campaigns=view.campaigns,
        campaign_ids=view.campaign_ids,
        share_url=view.share_url,
        vcard_url=view.vcard_url,
        taps_url=view.taps_url,
        nonce=nonce,
    )
    csp = content_security_policy(nonce, local=bootstrap.config().env in ("local", "test"))
    return _page(html, csp, view.lang, view.set_visitor_cookie)


@visitors.route("/story/{code}", methods=["GET", "HEAD"], auth=Auth.PUBLIC, errors=False)
def story_page(code: str) -> Response:
    """An employee's approved story: recorded like a landing page (surface ``story``), so a
    forwarded story still credits its author; a withdrawn one is gone (410)."""
    from ripple.service.stories import visit_story
    from ripple.web.card_page import card_security_policy as content_security_policy
    from ripple.web.landing_page import new_nonce
    from ripple.web.story_page import render_story_page

    request = current_request()
    query: dict[str, str] = dict(request.query_params or {})
    accept_language = (request.headers.get("accept-language") or "")[:256]
    try:
        view = visit_story(
            bootstrap.services(),
            _visit_request(code, query.get("rp"), token_limit=160),
            base_url=public_base(bootstrap.config().public_base_url),
            accept_language=accept_language,
            query_lang=query.get("lang"),
        )
    except RippleError as err:
        return _visitor_page(err)
    nonce = new_nonce()
    html = render_story_page(
        lang=view.lang,
        author=view.author,
        title=view.title,
        text=view.text,
        images=view.images,
        campaign_url=view.campaign_url,
        share_url=view.share_url,
        nonce=nonce,
    )
    csp = content_security_policy(nonce, local=bootstrap.config().env in ("local", "test"))
    return _page(html, csp, view.lang, view.set_visitor_cookie)


@visitors.route("/story/{code}/images/{index}", methods=["GET"], auth=Auth.PUBLIC)
def story_image(code: str, index: str) -> Response:
    """A published story's image: a redirect to a short-lived presigned URL."""
    from ripple.service.stories import story_image_key

    key = story_image_key(bootstrap.services(), code, index)
    return Response(
        body="",
        status_code=302,
        headers={"Location": poster_deps().blobs.presign(key, 3600), "Cache-Control": "private, max-age=600"},
    )


def _page(html: str, csp: str, lang: str, visitor_cookie: str | None) -> Response:
    """A public HTML page (landing page, business card): no caching, its nonce CSP, its language."""
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Content-Language": lang,
    }
    _set_visitor_cookie(headers, visitor_cookie)
    return Response(body="" if current_request().method == "HEAD" else html, status_code=200, headers=headers)


@visitors.route("/c/{code}/vcard", methods=["GET"], auth=Auth.PUBLIC)
def card_vcard(code: str) -> Response:
    """ "Save contact": the card as a vCard 4.0 (RFC 6350), UTF-8."""
    from urllib.parse import quote

    from ripple.service.cards import vcard_for

    name, text = vcard_for(bootstrap.services(), code, base_url=public_base(bootstrap.config().public_base_url))
    return Response(
        body=text,
        status_code=200,
        headers={
            "Content-Type": "text/vcard; charset=utf-8",
            "Content-Disposition": f"attachment; filename=\"contact.vcf\"; filename*=UTF-8''{quote(name)}.vcf",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@visitors.route("/c/{code}/images/{slot}", methods=["GET"], auth=Auth.PUBLIC)
def card_image(code: str, slot: str) -> Response:
    """An uploaded card image: a redirect to a short-lived presigned URL of the re-encoded object."""
    from ripple.service.cards import card_image_key

    key = card_image_key(bootstrap.services(), code, slot)
    return Response(
        body="",
        status_code=302,
        headers={"Location": poster_deps().blobs.presign(key, 3600), "Cache-Control": "private, max-age=600"},
    )


@visitors.route(
    "/c/{code}/taps", methods=["POST"], auth=Auth.PUBLIC, status=202, content_types=["application/json", "text/plain"]
)
def post_card_tap(code: str) -> Any:
    """What a card's viewer tapped (public, rate limited): 202 whether or not it counted."""
    from ripple.service.cards import TapRequest, record_tap

    request = current_request()
    jar = cookies(request)
    recorded = record_tap(
        bootstrap.services(),
        TapRequest(
            code=code,
            body=json_body(),
            user_agent=(request.headers.get("user-agent") or "")[:512],
            client_ip=client_ip(),
            visitor_cookie=jar.get(VISITOR_COOKIE),
            viewer=optional_viewer(request, jar, bootstrap.verifier),
        ),
    )
    return {"recorded": recorded}


@visitors.route("/", methods=["GET"], auth=Auth.PUBLIC, errors=False)
def root() -> Response:
    return error_response(NotFoundError("no such link"))
