"""Materials, copy texts, poster templates and posters, and business cards' owner side.

Image decoding and rendering run in the PosterFunction (functions/poster.py, Pillow in its
own layer): these views import only ripple.service.posters, never an imaging library.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from ripple import bootstrap
from ripple.api.routing import (
    Area,
    Auth,
    current_request,
    json_body,
    poster_deps,
    public_base,
    query_params,
    raw_bytes,
)
from ripple.domain.model import Role
from ripple.http import json_response
from ripple.service.auth import Principal

__all__ = ["content"]

content = Area("content")


@content.route(
    "/admin/materials",
    methods=["POST"],
    auth=Auth.USER,
    role=Role.ADMIN,
    status=201,
    content_types=["image/jpeg", "image/png", "image/webp"],
)
def post_material(principal: Principal) -> Any:
    """The raw image is the body (``Content-Type: image/jpeg|png|webp``, at most 10 MB)."""
    from ripple.service.posters import upload_material

    request = current_request()
    body = raw_bytes()
    name = str(query_params().get("name") or "")
    result = upload_material(
        bootstrap.services(), poster_deps(), principal, body, request.headers.get("content-type") or "", name
    )
    return result


@content.route("/admin/materials/uploads", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201)
def post_material_upload(principal: Principal) -> Any:
    """Large images go straight to S3 with a presigned POST, then ``…/complete``."""
    from ripple.service.posters import start_upload

    return start_upload(bootstrap.services(), poster_deps(), principal, json_body())


@content.route(
    "/admin/materials/uploads/{upload_id}/complete", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201
)
def post_material_upload_complete(principal: Principal, upload_id: str) -> Any:
    from ripple.service.posters import complete_upload

    return complete_upload(bootstrap.services(), poster_deps(), principal, upload_id, json_body())


@content.route("/admin/materials", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_materials(principal: Principal) -> Any:
    from ripple.service.posters import list_materials

    return list_materials(poster_deps(), principal)


@content.route("/admin/copies", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201)
def post_copy(principal: Principal) -> Any:
    from ripple.service.posters import create_copy

    return create_copy(bootstrap.services(), poster_deps(), principal, json_body())


@content.route("/admin/copies", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_copies(principal: Principal) -> Any:
    from ripple.service.posters import list_copies

    return list_copies(poster_deps(), principal, query_params())


@content.route("/admin/poster-templates", methods=["POST"], auth=Auth.USER, role=Role.ADMIN, status=201)
def post_poster_template(principal: Principal) -> Any:
    from ripple.service.posters import create_template

    return create_template(bootstrap.services(), poster_deps(), principal, json_body())


@content.route("/admin/poster-templates", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_poster_templates(principal: Principal) -> Any:
    from ripple.service.posters import list_templates

    return list_templates(poster_deps(), principal)


@content.route("/admin/poster-templates/{template_id}", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_poster_template(principal: Principal, template_id: str) -> Any:
    from ripple.service.posters import get_template

    return get_template(poster_deps(), principal, template_id, query_params())


@content.route("/admin/poster-templates/{template_id}", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_poster_template(principal: Principal, template_id: str) -> Any:
    """Editing creates a new version (the response carries it)."""
    from ripple.service.posters import update_template

    return update_template(bootstrap.services(), poster_deps(), principal, template_id, json_body())


@content.route("/campaigns/{campaign_id}/poster", methods=["GET"], auth=Auth.USER)
def get_poster(principal: Principal, campaign_id: str) -> Response:
    """302 to a presigned S3 URL of the caller's poster (rendered on the first request only)."""
    from ripple.service.posters import get_poster as get_poster_uc

    svc = bootstrap.services()
    base_url = public_base(svc.settings.public_base_url)
    result = get_poster_uc(svc, poster_deps(), principal, campaign_id, query_params(), base_url)
    return Response(
        body="",
        status_code=302,
        headers={
            "Location": result.url,
            "Cache-Control": "private, no-store",
            "X-Poster-Cache": "hit" if result.cached else "miss",
        },
    )


@content.route("/me/posters/{campaign_id}", methods=["GET"], auth=Auth.USER)
def get_my_poster(principal: Principal, campaign_id: str) -> Response:
    """Like ``GET /campaigns/{id}/poster`` but the presigned URL comes back as JSON
    (``{"url", "cached"}``), for pages that send the token in a header and show the image."""
    from ripple.service.posters import get_poster as get_poster_uc

    svc = bootstrap.services()
    base_url = public_base(svc.settings.public_base_url)
    result = get_poster_uc(svc, poster_deps(), principal, campaign_id, query_params(), base_url)
    return json_response({"url": result.url, "cached": result.cached}, headers={"Cache-Control": "private, no-store"})


@content.route("/me/card", methods=["GET"], auth=Auth.USER)
def get_my_card(principal: Principal) -> Any:
    from ripple.service.cards import get_my_card as use_case

    base_url = public_base(bootstrap.config().public_base_url)
    return use_case(bootstrap.services(), principal, base_url=base_url)


@content.route("/me/card", methods=["PUT"], auth=Auth.USER)
def put_my_card(principal: Principal) -> Any:
    from ripple.service.cards import put_my_card as use_case

    base_url = public_base(bootstrap.config().public_base_url)
    return use_case(bootstrap.services(), principal, json_body(), base_url=base_url)


_CARD_IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif", "application/octet-stream"]


_CARD_IMAGE_TYPES += ["application/json", "text/plain", "application/x-www-form-urlencoded"]


@content.route("/me/card/images/{slot}", methods=["PUT"], auth=Auth.USER, content_types=_CARD_IMAGE_TYPES)
def put_card_image(principal: Principal, slot: str) -> Any:
    """My photo (``photo``) or WeChat/LINE QR image (``wechat_qr``, ``line_qr``): the raw
    image is the body (JPEG, PNG or WebP, at most 2 MB), checked like every material."""
    from ripple.service.cards import upload_card_image

    request = current_request()
    body = raw_bytes()
    base_url = public_base(bootstrap.config().public_base_url)
    result = upload_card_image(
        bootstrap.services(),
        poster_deps(),
        principal,
        slot,
        body,
        request.headers.get("content-type") or "",
        base_url=base_url,
    )
    return result


@content.route("/me/card/images/{slot}", methods=["DELETE"], auth=Auth.USER)
def delete_card_image(principal: Principal, slot: str) -> Any:
    from ripple.service.cards import delete_card_image as use_case

    base_url = public_base(bootstrap.config().public_base_url)
    return use_case(bootstrap.services(), principal, slot, base_url=base_url)


@content.route("/me/card/radar", methods=["GET"], auth=Auth.USER)
def get_card_radar(principal: Principal) -> Any:
    from ripple.service.cards import card_radar

    return card_radar(bootstrap.services(), principal, query_params())


@content.route("/admin/card", methods=["GET"], auth=Auth.USER, role=Role.ADMIN)
def get_company_card(principal: Principal) -> Any:
    from ripple.service.cards import get_company_card as use_case

    return use_case(bootstrap.services(), principal)


@content.route("/admin/card", methods=["PUT"], auth=Auth.USER, role=Role.ADMIN)
def put_company_card(principal: Principal) -> Any:
    from ripple.service.cards import put_company_card as use_case

    return use_case(bootstrap.services(), principal, json_body())
