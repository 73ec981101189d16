"""Materials, copy texts and poster templates over PynamoDB; image bytes in S3; the poster
function's invoker.

Items live in the main table (one partition each; GSI ``by-tenant`` lists a tenant's):

* ``MAT#tenant#id``            an uploaded, validated, re-encoded image (``materials/tenant/id.ext``)
* ``COPY#tenant#id``           a short copy text with tags and per-language variants
* ``PTPL#tenant#id``           a template's head (latest version, listed)
* ``PTPL#tenant#id#v0000n``    every version, immutable: editing writes version n+1 and moves
                               the head in one transaction conditioned on the head's version

S3 keys are tenant-prefixed; the bucket is ``RIPPLE_BUCKET`` (template.yaml's MaterialsBucket,
locally a moto bucket of the same name). No Pillow here: decoding happens in the poster function.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ripple.adapters.models import MainItem
from ripple.adapters.repositories import _connection
from ripple.domain.errors import ConflictError
from ripple.domain.posters import PosterTemplate, QrBox, TextBox

__all__ = [
    "CopyItem",
    "DynamoPosterRepo",
    "MaterialItem",
    "PosterFunctionError",
    "PosterTemplateItem",
    "S3Blobs",
    "invoke_poster_function",
]


class MaterialItem(MainItem):
    tenant = UnicodeAttribute()
    material_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    s3_key = UnicodeAttribute()
    content_type = UnicodeAttribute()
    width = NumberAttribute()
    height = NumberAttribute()
    size = NumberAttribute()
    created_at = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, material_id: str) -> str:
        return f"MAT#{tenant_id}#{material_id}"

    def to_public(self) -> dict[str, Any]:
        return {
            "material_id": self.material_id,
            "name": self.name,
            "content_type": self.content_type,
            "width": int(self.width),
            "height": int(self.height),
            "size": int(self.size),
        }


class CopyItem(MainItem):
    tenant = UnicodeAttribute()
    copy_id = UnicodeAttribute()
    title = UnicodeAttribute(default="")
    tags = UnicodeAttribute(default="[]")  # JSON list
    variants = UnicodeAttribute(default="{}")  # JSON {lang: text}
    created_at = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, copy_id: str) -> str:
        return f"COPY#{tenant_id}#{copy_id}"

    def to_public(self) -> dict[str, Any]:
        return {
            "copy_id": self.copy_id,
            "title": self.title,
            "tags": json.loads(self.tags),
            "variants": json.loads(self.variants),
        }


class PosterTemplateItem(MainItem):
    tenant = UnicodeAttribute()
    template_id = UnicodeAttribute()
    version = NumberAttribute()
    spec = UnicodeAttribute()  # JSON of PosterTemplate.spec()
    created_at = NumberAttribute(default=0)

    @staticmethod
    def head(tenant_id: str, template_id: str) -> str:
        return f"PTPL#{tenant_id}#{template_id}"

    @staticmethod
    def at(tenant_id: str, template_id: str, version: int) -> str:
        return f"PTPL#{tenant_id}#{template_id}#v{version:05d}"


def _template(item: PosterTemplateItem) -> PosterTemplate:
    spec = json.loads(item.spec)
    return PosterTemplate(
        tenant_id=item.tenant,
        template_id=item.template_id,
        version=int(item.version),
        name=spec["name"],
        width=spec["canvas"]["width"],
        height=spec["canvas"]["height"],
        background_material_id=spec.get("background_material_id"),
        background_color=spec.get("background_color", "#FFFFFF"),
        text_boxes=tuple(TextBox(**b) for b in spec["text_boxes"]),
        qr=QrBox(**spec["qr"]),
        created_at=int(item.created_at or 0),
    )


class DynamoPosterRepo:
    """Materials, copies and versioned templates of a tenant."""

    # ---------------------------------------------------------------- materials
    def put_material(self, item: MaterialItem) -> None:
        item.gsi1pk = f"{item.tenant}#MAT"
        item.gsi1sk = f"{int(item.created_at):015d}#{item.material_id}"
        item.save(condition=MaterialItem.pk.does_not_exist())

    def material(self, tenant_id: str, material_id: str) -> MaterialItem | None:
        try:
            item = MaterialItem.get(MaterialItem.key(tenant_id, material_id), consistent_read=True)
        except DoesNotExist:
            return None
        return item if item.tenant == tenant_id else None

    def materials(self, tenant_id: str, limit: int = 100) -> list[MaterialItem]:
        rows = MaterialItem.by_tenant.query(f"{tenant_id}#MAT", scan_index_forward=False, limit=limit)
        return list(rows)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- copies
    def put_copy(self, item: CopyItem) -> None:
        item.gsi1pk = f"{item.tenant}#COPY"
        item.gsi1sk = f"{int(item.created_at):015d}#{item.copy_id}"
        item.save(condition=CopyItem.pk.does_not_exist())

    def copies(self, tenant_id: str, limit: int = 100) -> list[CopyItem]:
        rows = CopyItem.by_tenant.query(f"{tenant_id}#COPY", scan_index_forward=False, limit=limit)
        return list(rows)  # type: ignore[arg-type]

    def copy(self, tenant_id: str, copy_id: str) -> CopyItem | None:
        try:
            return CopyItem.get(CopyItem.key(tenant_id, copy_id), consistent_read=True)
        except DoesNotExist:
            return None

    # ---------------------------------------------------------------- templates
    def save_template(self, tpl: PosterTemplate) -> PosterTemplate:
        """Write version ``tpl.version`` and move the head to it, in one transaction: version 1
        needs no head yet, version n needs the head at n-1 (a racing edit gets 409)."""
        spec = json.dumps(tpl.spec(), ensure_ascii=False, separators=(",", ":"))
        common: dict[str, Any] = {
            "tenant": tpl.tenant_id,
            "template_id": tpl.template_id,
            "version": tpl.version,
            "spec": spec,
        }
        version_item = PosterTemplateItem(
            PosterTemplateItem.at(tpl.tenant_id, tpl.template_id, tpl.version), created_at=tpl.created_at, **common
        )
        head = PosterTemplateItem(
            PosterTemplateItem.head(tpl.tenant_id, tpl.template_id),
            created_at=tpl.created_at,
            gsi1pk=f"{tpl.tenant_id}#PTPL",
            gsi1sk=tpl.template_id,
            **common,
        )
        head_condition = (
            PosterTemplateItem.pk.does_not_exist()
            if tpl.version == 1
            else PosterTemplateItem.version == tpl.version - 1
        )
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(version_item, condition=PosterTemplateItem.pk.does_not_exist())
                tx.save(head, condition=head_condition)
        except TransactWriteError as exc:
            raise ConflictError(f"template {tpl.template_id} was changed concurrently; retry") from exc
        return tpl

    def template(self, tenant_id: str, template_id: str, version: int | None = None) -> PosterTemplate | None:
        key = (
            PosterTemplateItem.head(tenant_id, template_id)
            if version is None
            else PosterTemplateItem.at(tenant_id, template_id, version)
        )
        try:
            item = PosterTemplateItem.get(key, consistent_read=True)
        except DoesNotExist:
            return None
        return _template(item) if item.tenant == tenant_id else None

    def templates(self, tenant_id: str, limit: int = 100) -> list[PosterTemplate]:
        rows = PosterTemplateItem.by_tenant.query(f"{tenant_id}#PTPL", limit=limit)
        return [_template(i) for i in rows]  # type: ignore[arg-type]


# ------------------------------------------------------------------ S3


@functools.cache
def _s3_client() -> Any:
    import boto3
    from botocore.config import Config

    # SigV4 presigned URLs; path-style when an endpoint (moto) is configured
    style = "path" if os.environ.get("AWS_ENDPOINT_URL_S3") else "auto"
    return boto3.client("s3", config=Config(signature_version="s3v4", s3={"addressing_style": style}))


class S3Blobs:
    """Image bytes in the materials bucket (one client per process)."""

    def __init__(self, bucket: str | None = None, client: Any = None) -> None:
        self.bucket = bucket or os.environ.get("RIPPLE_BUCKET", "")
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or _s3_client()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires: int = 900) -> dict[str, Any]:
        """A browser-usable POST policy: this key only, this type only, at most max_bytes."""
        post: dict[str, Any] = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires,
        )
        return post

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError:
            return None

    def get(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def presign(self, key: str, expires: int = 900) -> str:
        """A GET URL (signed locally, no S3 call)."""
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
            )
        )


# ------------------------------------------------------------------ the poster function


class PosterFunctionError(RuntimeError):
    """The poster function failed (not the client's fault)."""


_local_lock = threading.Lock()


def _invoke_mode() -> str:
    default = "local" if os.environ.get("RIPPLE_ENV", "local") in ("local", "test") else "lambda"
    return os.environ.get("RIPPLE_POSTER_INVOKE", default)


def _local_handler() -> Any:
    """``functions/poster.py`` imported in-process (local stack and tests only)."""
    with _local_lock:
        if "poster" not in sys.modules:
            functions_dir = str(Path(__file__).resolve().parents[4] / "functions")
            if functions_dir not in sys.path:
                sys.path.append(functions_dir)
        import importlib

        return importlib.import_module("poster").handler


def invoke_poster_function(payload: dict[str, Any]) -> dict[str, Any]:
    """Call the poster function: boto3 ``Invoke`` of ``RIPPLE_POSTER_FUNCTION`` on AWS,
    an in-process call locally (``RIPPLE_POSTER_INVOKE=local``, the default for local/test).
    The API process never imports Pillow either way."""
    if _invoke_mode() == "local":
        result = _local_handler()(payload, None)
    else:
        import boto3

        name = os.environ.get("RIPPLE_POSTER_FUNCTION", "")
        if not name:
            raise PosterFunctionError("RIPPLE_POSTER_FUNCTION is not set")
        resp = boto3.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload).encode())
        raw = resp["Payload"].read()
        if resp.get("FunctionError"):
            raise PosterFunctionError(f"poster function failed: {raw[:500]!r}")
        result = json.loads(raw)
    if not isinstance(result, dict):
        raise PosterFunctionError(f"poster function returned {type(result).__name__}")
    return result
