"""The portal's own pages for requests it refuses, and uploaded media served only as sandboxed raster images."""

from pathlib import PurePosixPath
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.https_client import HttpsClient
from tests.images import REFUSED, raster


@pytest.mark.django_db
def test_a_refused_form_gets_a_clear_page_in_the_portals_styles(cardholder: Any) -> None:
    client = HttpsClient(enforce_csrf_checks=True)
    client.force_login(cardholder.user)
    response = client.post("/push/", {"card": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Please try that again" in page
    assert "<style" not in page  # nothing the CSP would block


MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@pytest.mark.parametrize(
    ("image_format", "content_type", "extension"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp")],
)
def test_media_is_served_as_the_raster_image_its_content_is_and_sandboxed(
    image_format: str, content_type: str, extension: str
) -> None:
    # Stored under a misleading name (as files from before re-encoding may be): the content decides.
    name = default_storage.save(f"landing-art/old-{extension}.html", ContentFile(raster(image_format)))
    response = HttpsClient().get(f"/media/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'inline; filename="{PurePosixPath(name).stem}.{extension}"'
    for header, value in MEDIA_HEADERS.items():
        assert response[header] == value, header
    assert response.getvalue() == raster(image_format)


# A damaged PNG is still a PNG by its header: served as one, sandboxed; uploads are checked in full.
@pytest.mark.parametrize("case", [case for case in REFUSED if case != "truncated PNG"])
def test_stored_media_that_is_not_an_accepted_raster_image_is_never_served(case: str, caplog: Any) -> None:
    name, _, content = REFUSED[case]
    stored = default_storage.save(f"landing-art/{name}", ContentFile(content))
    response = HttpsClient().get(f"/media/{stored}")
    assert response.status_code == 404
    assert content not in response.content
    assert "Media file refused" in caplog.text


@pytest.mark.parametrize("path", ["/media/landing-art/missing.png", "/media/../config/settings/base.py"])
def test_media_outside_storage_or_missing_is_not_found(path: str) -> None:
    assert HttpsClient().get(path).status_code == 404
