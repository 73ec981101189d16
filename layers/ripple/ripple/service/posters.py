"""Material library, copy texts, poster templates and personal posters (use cases).

Rendering and image decoding happen in the poster function (``functions/poster.py``, with
Pillow, qrcode and the CJK font in its own layer); this module only decides what to render
and where it is cached, so the API process never imports an imaging library.

``GET /campaigns/{id}/poster``: the employee's link for the channel (issued if missing), the
template's latest version, the bound texts -> :func:`poster_cache_key`. One ``HeadObject``
answers whether S3 already has that poster; if not, the poster function renders and stores
it. Either way the caller is redirected to a presigned URL of the object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from ripple.domain.errors import ForbiddenError, NotFoundError, PayloadTooLargeError, ValidationError
from ripple.domain.model import Role
from ripple.domain.posters import (
    FORMATS,
    IMAGE_TYPES,
    MAX_MATERIAL_BYTES,
    PosterTemplate,
    poster_cache_key,
    validate_copy,
    validate_template,
)
from ripple.domain.validation import check_id, reject_unknown_params, validate_channel
from ripple.service.auth import Principal, require_role
from ripple.service.context import Services

__all__ = [
    "PosterDeps",
    "PosterResult",
    "complete_upload",
    "create_copy",
    "create_template",
    "get_poster",
    "get_template",
    "ingest_image",
    "list_copies",
    "list_materials",
    "list_templates",
    "poster_url",
    "start_upload",
    "update_template",
    "upload_material",
]


class Blobs(Protocol):
    bucket: str

    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def presign(self, key: str, expires: int = 900) -> str: ...
    def presign_post(self, key: str, content_type: str, max_bytes: int, expires: int = 900) -> dict[str, Any]: ...
    def size(self, key: str) -> int | None: ...


@dataclass(slots=True)
class PosterDeps:
    """Collaborators of these use cases (``adapters.posters`` on AWS and locally)."""

    repo: Any  # adapters.posters.DynamoPosterRepo
    blobs: Blobs
    invoke: Any  # Callable[[dict], dict]: the poster function


@dataclass(frozen=True, slots=True)
class PosterResult:
    key: str
    url: str
    cached: bool
    short_url: str


def default_deps() -> PosterDeps:
    from ripple.adapters.posters import DynamoPosterRepo, S3Blobs, invoke_poster_function

    return PosterDeps(repo=DynamoPosterRepo(), blobs=S3Blobs(), invoke=invoke_poster_function)


def poster_url(
    svc: Services,
    tenant_id: str,
    employee_id: str,
    campaign_id: str,
    channel: str,
    template_id: str,
    fmt: str = "jpeg",
) -> str:
    """The API path an employee opens to get their poster (rendered on first request).
    ``tenant_id``/``employee_id`` are implied by the caller's token; kept for the task list."""
    query = urlencode({"channel": channel, "template": template_id, "format": fmt})
    return f"/campaigns/{campaign_id}/poster?{query}"


# ------------------------------------------------------------------ materials and copies


def upload_material(
    svc: Services, deps: PosterDeps, principal: Principal, body: bytes, content_type: str, name: str = ""
) -> dict[str, Any]:
    """Store an uploaded image: staged in S3, decoded and re-encoded (EXIF stripped) by the
    poster function, kept under ``materials/<tenant>/``; the staged object is always removed."""
    require_role(principal, Role.ADMIN)
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype not in IMAGE_TYPES:
        raise ValidationError(
            f"Content-Type must be one of {', '.join(IMAGE_TYPES)}", details={"field": "Content-Type"}
        )
    if len(body) > MAX_MATERIAL_BYTES:
        raise PayloadTooLargeError(f"images are limited to {MAX_MATERIAL_BYTES // (1024 * 1024)} MB")
    if not body:
        raise ValidationError("the request body must be the image", details={"field": "body"})
    if len(name) > 100:
        raise ValidationError("name must be at most 100 characters", details={"field": "name"})
    material_id = "m" + svc.ids(11)
    staged = f"uploads/{principal.tenant_id}/{material_id}"
    deps.blobs.put(staged, body, "application/octet-stream")
    return _ingest(svc, deps, principal, material_id, staged, name)


def ingest_image(deps: PosterDeps, staged: str, target_prefix: str, field: str | None = None) -> dict[str, Any]:
    """The poster function's decode, check and re-encode of a staged upload under
    ``target_prefix`` (materials, card images); the staged object is always removed. A
    refusal is a 422 naming ``field`` when the caller has one."""
    try:
        result = deps.invoke(
            {"op": "ingest", "bucket": deps.blobs.bucket, "source_key": staged, "target_prefix": target_prefix}
        )
    finally:
        deps.blobs.delete(staged)
    if not result.get("ok"):
        reason = result.get("reason")
        if field is None:
            raise ValidationError(f"not a usable image: {result.get('reason', 'invalid')}", details={"reason": reason})
        raise ValidationError(
            f"{field} is not a usable image: {result.get('reason', 'invalid')}",
            details={"field": field, "reason": reason},
        )
    return dict(result)


def _ingest(
    svc: Services, deps: PosterDeps, principal: Principal, material_id: str, staged: str, name: str
) -> dict[str, Any]:
    """Have the poster function decode, check and re-encode a staged upload into the
    material library; the staged object is always removed."""
    result = ingest_image(deps, staged, f"materials/{principal.tenant_id}/{material_id}")
    from ripple.adapters.posters import MaterialItem

    item = MaterialItem(
        MaterialItem.key(principal.tenant_id, material_id),
        tenant=principal.tenant_id,
        material_id=material_id,
        name=name,
        s3_key=result["key"],
        content_type=result["content_type"],
        width=result["width"],
        height=result["height"],
        size=result["size"],
        created_at=svc.clock(),
    )
    deps.repo.put_material(item)
    public: dict[str, Any] = item.to_public()
    return public


def start_upload(svc: Services, deps: PosterDeps, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Direct-to-S3 upload of a large image (API Gateway caps request bodies at 6 MB): a
    presigned POST whose policy enforces the content type and the 10 MB limit in S3 itself.
    Finish with ``complete_upload``."""
    require_role(principal, Role.ADMIN)
    unknown = sorted(set(body) - {"content_type", "name"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    ctype = body.get("content_type")
    if not isinstance(ctype, str) or ctype not in IMAGE_TYPES:  # a list or an object is not hashable
        raise ValidationError(
            f"content_type must be one of {', '.join(IMAGE_TYPES)}", details={"field": "content_type"}
        )
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 100:
        raise ValidationError("name must be at most 100 characters", details={"field": "name"})
    upload_id = "m" + svc.ids(11)
    key = f"uploads/{principal.tenant_id}/{upload_id}"
    post = deps.blobs.presign_post(key, str(ctype), MAX_MATERIAL_BYTES, expires=900)
    return {
        "upload_id": upload_id,
        "url": post["url"],
        "fields": post["fields"],
        "max_bytes": MAX_MATERIAL_BYTES,
        "expires_in": 900,
        "name": name,
    }


def complete_upload(
    svc: Services, deps: PosterDeps, principal: Principal, upload_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    unknown = sorted(set(body) - {"name"})
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", details={"fields": unknown})
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 100:
        raise ValidationError("name must be at most 100 characters", details={"field": "name"})
    if not upload_id.isalnum() or len(upload_id) > 32:
        raise NotFoundError("no such upload")
    staged = f"uploads/{principal.tenant_id}/{upload_id}"
    size = deps.blobs.size(staged)
    if size is None:
        raise NotFoundError("no such upload (not uploaded yet, expired or already completed)")
    if size > MAX_MATERIAL_BYTES:
        deps.blobs.delete(staged)
        raise PayloadTooLargeError(f"images are limited to {MAX_MATERIAL_BYTES // (1024 * 1024)} MB")
    return _ingest(svc, deps, principal, upload_id, staged, name)


def list_materials(deps: PosterDeps, principal: Principal) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    return {"items": [m.to_public() for m in deps.repo.materials(principal.tenant_id)], "next_cursor": None}


def create_copy(svc: Services, deps: PosterDeps, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    fields = validate_copy(body)
    from ripple.adapters.posters import CopyItem

    copy_id = "c" + svc.ids(11)
    item = CopyItem(
        CopyItem.key(principal.tenant_id, copy_id),
        tenant=principal.tenant_id,
        copy_id=copy_id,
        title=fields["title"],
        tags=json.dumps(list(fields["tags"]), ensure_ascii=False),
        variants=json.dumps(fields["variants"], ensure_ascii=False),
        created_at=svc.clock(),
    )
    deps.repo.put_copy(item)
    public: dict[str, Any] = item.to_public()
    return public


def list_copies(deps: PosterDeps, principal: Principal, query: dict[str, str]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    reject_unknown_params(query, {"tag"})  # a misspelt filter must not silently list everything
    tag = (query.get("tag") or "").strip().lower()
    copies = [c.to_public() for c in deps.repo.copies(principal.tenant_id)]
    return {"items": [c for c in copies if not tag or tag in c["tags"]], "next_cursor": None}


# ------------------------------------------------------------------ templates


def _checked_template(
    deps: PosterDeps, principal: Principal, body: dict[str, Any], template_id: str, version: int, now: int
) -> PosterTemplate:
    fields = validate_template(body)
    background = fields["background_material_id"]
    if background is not None and deps.repo.material(principal.tenant_id, background) is None:
        raise ValidationError(
            f"background_material_id: material {background} does not exist",
            details={"field": "background_material_id"},
        )
    return PosterTemplate(
        tenant_id=principal.tenant_id, template_id=template_id, version=version, created_at=now, **fields
    )


def create_template(svc: Services, deps: PosterDeps, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    tpl = _checked_template(deps, principal, body, "t" + svc.ids(11), 1, svc.clock())
    return deps.repo.save_template(tpl).to_public()  # type: ignore[no-any-return]


def update_template(
    svc: Services, deps: PosterDeps, principal: Principal, template_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Editing creates a new version; earlier versions stay readable (``?version=``)."""
    require_role(principal, Role.ADMIN)
    check_id(template_id, "template_id")
    current = deps.repo.template(principal.tenant_id, template_id)
    if current is None:
        raise NotFoundError(f"template {template_id} not found")
    tpl = _checked_template(deps, principal, body, template_id, current.version + 1, svc.clock())
    return deps.repo.save_template(tpl).to_public()  # type: ignore[no-any-return]


def get_template(deps: PosterDeps, principal: Principal, template_id: str, query: dict[str, str]) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    check_id(template_id, "template_id")
    version: int | None = None
    if query.get("version"):
        if not query["version"].isdigit():
            raise ValidationError("version must be a positive integer", details={"field": "version"})
        version = int(query["version"])
    tpl = deps.repo.template(principal.tenant_id, template_id, version)
    if tpl is None:
        raise NotFoundError(f"template {template_id} not found")
    return tpl.to_public()  # type: ignore[no-any-return]


def list_templates(deps: PosterDeps, principal: Principal) -> dict[str, Any]:
    require_role(principal, Role.ADMIN)
    return {"items": [t.to_public() for t in deps.repo.templates(principal.tenant_id)], "next_cursor": None}


# ------------------------------------------------------------------ posters


def get_poster(
    svc: Services, deps: PosterDeps, principal: Principal, campaign_id: str, query: dict[str, str], base_url: str
) -> PosterResult:
    """The caller's personal poster: cached in S3 under a key of everything that affects
    its pixels; rendered by the poster function only when that key is absent."""
    from ripple.service.links import issue_link

    require_role(principal, Role.EMPLOYEE)
    check_id(campaign_id, "campaign_id")
    unknown = sorted(set(query) - {"channel", "template", "format"})
    if unknown:
        raise ValidationError(f"unknown parameter(s): {', '.join(unknown)}", details={"fields": unknown})
    fmt = query.get("format") or "jpeg"
    if fmt not in FORMATS:
        raise ValidationError("format must be png or jpeg", details={"field": "format"})
    template_id = query.get("template") or ""
    if not template_id:
        raise ValidationError("template is required", details={"field": "template"})
    check_id(template_id, "template")
    channel = validate_channel({"channel": query.get("channel")})
    campaign = svc.campaigns.get(principal.tenant_id, campaign_id)
    if campaign is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    tpl = deps.repo.template(principal.tenant_id, template_id)
    if tpl is None:
        raise NotFoundError(f"template {template_id} not found")
    employee = svc.employees.get(principal.tenant_id, principal.sub)
    if employee is None:
        raise ForbiddenError("your account is not registered as an employee of this tenant")
    link, _created = issue_link(svc, principal, campaign_id, {"channel": channel})
    short_url = str(link.to_public(base_url)["short_url"])
    background_key: str | None = None
    if tpl.background_material_id:
        material = deps.repo.material(principal.tenant_id, tpl.background_material_id)
        background_key = material.s3_key if material is not None else None
    texts = {"campaign_title": campaign.name, "employee_name": employee.name, "team": employee.team}
    key = poster_cache_key(
        tenant_id=principal.tenant_id,
        template=tpl,
        background_key=background_key,
        texts=texts,
        qr_data=short_url,
        fmt=fmt,
    )
    cached = deps.blobs.exists(key)
    if not cached:
        deps.invoke(
            {
                "op": "render",
                "bucket": deps.blobs.bucket,
                "key": key,
                "template": tpl.spec(),
                "background_key": background_key,
                "texts": texts,
                "qr_data": short_url,
                "format": fmt,
            }
        )
    return PosterResult(key=key, url=deps.blobs.presign(key), cached=cached, short_url=short_url)
