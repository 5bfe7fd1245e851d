"""C2, B3 and C4: every response carries the hardening headers; cookies are locked to this origin."""

import json
import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.https_client import HttpsClient
from tests.users.helpers import sign_in
from users.models import User

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/password/reset/",
    "/admin/",
    "/no-such-page/",
    "/healthz",
    "/card/00000000-0000-0000-0000-000000000000/",
]


@pytest.mark.parametrize("path", PAGES)
def test_hardening_headers_on_every_response(client: Client, path: str) -> None:
    response = client.get(path)
    hsts = response["Strict-Transport-Security"]
    max_age = re.search(r"max-age=(\d+)", hsts)
    assert max_age
    assert int(max_age.group(1)) >= 31_536_000
    assert "includeSubDomains" in hsts
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in response["Permissions-Policy"]
    assert "no-store" in response["Cache-Control"]


def _csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", ["/", "/accounts/login/"])
def test_content_security_policy_is_strict(client: Client, path: str) -> None:
    csp = _csp(client.get(path))
    assert csp["default-src"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert "report-uri" in csp
    for directive in ("script-src", "style-src"):
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "https:", "http:"} & set(csp[directive])


def test_plain_http_is_redirected_to_https(db: None) -> None:
    response = Client().get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_session_and_csrf_cookies_are_host_prefixed_secure_and_same_site(client: Client, cardholder) -> None:
    client.get(reverse("account_login"))
    sign_in(client, cardholder.user.email)
    for name in ("__Host-sessionid", "__Host-csrftoken"):
        cookie = client.cookies[name]
        assert cookie["secure"] is True, name
        assert cookie["path"] == "/", name
        assert not cookie["domain"], name
        assert cookie["samesite"] in {"Lax", "Strict"}, name
    assert client.cookies["__Host-sessionid"]["httponly"] is True


def test_health_probe_answers(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_csp_reports_are_accepted_without_csrf_and_logged(client: Client, caplog) -> None:
    report = {"csp-report": {"blocked-uri": "https://evil.example/x.js", "violated-directive": "script-src"}}
    response = client.post("/csp-report/", json.dumps(report), content_type="application/csp-report")
    assert response.status_code == 204
    assert "CSP violation" in caplog.text


def test_staff_user_model_is_email_based(staff_user: User) -> None:
    assert staff_user.USERNAME_FIELD == "email"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/css/portal.css", "text/css"),
        ("/static/js/session-timeout.js", "text/javascript"),
        ("/static/img/favicon.svg", "image/svg+xml"),
    ],
)
def test_static_files_from_whitenoise_carry_nosniff_corp_and_a_sandboxing_policy(path: str, content_type: str) -> None:
    # Whitenoise answers before the portal's middleware; finders let it serve without collectstatic.
    with override_settings(WHITENOISE_USE_FINDERS=True):
        response = HttpsClient().get(path)
    assert response.status_code == 200
    assert response.__class__.__module__.startswith("whitenoise")
    assert response["Content-Type"].startswith(content_type)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
