"""Requests no page or endpoint takes are refused before anything reads them (core.middleware.RequestLimitsMiddleware):
a 400 or 413 with a clear answer, a problem under /api/, in production and in the demo (DEBUG on) alike."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.https_client import HttpsClient
from tests.issuer_portal.helpers import staff_client
from users.models import User

pytestmark = pytest.mark.django_db

ADDRESSES = ["/", "/accounts/login/", "/admin/provisioning/pushrequest/", "/api/v1/me/cards/", "/csp-report/"]


@pytest.fixture(params=[False, True], ids=["production", "demo"])
def debug(request: pytest.FixtureRequest, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


def _refused(response: Any, path: str, status: int, code: str) -> None:
    assert response.status_code == status
    if path.startswith("/api/"):
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == code
    else:
        assert "We could not read that request" in response.content.decode()


@pytest.mark.parametrize("path", ADDRESSES)
def test_more_query_parameters_than_django_reads_are_a_400(path: str, debug: bool) -> None:
    query = "&".join(f"p{i}=1" for i in range(1001))
    _refused(HttpsClient(raise_request_exception=False).get(f"{path}?{query}"), path, 400, "too_many_parameters")


def test_as_many_query_parameters_as_django_reads_pass(debug: bool) -> None:
    query = "&".join(f"p{i}=1" for i in range(1000))
    assert HttpsClient().get(f"/accounts/login/?{query}").status_code == 200


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["state", "q", "channel__exact", "o"]),
    before=st.text(max_size=5),
    after=st.text(max_size=5),
    in_key=st.booleans(),
)
def test_a_nul_anywhere_in_an_admin_filter_is_a_400_on_every_database(
    staff_user_with_totp: User, name: str, before: str, after: str, in_key: bool
) -> None:
    """PostgreSQL refuses NUL in text: the filter never reaches the query."""
    client = staff_client(staff_user_with_totp)
    parameter = {f"{name}{before}\x00{after}": "1"} if in_key else {name: f"{before}\x00{after}"}
    response = client.get("/admin/provisioning/pushrequest/", parameter)
    assert response.status_code == 400


@pytest.mark.parametrize("path", ADDRESSES)
def test_a_nul_in_the_path_is_a_400(path: str) -> None:
    _refused(HttpsClient().get(f"{path}%00/"), path + "%00/", 400, "invalid_characters")


@pytest.mark.parametrize("path", ADDRESSES)
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_over_the_limit_is_a_413_before_it_is_read(path: str, content_type: str, debug: bool) -> None:
    body = b"x" * (256 * 1024 + 1)
    response = HttpsClient(raise_request_exception=False).generic("POST", path, body, content_type=content_type)
    _refused(response, path, 413, "request_too_large")


def test_the_refusal_carries_the_portals_headers() -> None:
    response = HttpsClient().get("/?q=%00")
    assert response.status_code == 400
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["X-Request-ID"]
