"""Files for the upload tests: real raster images, and what an attacker uploads as "card art"."""

import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from PIL.PngImagePlugin import PngInfo

SCRIPT = b"<script>alert(document.domain)</script>"


def raster(
    image_format: str = "PNG", size: tuple[int, int] = (64, 40), *, noise: bool = False, **save: object
) -> bytes:
    """A real image; with `noise`, one that does not compress (for the byte limit)."""
    image = Image.new("RGB", size, (11, 92, 173))
    if noise:
        rng = random.Random(7)
        image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(size[0] * size[1])])
    out = io.BytesIO()
    image.save(out, format=image_format, **save)
    return out.getvalue()


def png_with_script_in_metadata() -> bytes:
    info = PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    return raster("PNG", pnginfo=info)


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = SCRIPT.decode()  # ImageDescription
    exif[0x8825] = {2: (52.0, 31.0, 12.0)}  # GPSLatitude
    return raster("JPEG", exif=exif.tobytes())


# name, content type the browser declares, content: none of them is a PNG, JPEG or WebP by content.
REFUSED: dict[str, tuple[str, str, bytes]] = {
    "html": ("evil.html", "text/html", b"<!doctype html><html><body>" + SCRIPT + b"</body></html>"),
    "svg": (
        "evil.svg",
        "image/svg+xml",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>',
    ),
    "js": ("evil.js", "text/javascript", b"alert(document.domain)"),
    "html named .png": ("art.png", "image/png", b"<html>" + SCRIPT + b"</html>"),
    "PNG signature, then HTML": ("art.png", "image/png", b"\x89PNG\r\n\x1a\n<html>" + SCRIPT),
    "truncated PNG": ("art.png", "image/png", raster("PNG")[:60]),
    # A GIF whose header is also JavaScript (GIF89a=…): a real image, but not of a format taken.
    "GIF/JavaScript polyglot": ("art.gif", "image/gif", raster("GIF")[:6] + b"=1;alert(document.domain);/*"),
    "real GIF": ("art.gif", "image/gif", raster("GIF")),
    "real BMP": ("art.bmp", "image/bmp", raster("BMP")),
    "real TIFF": ("art.tiff", "image/tiff", raster("TIFF")),
}


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def refused(case: str) -> SimpleUploadedFile:
    name, content_type, content = REFUSED[case]
    return upload(name, content, content_type)
