"""Materials, poster templates and personal posters, in-process over moto (S3 + DynamoDB).

The poster function runs in-process (``RIPPLE_POSTER_INVOKE=local``, the test default):
the same handler the PosterFunction deploys, called with the same payloads.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
import zxingcpp
from botocore.client import BaseClient
from PIL import Image

from tests.conftest import STACK, auth

BUCKET = f"{STACK}-materialsbucket"
ADMIN = auth("acme", "boss", "admin")
OTHER_ADMIN = auth("globex", "boss", "admin")
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
TEMPLATE: dict[str, Any] = {
    "name": "Spring",
    "text_boxes": [
        {"binding": "campaign_title", "x": 60, "y": 80, "width": 960, "height": 200, "font_size": 96},
        {
            "binding": "employee_name",
            "x": 60,
            "y": 1200,
            "width": 960,
            "height": 160,
            "font_size": 120,
            "color": "#112233",
            "align": "center",
        },
        {
            "binding": "custom",
            "text": "扫码了解更多",
            "x": 60,
            "y": 1400,
            "width": 960,
            "height": 100,
            "align": "right",
        },
    ],
    "qr": {"x": 340, "y": 1520, "size": 400},
}


# ------------------------------------------------------------------ helpers


@pytest.fixture
def client(aws: Any) -> Any:
    from chalice.test import Client

    from app import app

    return Client(app)


def _json(client: Any, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"headers": {**headers, "Content-Type": "application/json"}}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    resp = getattr(client.http, method)(path, **kwargs)
    return resp.status_code, json.loads(resp.body or b"null")


def _upload(client: Any, data: bytes, ctype: str = "image/png", headers: dict[str, str] = ADMIN, name: str = "") -> Any:
    path = "/admin/materials" + (f"?name={name}" if name else "")
    return client.http.post(path, headers={**headers, "Content-Type": ctype}, body=data)


def _image(fmt: str, size: tuple[int, int] = (300, 200), color: str = "#3366AA", **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header declaring ``width`` x ``height`` with a tiny compressed body."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    idat = zlib.compress(b"\x00" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _objects() -> list[str]:
    resp = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET)
    return sorted(o["Key"] for o in resp.get("Contents", []))


def _s3_key(location: str) -> str:
    path = unquote(urlsplit(location).path)
    return path.removeprefix(f"/{BUCKET}/").lstrip("/")


def _fetch(location: str) -> bytes:
    s3 = boto3.client("s3", region_name="us-east-1")
    return bytes(s3.get_object(Bucket=BUCKET, Key=_s3_key(location))["Body"].read())


def _world(client: Any, name: str = "Alice") -> dict[str, Any]:
    assert (
        _json(client, "put", "/admin/employees/alice", ADMIN, {"name": name, "team": "sales", "region": "r"})[0] == 200
    )
    status, campaign = _json(
        client,
        "post",
        "/admin/campaigns",
        ADMIN,
        {"name": "春の新作 Spring", "destination_url": "https://example.com/p", "points": {"unique_visit": 1}},
    )
    assert status == 201, campaign
    resp = _upload(client, _image("JPEG", (1200, 2000), "#DDEEFF"), "image/jpeg")
    assert resp.status_code == 201, resp.body
    material = json.loads(resp.body)
    status, tpl = _json(
        client,
        "post",
        "/admin/poster-templates",
        ADMIN,
        {**TEMPLATE, "background_material_id": material["material_id"]},
    )
    assert status == 201, tpl
    return {"campaign_id": campaign["campaign_id"], "template_id": tpl["template_id"], "material": material}


def _poster(client: Any, world: dict[str, Any], sub: str = "alice", fmt: str = "png", channel: str = "wechat") -> Any:
    path = f"/campaigns/{world['campaign_id']}/poster?channel={channel}&template={world['template_id']}&format={fmt}"
    return client.http.get(path, headers=auth("acme", sub, "employee"))


@pytest.fixture
def s3_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every S3 API call made by anyone (API or poster function), by operation name."""
    calls: list[str] = []
    original = BaseClient._make_api_call

    def spy(self: Any, operation: str, params: Any) -> Any:
        if self.meta.service_model.service_name == "s3":
            calls.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", spy)
    yield calls


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import poster

    seen: list[str] = []
    original = poster.render_poster

    def counting(*args: Any, **kwargs: Any) -> bytes:
        seen.append(args[1].get("employee_name", ""))
        return original(*args, **kwargs)

    monkeypatch.setattr(poster, "render_poster", counting)
    return seen


# ------------------------------------------------------------------ materials


def test_upload_validation_rejects_large_bombs_and_fakes_without_writing(client: Any) -> None:
    big = client.http.post(
        "/admin/materials", headers={**ADMIN, "Content-Type": "image/png"}, body=b"\x89PNG" + b"\0" * (50 * 1024 * 1024)
    )
    assert big.status_code == 413, big.body
    bomb = _upload(client, _png_bomb(100_000, 100_000))
    assert bomb.status_code == 422 and "too large" in json.loads(bomb.body)["error"]["message"]
    moderate_bomb = _upload(client, _png_bomb(9_000, 9_000))  # 81 MP: under Pillow's own limit, over ours
    assert moderate_bomb.status_code == 422
    fake = _upload(client, b"just some text, named like an image", name="evil.png")
    assert fake.status_code == 422 and "not an image" in json.loads(fake.body)["error"]["message"]
    truncated = _upload(client, _image("PNG")[:120])
    assert truncated.status_code == 422
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    assert _upload(client, gif.getvalue(), "image/png").status_code == 422  # decoded, not trusted by type
    assert _upload(client, b"x", "text/plain").status_code == 415
    assert _upload(client, _image("PNG"), headers=auth("acme", "alice", "employee")).status_code == 403
    assert _objects() == []  # staged uploads are removed, nothing stored
    assert _json(client, "get", "/admin/materials", ADMIN)[1] == {"items": [], "next_cursor": None}


def test_upload_strips_exif_and_applies_orientation(client: Any) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (35.0, 39.0, 0.0)}  # GPS latitude
    data = _image("JPEG", (400, 200), exif=exif.tobytes())
    assert b"SecretCam" in data
    resp = _upload(client, data, "image/jpeg", name="team-photo")
    assert resp.status_code == 201, resp.body
    material = json.loads(resp.body)
    assert (material["width"], material["height"], material["content_type"]) == (200, 400, "image/jpeg")
    (key,) = _objects()
    assert key.startswith("materials/acme/") and key.endswith(".jpg")
    stored = bytes(boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert b"SecretCam" not in stored and b"Exif" not in stored
    assert dict(Image.open(io.BytesIO(stored)).getexif()) == {}
    webp = _upload(client, _image("WEBP"), "image/webp")
    assert webp.status_code == 201 and json.loads(webp.body)["content_type"] == "image/webp"
    listed = _json(client, "get", "/admin/materials", ADMIN)[1]["items"]
    assert {m["material_id"] for m in listed} == {material["material_id"], json.loads(webp.body)["material_id"]}
    assert _json(client, "get", "/admin/materials", OTHER_ADMIN)[1] == {"items": [], "next_cursor": None}


def test_copies_with_tags_and_language_variants(client: Any) -> None:
    body = {
        "title": "Launch",
        "tags": ["Spring", "launch"],
        "variants": {"en": "New!", "ja": "新発売", "zh-Hans": "新品"},
    }
    status, copy = _json(client, "post", "/admin/copies", ADMIN, body)
    assert status == 201 and copy["tags"] == ["launch", "spring"] and copy["variants"]["ja"] == "新発売"
    assert _json(client, "post", "/admin/copies", ADMIN, {"variants": {"fr": "Bonjour"}})[0] == 422
    assert _json(client, "post", "/admin/copies", ADMIN, {"variants": {}})[0] == 422
    assert _json(client, "get", "/admin/copies?tag=spring", ADMIN)[1]["items"] == [copy]
    assert _json(client, "get", "/admin/copies?tag=other", ADMIN)[1]["items"] == []
    assert _json(client, "get", "/admin/copies", OTHER_ADMIN)[1]["items"] == []


# ------------------------------------------------------------------ templates


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text_boxes": [{"binding": "team", "x": 900, "y": 0, "width": 300, "height": 50}]}, "text_boxes[0]"),
        (
            {"text_boxes": [{"binding": "ceo_name", "x": 0, "y": 0, "width": 300, "height": 50}]},
            "text_boxes[0].binding",
        ),
        ({"text_boxes": [{"binding": "team", "x": 0, "y": 0, "width": 10, "height": 10, "color": "red"}]}, None),
        ({"text_boxes": [{"binding": "team", "x": 0, "y": 0, "width": 10, "height": 10, "align": "justify"}]}, None),
        ({"text_boxes": [{"binding": "custom", "x": 0, "y": 0, "width": 10, "height": 10}]}, "text_boxes[0].text"),
        ({"qr": {"x": 900, "y": 1800, "size": 300}}, "qr"),
        ({"qr": {"x": 0, "y": 0, "size": 20}}, "qr.size"),
        ({"canvas": {"width": 1080, "height": 99999}}, "canvas.height"),
        ({"background_material_id": "mNOPE"}, "background_material_id"),
        ({"font": "Comic Sans"}, None),
    ],
)
def test_template_validation_422s_and_writes_nothing(client: Any, change: dict[str, Any], field: str | None) -> None:
    status, body = _json(client, "post", "/admin/poster-templates", ADMIN, {**TEMPLATE, **change})
    assert status == 422, body
    if field is not None:
        assert body["error"]["details"]["field"] == field
    assert _json(client, "get", "/admin/poster-templates", ADMIN)[1] == {"items": [], "next_cursor": None}


def test_templates_are_tenant_scoped_and_versioned(client: Any) -> None:
    other = _upload(client, _image("PNG"), headers=OTHER_ADMIN)
    assert other.status_code == 201
    foreign = {**TEMPLATE, "background_material_id": json.loads(other.body)["material_id"]}
    assert _json(client, "post", "/admin/poster-templates", ADMIN, foreign)[0] == 422  # not acme's material
    assert _json(client, "post", "/admin/poster-templates", auth("acme", "alice", "employee"), TEMPLATE)[0] == 403

    status, v1 = _json(client, "post", "/admin/poster-templates", ADMIN, TEMPLATE)
    assert status == 201 and v1["version"] == 1 and v1["canvas"] == {"width": 1080, "height": 1920}
    tid = v1["template_id"]
    status, v2 = _json(client, "put", f"/admin/poster-templates/{tid}", ADMIN, {**TEMPLATE, "name": "Spring v2"})
    assert status == 200 and v2["version"] == 2 and v2["template_id"] == tid
    assert _json(client, "get", f"/admin/poster-templates/{tid}", ADMIN)[1] == v2
    assert _json(client, "get", f"/admin/poster-templates/{tid}?version=1", ADMIN)[1] == v1
    assert _json(client, "get", "/admin/poster-templates", ADMIN)[1] == {"items": [v2], "next_cursor": None}
    assert _json(client, "put", f"/admin/poster-templates/{tid}", ADMIN, {**TEMPLATE, "qr": {}})[0] == 422
    assert _json(client, "get", f"/admin/poster-templates/{tid}", ADMIN)[1]["version"] == 2  # failed edit: no v3
    assert _json(client, "get", f"/admin/poster-templates/{tid}", OTHER_ADMIN)[0] == 404
    assert _json(client, "put", f"/admin/poster-templates/{tid}", OTHER_ADMIN, TEMPLATE)[0] == 404


# ------------------------------------------------------------------ posters


def test_poster_qr_scans_to_the_employees_link_and_the_visit_credits_them(client: Any) -> None:
    world = _world(client)
    resp = _poster(client, world, fmt="png")
    assert resp.status_code == 302, resp.body
    image = Image.open(io.BytesIO(_fetch(resp.headers["Location"])))
    assert image.size == (1080, 1920) and image.format == "PNG"
    decoded = [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]

    status, link = _json(
        client,
        "post",
        f"/campaigns/{world['campaign_id']}/links",
        auth("acme", "alice", "employee"),
        {"channel": "wechat"},
    )
    assert status == 200  # the poster already issued it
    assert decoded == [link["short_url"]]

    code = urlsplit(decoded[0]).path.lstrip("/")
    assert client.http.get(f"/{code}", headers={"User-Agent": BROWSER}).status_code == 302
    visits = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=f"{STACK}-visits")["Items"]
    assert [(v["code"]["S"], v["employee_id"]["S"], v["decision"]["S"]) for v in visits] == [
        (code, "alice", "eligible")
    ]


def test_poster_of_another_tenants_campaign_or_template_is_404(client: Any) -> None:
    world = _world(client)
    status, theirs = _json(
        client,
        "post",
        "/admin/campaigns",
        OTHER_ADMIN,
        {"name": "X", "destination_url": "https://example.com/x", "points": {"unique_visit": 1}},
    )
    assert status == 201
    assert _poster(client, {**world, "campaign_id": theirs["campaign_id"]}).status_code == 404
    status, their_tpl = _json(client, "post", "/admin/poster-templates", OTHER_ADMIN, TEMPLATE)
    assert status == 201
    assert _poster(client, {**world, "template_id": their_tpl["template_id"]}).status_code == 404
    assert _poster(client, world, fmt="gif").status_code == 422
    assert _poster(client, world, channel="myspace").status_code == 422
    assert client.http.get(f"/campaigns/{world['campaign_id']}/poster?template=x", headers=ADMIN).status_code == 403
    assert [k for k in _objects() if k.startswith("posters/")] == []


@pytest.mark.parametrize(
    "name",
    ["山田 花子", "张伟 们这样说", "陳大文 們這樣說", "김민준 한국어", "Zoë O'Connor-Smith"],
    ids=["ja", "zh-Hans", "zh-Hant", "ko", "en"],
)
def test_names_in_every_language_render_without_missing_glyphs(client: Any, name: str) -> None:
    import poster
    from fontTools.ttLib import TTFont

    cmap = TTFont(poster.font_path(), lazy=True).getBestCmap()
    assert [ch for ch in name if not ch.isspace() and ord(ch) not in cmap] == []
    assert poster.missing_glyphs(name) == []
    world = _world(client, name)
    resp = _poster(client, world, fmt="png")
    assert resp.status_code == 302
    image = Image.open(io.BytesIO(_fetch(resp.headers["Location"]))).convert("RGB")
    box = TEMPLATE["text_boxes"][1]
    region = image.crop((box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]))
    colours = dict((c, n) for n, c in region.getcolors(maxcolors=1 << 20) or [])
    assert colours.get((0x11, 0x22, 0x33), 0) > 200  # the name was drawn in the box's colour


def test_missing_glyph_detection_can_fail() -> None:
    """The .notdef probe is not vacuous: characters outside the font are reported."""
    import poster

    assert poster.missing_glyphs("A\U00010000\U0001d11e") == ["\U00010000", "\U0001d11e"]


def test_cache_hit_makes_no_render_and_one_s3_call(client: Any, s3_calls: list[str], renders: list[str]) -> None:
    world = _world(client)
    s3_calls.clear()
    first = _poster(client, world, fmt="jpeg")
    assert first.status_code == 302 and first.headers["X-Poster-Cache"] == "miss"
    assert renders == ["Alice"]
    assert s3_calls == ["HeadObject", "GetObject", "PutObject"]  # probe, background, store

    s3_calls.clear()
    second = _poster(client, world, fmt="jpeg")
    assert second.headers["X-Poster-Cache"] == "hit" and renders == ["Alice"]
    assert s3_calls == ["HeadObject"]  # the presigned URL is signed locally
    assert _s3_key(second.headers["Location"]) == _s3_key(first.headers["Location"])
    assert Image.open(io.BytesIO(_fetch(second.headers["Location"]))).format == "JPEG"

    # another format, a template edit and a name change each make a new poster
    keys = {_s3_key(first.headers["Location"])}
    png = _poster(client, world, fmt="png")
    keys.add(_s3_key(png.headers["Location"]))
    status, _v2 = _json(
        client, "put", f"/admin/poster-templates/{world['template_id']}", ADMIN, {**TEMPLATE, "name": "v2"}
    )
    assert status == 200
    edited = _poster(client, world, fmt="jpeg")
    assert edited.headers["X-Poster-Cache"] == "miss"
    keys.add(_s3_key(edited.headers["Location"]))
    assert (
        _json(client, "put", "/admin/employees/alice", ADMIN, {"name": "Alicia", "team": "sales", "region": "r"})[0]
        == 200
    )
    renamed = _poster(client, world, fmt="jpeg")
    assert renamed.headers["X-Poster-Cache"] == "miss"
    keys.add(_s3_key(renamed.headers["Location"]))
    assert len(keys) == 4
    assert renders == ["Alice", "Alice", "Alice", "Alicia"]


def test_poster_url_is_the_api_path_for_the_task_list(client: Any) -> None:
    from ripple import bootstrap
    from ripple.service.posters import poster_url

    world = _world(client)
    path = poster_url(bootstrap.services(), "acme", "alice", world["campaign_id"], "line", world["template_id"], "png")
    resp = client.http.get(path, headers=auth("acme", "alice", "employee"))
    assert resp.status_code == 302 and resp.headers["X-Poster-Cache"] == "miss"
