"""The portal's own pages for requests it refuses, and uploaded media served only as sandboxed raster images."""

import json
from pathlib import PurePosixPath
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from hypothesis import given, settings
from hypothesis import strategies as st

from core.json_limits import json_nesting_exceeds
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


# --- The CSP report sink takes browsers' reports and nothing else ---------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


def _report(body: bytes) -> Any:
    return HttpsClient().generic("POST", "/csp-report/", body, content_type="application/csp-report")


@settings(max_examples=60)
@given(document=json_values | st.builds(lambda value: {"csp-report": value}, json_values))
def test_any_json_but_a_report_object_is_a_400(document: Any) -> None:
    is_report = isinstance(document, dict) and isinstance(document.get("csp-report"), dict)
    expected = 204 if is_report and not json_nesting_exceeds(json.dumps(document), 4) else 400
    assert _report(json.dumps(document).encode()).status_code == expected


@pytest.mark.parametrize("body", [b"[" * 8000 + b"]" * 8000, b'{"csp-report": {"a": ' + b"[" * 3 + b"]" * 3 + b"}}"])
def test_a_report_nested_deeper_than_a_report_is_a_400(body: bytes) -> None:
    assert _report(body).status_code == 400


def test_a_report_larger_than_any_browser_sends_is_a_413() -> None:
    body = json.dumps({"csp-report": {"blocked-uri": "x" * 20_000}}).encode()
    assert _report(body).status_code == 413


def test_a_browsers_report_is_taken() -> None:
    report = {"csp-report": {"blocked-uri": "inline", "violated-directive": "script-src", "document-uri": "/"}}
    assert _report(json.dumps(report).encode()).status_code == 204
