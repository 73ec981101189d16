"""Benchmark 9: personal posters.

* render p50/p95: ``poster.render_poster`` (compose + encode) of a 1080x1920 JPEG with a
  photo-like background (warm: decoded once, as in a warm PosterFunction), a CJK title, a
  name box that must shrink, a custom line and the QR code; in-process, no S3 in the loop.
* cached hit: the second ``GET /campaigns/{id}/poster`` through the Chalice app and moto:
  the S3 calls it makes (every botocore S3 call counted) and whether it rendered.
* cold import: fresh interpreters timing ``import poster`` (Pillow, qrcode, font lookup)
  against ``import app`` (the redirect's function), medians of interleaved runs.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import time
from typing import Any

from bench.report import Row
from bench.world import Sizes, api_client, auth
from infra.template import ROOT

__all__ = ["run"]

TEMPLATE: dict[str, Any] = {
    "name": "bench",
    "text_boxes": [
        {"binding": "campaign_title", "x": 60, "y": 80, "width": 960, "height": 260, "font_size": 110},
        {"binding": "employee_name", "x": 60, "y": 1200, "width": 960, "height": 160, "font_size": 140},
        {"binding": "team", "x": 60, "y": 1380, "width": 960, "height": 80, "font_size": 56, "align": "center"},
        {"binding": "custom", "text": "扫码了解更多 / Scan me", "x": 60, "y": 1460, "width": 960, "height": 60},
    ],
    "qr": {"x": 340, "y": 1520, "size": 360},
}
TEXTS = {
    "campaign_title": "春の新作キャンペーン 2026 Spring Launch",
    "employee_name": "陳大文 Maximilian",
    "team": "营销部",
}


def _background_jpeg() -> bytes:
    from PIL import Image, ImageFilter

    noise = Image.effect_noise((1080, 1920), 60).filter(ImageFilter.GaussianBlur(3))
    grad = Image.linear_gradient("L").resize((1080, 1920))
    img = Image.merge("RGB", (noise, grad, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _render(samples: int, bucket: str, background_key: str) -> tuple[list[float], list[float], int]:
    functions = str(ROOT / "functions")
    if functions not in sys.path:
        sys.path.insert(0, functions)
    import poster

    template = {**TEMPLATE, "canvas": {"width": 1080, "height": 1920}, "background_color": "#FFFFFF"}
    poster.render_poster(
        template, TEXTS, "https://r.example/abc1234", "jpeg", bucket=bucket, background_key=background_key
    )
    jpeg: list[float] = []
    png: list[float] = []
    size = 0
    for i in range(samples):
        qr = f"https://r.example/b{i:06d}"  # a different link every time: no hidden reuse
        t = time.perf_counter()
        body = poster.render_poster(template, TEXTS, qr, "jpeg", bucket=bucket, background_key=background_key)
        jpeg.append(time.perf_counter() - t)
        size = len(body)
        if i % 4 == 0:
            t = time.perf_counter()
            poster.render_poster(template, TEXTS, qr, "png", bucket=bucket, background_key=background_key)
            png.append(time.perf_counter() - t)
    return jpeg, png, size


def _cached_hit() -> tuple[list[str], list[str], str]:
    import poster
    from botocore.client import BaseClient

    client = api_client()
    admin = auth("pbench", "boss", "admin")
    client.http.put(
        "/admin/employees/amy",
        headers={**admin, "Content-Type": "application/json"},
        body=json.dumps({"name": "Amy", "team": "t", "region": "r"}),
    )
    resp = client.http.post(
        "/admin/campaigns",
        headers={**admin, "Content-Type": "application/json"},
        body=json.dumps({"name": "C", "destination_url": "https://example.com/", "points": {"unique_visit": 1}}),
    )
    cid = json.loads(resp.body)["campaign_id"]
    resp = client.http.post(
        "/admin/materials", headers={**admin, "Content-Type": "image/jpeg"}, body=_background_jpeg()
    )
    mid = json.loads(resp.body)["material_id"]
    resp = client.http.post(
        "/admin/poster-templates",
        headers={**admin, "Content-Type": "application/json"},
        body=json.dumps({**TEMPLATE, "background_material_id": mid}),
    )
    tid = json.loads(resp.body)["template_id"]
    path = f"/campaigns/{cid}/poster?channel=wechat&template={tid}&format=jpeg"
    employee = auth("pbench", "amy", "employee")
    first = client.http.get(path, headers=employee)
    assert first.status_code == 302, first.body

    calls: list[str] = []
    renders: list[str] = []
    original_call = BaseClient._make_api_call
    original_render = poster.render_poster

    def spy(self: Any, operation: str, params: Any) -> Any:
        if self.meta.service_model.service_name == "s3":
            calls.append(operation)
        return original_call(self, operation, params)

    def counting(*args: Any, **kwargs: Any) -> bytes:
        renders.append("render")
        rendered: bytes = original_render(*args, **kwargs)
        return rendered

    BaseClient._make_api_call = spy
    poster.render_poster = counting
    try:
        second = client.http.get(path, headers=employee)
    finally:
        BaseClient._make_api_call = original_call
        poster.render_poster = original_render
    return calls, renders, second.headers.get("X-Poster-Cache", "")


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    import boto3

    from bench.env import STACK
    from infra.buckets import create_buckets

    create_buckets(boto3.client("s3"), STACK)
    bucket = os.environ["RIPPLE_BUCKET"]
    boto3.client("s3").put_object(Bucket=bucket, Key="bench/background.jpg", Body=_background_jpeg())

    samples = max(10, sizes.redirects // 3)
    jpeg, png, size = _render(samples, bucket, "bench/background.jpg")
    p50, p95 = statistics.median(jpeg) * 1000, _pct(jpeg, 0.95) * 1000
    calls, renders, cache = _cached_hit()

    from bench.imports import median_import_times

    stmts = {"poster": "import poster; poster.font_path()", "app": "import app"}
    med = {
        k: v * 1000
        for k, v in median_import_times(stmts, sizes.import_runs, setup="sys.path.insert(0, 'functions')").items()
    }

    rows = [
        Row("9. poster render p50 (1080x1920 JPEG)", f"{p50:.1f} ms ({size // 1024} KB)", "<= 60 ms", p50 <= 60),
        Row("9. poster render p95", f"{p95:.1f} ms", "", None),
        Row("9. poster render p50 as PNG", f"{statistics.median(png) * 1000:.1f} ms", "", None),
        Row(
            "9. S3 calls per cached poster",
            f"{len(calls)} ({', '.join(calls) or '-'}), {len(renders)} renders, cache {cache}",
            "1 call, 0 renders",
            calls == ["HeadObject"] and not renders and cache == "hit",
        ),
        Row(
            "9. cold import poster fn vs app",
            f"{med['poster']:.0f} ms vs {med['app']:.0f} ms = {med['poster'] / med['app']:.1f}x",
            "",
            None,
        ),
    ]
    notes = [
        f"9: {samples} JPEG renders (every 4th also PNG), warm process, background decoded once; "
        f"imports: {sizes.import_runs} fresh interpreters each, interleaved; hit = second GET via the app over moto."
    ]
    return rows, notes
