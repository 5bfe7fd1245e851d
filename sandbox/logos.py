"""Token requestor logos drawn here, as MDES serves them: square, white background, SVG and a 192x192 PNG.

The PNG writer is the smallest valid encoder (RGBA, 8 bits, one IDAT, no interlace) so that nothing has to be
downloaded or installed to produce real images.
"""

import struct
import zlib
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape

PNG_SIZE = 192
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_WHITE = (255, 255, 255, 255)


@dataclass(frozen=True)
class LogoStyle:
    initials: str
    colour: str  # "#rrggbb"
    shape: str  # "circle", "square" or "diamond"


def encode_png(width: int, height: int, rgba: bytes) -> bytes:
    """A PNG file for `rgba` (width * height * 4 bytes, rows top to bottom)."""
    if len(rgba) != width * height * 4:
        raise ValueError("rgba must hold exactly width * height RGBA pixels")
    stride = width * 4
    # Each scanline starts with its filter type; 0 (None) keeps the encoder trivial.
    raw = b"".join(b"\x00" + rgba[row * stride : (row + 1) * stride] for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _inside(shape: str, x: float, y: float, radius: float) -> bool:
    if shape == "circle":
        return x * x + y * y <= radius * radius
    if shape == "diamond":
        return abs(x) + abs(y) <= radius * 1.25
    return abs(x) <= radius and abs(y) <= radius


@cache
def logo_png(style: LogoStyle, size: int = PNG_SIZE) -> bytes:
    """The mark (shape in the brand colour with a white band) on a white square."""
    red, green, blue = _rgb(style.colour)
    centre = (size - 1) / 2
    outer = size * 0.42
    pixels = bytearray()
    for row in range(size):
        y = row - centre
        for column in range(size):
            x = column - centre
            if _inside(style.shape, x, y, outer) and not abs(y) < size * 0.05:
                pixels += bytes((red, green, blue, 255))
            else:
                pixels += bytes(_WHITE)
    return encode_png(size, size, bytes(pixels))


@cache
def logo_svg(style: LogoStyle, title: str) -> bytes:
    """The same mark as SVG, with the initials and an accessible title."""
    half = PNG_SIZE / 2
    outer = PNG_SIZE * 0.42
    if style.shape == "circle":
        mark = f'<circle cx="{half:g}" cy="{half:g}" r="{outer:g}" fill="{style.colour}"/>'
    elif style.shape == "diamond":
        reach = outer * 1.25
        points = (
            f"{half:g},{half - reach:g} {half + reach:g},{half:g} {half:g},{half + reach:g} {half - reach:g},{half:g}"
        )
        mark = f'<polygon points="{points}" fill="{style.colour}"/>'
    else:
        corner = half - outer
        mark = (
            f'<rect x="{corner:g}" y="{corner:g}" width="{2 * outer:g}" height="{2 * outer:g}" rx="24" '
            f'fill="{style.colour}"/>'
        )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 192 192" width="192" height="192" role="img" '
        'aria-labelledby="logo-title">'
        f'<title id="logo-title">{escape(title)}</title>'
        '<rect width="192" height="192" fill="#ffffff"/>'
        f"{mark}"
        f'<text x="{half:g}" y="{half:g}" text-anchor="middle" dominant-baseline="central" '
        'font-family="Helvetica, Arial, sans-serif" font-size="56" font-weight="700" fill="#ffffff">'
        f"{escape(style.initials)}</text>"
        "</svg>"
    )
    return svg.encode()
