"""PosterFunction: decodes uploaded materials and renders personal posters.

The only code that imports Pillow, qrcode and the CJK font (all in the PosterLayer), so the
redirect's Lambda never loads them. The API invokes it (``ripple.adapters.posters``) with:

* ``{"op": "ingest", "bucket", "source_key", "target_prefix"}``: decode the staged upload
  (JPEG, PNG or WebP, by content, never by name), refuse decompression bombs, apply and drop
  the EXIF orientation, re-encode without metadata to ``<target_prefix>.<ext>``.
  -> ``{"ok": true, "key", "content_type", "width", "height", "size"}`` or ``{"ok": false, "reason"}``
* ``{"op": "render", "bucket", "key", "template", "background_key", "texts", "qr_data", "format"}``:
  compose the template (background cover-fitted, text boxes shrunk to fit and wrapped, a QR
  code of the short link), encode, put at ``key``. -> ``{"ok": true, "key", "size"}``

Fonts: Noto Sans CJK (the full OTF: Japanese, simplified and traditional Chinese, Korean and
Latin in one file) from the ``noto-cjk-sans-jp-regular`` package, which ``sam build`` installs
into the layer from PyPI; ``RIPPLE_POSTER_FONT`` overrides the path.
"""

from __future__ import annotations

import functools
import io
import os
import warnings
from collections import OrderedDict
from typing import Any

import qrcode
from PIL import Image, ImageDraw, ImageFont, ImageOps
from qrcode.constants import ERROR_CORRECT_Q

from ripple.domain.posters import FORMATS, Fit, TextBox, fit_text

__all__ = ["MAX_PIXELS", "font_path", "handler", "ingest", "missing_glyphs", "render_poster"]

MAX_PIXELS = 40_000_000  # 40 MP: larger images are refused as possible decompression bombs
MAX_SIDE = 12_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Image.open raises beyond 2x, we refuse beyond 1x
_FORMATS = {
    "JPEG": ("jpeg", "image/jpeg", "jpg"),
    "PNG": ("png", "image/png", "png"),
    "WEBP": ("webp", "image/webp", "webp"),
}
_BACKGROUNDS: OrderedDict[tuple[str, int, int], Image.Image] = OrderedDict()


@functools.cache
def font_path() -> str:
    override = os.environ.get("RIPPLE_POSTER_FONT")
    if override:
        return override
    import noto_cjk_sans_jp_regular

    return str(noto_cjk_sans_jp_regular.FONT_PATH)


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(), size)


@functools.cache
def _notdef_mask() -> bytes:
    """The bitmap of the font's .notdef glyph (what a missing character renders as)."""
    return bytes(_font(48).getmask("\U0010fffd"))


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` the font has no glyph for (they would render as tofu)."""
    notdef = _notdef_mask()
    return sorted({ch for ch in text if not ch.isspace() and bytes(_font(48).getmask(ch)) == notdef})


@functools.cache
def _s3() -> Any:
    import boto3

    return boto3.client("s3")


# ------------------------------------------------------------------ ingest


def ingest(data: bytes) -> tuple[bytes, str, str, int, int] | str:
    """``(bytes, ext, content_type, width, height)`` of the cleaned image, or the reason it is refused."""
    from PIL import UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            if im.format not in _FORMATS:
                return f"unsupported image format {im.format}"
            width, height = im.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                return f"image too large: {width}x{height} pixels (at most {MAX_PIXELS // 1_000_000} MP)"
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "image too large (decompression bomb)"
    except UnidentifiedImageError:
        return "not an image (JPEG, PNG or WebP expected)"
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        return f"corrupt image: {exc}"
    ext, ctype, suffix = _FORMATS[str(im.format)]
    icc = im.info.get("icc_profile")
    clean = ImageOps.exif_transpose(im)  # keep the intended orientation, then drop EXIF
    if ext == "jpeg" and clean.mode not in ("RGB", "L", "CMYK"):
        clean = clean.convert("RGB")
    out = io.BytesIO()
    kwargs: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if ext == "jpeg":
        clean.save(out, "JPEG", quality=92, **kwargs)
    elif ext == "png":
        clean.save(out, "PNG", **kwargs)
    else:
        clean.save(out, "WEBP", quality=90, **kwargs)
    return out.getvalue(), suffix, ctype, clean.width, clean.height


# ------------------------------------------------------------------ render


def _background(bucket: str | None, key: str | None, size: tuple[int, int], color: str) -> Image.Image:
    if not key or not bucket:
        return Image.new("RGB", size, color)
    cache_key = (f"{bucket}/{key}", *size)
    cached = _BACKGROUNDS.get(cache_key)
    if cached is None:
        raw = _s3().get_object(Bucket=bucket, Key=key)["Body"].read()
        with Image.open(io.BytesIO(raw)) as src:
            src.draft("RGB", size)  # JPEG: decode at a reduced scale when it is much larger
            cached = ImageOps.fit(src.convert("RGB"), size, Image.Resampling.BILINEAR)
        _BACKGROUNDS[cache_key] = cached
        while len(_BACKGROUNDS) > 8:
            _BACKGROUNDS.popitem(last=False)
    else:
        _BACKGROUNDS.move_to_end(cache_key)
    return cached.copy()


def _measure(text: str, size: int) -> float:
    return float(_font(size).getlength(text))


def layout_box(box: TextBox, text: str) -> Fit:
    return fit_text(text, box.width, box.height, box.font_size, _measure)


def _draw_text(draw: ImageDraw.ImageDraw, box: TextBox, text: str) -> Fit:
    fit = layout_box(box, text)
    font = _font(fit.size)
    ascent, descent = font.getmetrics()
    block = (len(fit.lines) - 1) * fit.line_height + ascent + descent
    y = box.y + max(0, (box.height - block) // 2)
    for line in fit.lines:
        width = font.getlength(line)
        if box.align == "center":
            x = box.x + (box.width - width) / 2
        elif box.align == "right":
            x = box.x + box.width - width
        else:
            x = box.x
        draw.text((x, y), line, font=font, fill=box.color)
        y += fit.line_height
    return fit


def qr_image(data: str, size: int) -> Image.Image:
    """A QR code (error correction Q, 4-module quiet zone) as crisp square modules, centred
    on a white ``size`` x ``size`` tile."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    modules = Image.frombytes("L", (n, n), bytes(0 if cell else 255 for row in matrix for cell in row))
    scale = max(1, size // n)
    code = modules.resize((n * scale, n * scale), Image.Resampling.NEAREST)
    tile = Image.new("L", (size, size), 255)
    offset = (size - n * scale) // 2
    tile.paste(code, (offset, offset))
    return tile.convert("RGB")


def render_poster(
    template: dict[str, Any],
    texts: dict[str, str],
    qr_data: str,
    fmt: str,
    *,
    bucket: str | None = None,
    background_key: str | None = None,
) -> bytes:
    """Compose and encode one poster (the benchmarked unit)."""
    size = (int(template["canvas"]["width"]), int(template["canvas"]["height"]))
    canvas = _background(bucket, background_key, size, template.get("background_color", "#FFFFFF"))
    draw = ImageDraw.Draw(canvas)
    for raw in template["text_boxes"]:
        box = TextBox(**raw)
        text = box.text if box.binding == "custom" else texts.get(box.binding, "")
        if text.strip():
            _draw_text(draw, box, text)
    qr = template["qr"]
    canvas.paste(qr_image(qr_data, int(qr["size"])), (int(qr["x"]), int(qr["y"])))
    out = io.BytesIO()
    if fmt == "jpeg":
        canvas.save(out, "JPEG", quality=88)
    else:
        canvas.save(out, "PNG", compress_level=1)
    return out.getvalue()


# ------------------------------------------------------------------ entry point


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    op = event.get("op")
    bucket = str(event["bucket"])
    if op == "ingest":
        data = _s3().get_object(Bucket=bucket, Key=event["source_key"])["Body"].read()
        result = ingest(data)
        if isinstance(result, str):
            return {"ok": False, "reason": result}
        body, suffix, ctype, width, height = result
        key = f"{event['target_prefix']}.{suffix}"
        _s3().put_object(Bucket=bucket, Key=key, Body=body, ContentType=ctype)
        return {"ok": True, "key": key, "content_type": ctype, "width": width, "height": height, "size": len(body)}
    if op == "render":
        fmt = str(event["format"])
        body = render_poster(
            event["template"],
            dict(event.get("texts") or {}),
            str(event["qr_data"]),
            fmt,
            bucket=bucket,
            background_key=event.get("background_key"),
        )
        _s3().put_object(
            Bucket=bucket,
            Key=event["key"],
            Body=body,
            ContentType=FORMATS[fmt],
            CacheControl="private, max-age=86400",
        )
        return {"ok": True, "key": event["key"], "size": len(body)}
    raise ValueError(f"unknown op {op!r}")
