"""QR codes of links to open on a phone (continuing a push there, a minted landing link)."""

import base64
import io

import qrcode  # type: ignore[import-untyped]
import qrcode.image.svg  # type: ignore[import-untyped]


def qr_svg_data_uri(url: str) -> str:
    """The URL as an SVG QR code in a data: URI, for an <img> (nothing is inserted into the page unescaped)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
