"""Token requestor logos are real images: a valid 192x192 RGBA PNG and a well-formed SVG, via getAsset."""

import base64
import struct
import zlib
from xml.etree import ElementTree

import pytest

from sandbox.fixtures import FIXTURE_TOKEN_REQUESTORS
from sandbox.logos import encode_png, logo_png, logo_svg
from tests.fixtures.sandbox_server import ASSET_PATH, SandboxServer


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, kind
        chunks.append((kind, data))
        offset += 12 + length
    return chunks


def _decode(png: bytes) -> tuple[int, int, bytes]:
    chunks = _chunks(png)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour_type, interlace) == (8, 6, 0)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == height * (1 + width * 4)
    return width, height, raw


@pytest.mark.parametrize("token_requestor", FIXTURE_TOKEN_REQUESTORS, ids=lambda tr: tr.trid)
def test_each_fixture_logo_is_a_square_png_and_an_svg(token_requestor) -> None:
    width, height, raw = _decode(logo_png(token_requestor.logo))
    assert (width, height) == (192, 192)
    rows = [raw[row * 769 + 1 : (row + 1) * 769] for row in range(192)]
    pixels = [row[i : i + 4] for row in rows for i in range(0, 768, 4)]
    assert pixels[0] == b"\xff\xff\xff\xff"  # a white corner, as MDES logos have
    assert sum(pixel != b"\xff\xff\xff\xff" for pixel in pixels) > len(pixels) * 0.3  # and a visible mark

    svg = ElementTree.fromstring(logo_svg(token_requestor.logo, token_requestor.consumer_facing_name))  # noqa: S314 - our own SVG
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("viewBox") == "0 0 192 192"
    title = svg.find("{http://www.w3.org/2000/svg}title")
    assert title is not None
    assert title.text == token_requestor.consumer_facing_name


def test_encode_png_refuses_the_wrong_number_of_pixels() -> None:
    with pytest.raises(ValueError, match="exactly"):
        encode_png(2, 2, b"\x00" * 15)


def test_get_asset_serves_png_then_svg_with_string_dimensions(sandbox: SandboxServer) -> None:
    token_requestor = FIXTURE_TOKEN_REQUESTORS[0]
    response = sandbox.call("GET", ASSET_PATH + token_requestor.image_asset_id)
    assert response.status_code == 200
    contents = response.json()["mediaContents"]
    assert [content["type"] for content in contents] == ["image/png", "image/svg+xml"]
    assert contents[0]["width"] == contents[0]["height"] == "192"
    assert "width" not in contents[1]
    assert _decode(base64.b64decode(contents[0]["data"]))[:2] == (192, 192)
    assert base64.b64decode(contents[1]["data"]).startswith(b"<svg")
