"""QR codes drawn as SVG, for the API function (no Pillow there: qrcode's SVG path image is
pure Python). Imported by the routes that need one only; the redirect never loads qrcode."""

from __future__ import annotations

import base64

__all__ = ["svg_data_url"]


def svg_data_url(text: str) -> str:
    """``data:image/svg+xml;base64,...`` of a QR code of ``text`` (error correction M, a quiet
    zone of four modules as ISO/IEC 18004 asks): an ``<img src>`` the pages' CSP allows."""
    import qrcode
    import qrcode.constants
    import qrcode.image.svg

    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(text)
    code.make(fit=True)
    svg = code.make_image().to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
