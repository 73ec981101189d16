"""Large materials go straight to S3 with a presigned POST whose policy S3 enforces
(content type, 10 MB), then are validated and re-encoded by the poster function."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
import requests
from PIL import Image

from tests.conftest import STACK, auth

BUCKET = f"{STACK}-materialsbucket"
ADMIN = auth("acme", "boss", "admin")


@pytest.fixture
def client(aws: Any) -> Any:
    from chalice.test import Client

    from app import app

    return Client(app)


def _json(client: Any, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
    resp = client.http.post(path, headers={**headers, "Content-Type": "application/json"}, body=json.dumps(body))
    return resp.status_code, json.loads(resp.body or b"null")


def _jpeg(size: tuple[int, int] = (1080, 1920)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#123456").save(out, "JPEG", quality=95)
    return out.getvalue()


def _objects() -> list[str]:
    resp = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET)
    return sorted(o["Key"] for o in resp.get("Contents", []))


def test_presigned_upload_then_complete(client: Any) -> None:
    status, upload = _json(client, "/admin/materials/uploads", ADMIN, {"content_type": "image/jpeg", "name": "bg"})
    assert status == 201, upload
    assert upload["max_bytes"] == 10 * 1024 * 1024
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("bg.jpg", _jpeg(), "image/jpeg")}, timeout=30
    )
    assert posted.status_code in (200, 201, 204), posted.text
    status, material = _json(client, f"/admin/materials/uploads/{upload['upload_id']}/complete", ADMIN, {"name": "bg"})
    assert status == 201, material
    assert (material["width"], material["height"], material["content_type"]) == (1080, 1920, "image/jpeg")
    assert not [k for k in _objects() if k.startswith("uploads/")]  # the staged object is gone
    # completing twice finds nothing to complete
    assert _json(client, f"/admin/materials/uploads/{upload['upload_id']}/complete", ADMIN, {})[0] == 404


def test_presigned_upload_rejects_what_is_not_an_image(client: Any) -> None:
    _, upload = _json(client, "/admin/materials/uploads", ADMIN, {"content_type": "image/png"})
    requests.post(
        upload["url"], data=upload["fields"], files={"file": ("x.png", b"not an image at all", "image/png")}, timeout=30
    )
    status, err = _json(client, f"/admin/materials/uploads/{upload['upload_id']}/complete", ADMIN, {})
    assert status == 422, err
    assert not _objects() or not [k for k in _objects() if k.startswith(("uploads/", "materials/"))]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"content_type": "image/gif"}, 422),
        ({"content_type": "image/png", "size": 5}, 422),
        ({}, 422),
        ({"content_type": "image/png", "name": "x" * 200}, 422),
        ({"content_type": ["image/png"]}, 422),  # was a 500: a list is not hashable
        ({"content_type": {"type": "image/png"}}, 422),
    ],
)
def test_bad_upload_requests(client: Any, body: dict[str, Any], status: int) -> None:
    assert _json(client, "/admin/materials/uploads", ADMIN, body)[0] == status
    assert (
        _json(client, "/admin/materials/uploads", auth("acme", "e", "employee"), {"content_type": "image/png"})[0]
        == 403
    )
    assert _json(client, "/admin/materials/uploads/nope/complete", ADMIN, {})[0] == 404
    assert _json(client, "/admin/materials/uploads/bad!id/complete", ADMIN, {})[0] == 404
