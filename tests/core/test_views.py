"""The portal's own pages for requests it refuses."""

from typing import Any

import pytest

from tests.https_client import HttpsClient


@pytest.mark.django_db
def test_a_refused_form_gets_a_clear_page_in_the_portals_styles(cardholder: Any) -> None:
    client = HttpsClient(enforce_csrf_checks=True)
    client.force_login(cardholder.user)
    response = client.post("/push/", {"card": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Please try that again" in page
    assert "<style" not in page  # nothing the CSP would block
