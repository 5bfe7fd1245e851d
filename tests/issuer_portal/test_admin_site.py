"""D1: the staff area needs a second factor on every URL; a password alone never opens it."""

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from issuer_portal.admin_site import StaffAdminSite
from tests.users.helpers import pass_second_factor, sign_in
from users.models import User

pytestmark = pytest.mark.django_db


def _admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
    return urls


def test_every_model_admin_lives_on_the_second_factor_site() -> None:
    assert isinstance(admin.site, StaffAdminSite)
    assert len(_admin_urls()) > 5


def test_password_only_staff_session_is_turned_away_from_every_admin_url(
    client: Client, staff_user_with_totp: User
) -> None:
    """Signed in by password (the second step skipped), the session reaches no admin page."""
    client.force_login(staff_user_with_totp)
    for url in _admin_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_staff_without_an_authenticator_is_sent_to_set_one_up(client: Client, staff_user: User) -> None:
    sign_in(client, staff_user.email)
    response = client.get(reverse("admin:index"), follow=True)
    hops = [url for url, _ in response.redirect_chain]
    assert hops[1].startswith(reverse("mfa_activate_totp"))  # allauth then asks for the password once more
    assert b"requires a second factor" in response.content


def test_admin_login_form_is_never_a_password_form(client: Client) -> None:
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.post(reverse("admin:login"), {"username": "x", "password": "y"}).status_code == 302


def test_sign_in_with_password_and_totp_opens_every_admin_url(
    client: Client, staff_user_with_totp: User, totp_code: Callable[[int], str]
) -> None:
    response = sign_in(client, staff_user_with_totp.email)
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("admin:index")).status_code == 302  # password alone: not yet

    pass_second_factor(client, totp_code(0))
    for url in _admin_urls():
        assert client.get(url).status_code == 200, url


def test_wrong_totp_code_keeps_the_admin_closed(client: Client, staff_user_with_totp: User) -> None:
    sign_in(client, staff_user_with_totp.email)
    pass_second_factor(client, "000000")
    assert client.get(reverse("admin:index")).status_code == 302
    assert AuditEvent.objects.filter(action="auth.second_factor_failed", outcome="failure").exists()


def test_cardholder_accounts_cannot_enter_the_staff_area(client: Client, cardholder, totp_secret: str) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(cardholder.user, totp_secret)
    client.force_login(cardholder.user)
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.parametrize(
    "next_url",
    ["//evil.example/", "/\\evil.example/", "/\t/evil.example/", "https://evil.example/", "javascript:alert(1)"],
)
def test_the_staff_sign_in_sends_nobody_off_site(client: Client, next_url: str) -> None:
    """The staff sign-in passes `next` on only when it is one of the portal's own paths (the portal's one check)."""
    response = client.get(reverse("admin:login"), {"next": next_url})
    assert response.status_code == 302
    passed_on = parse_qs(urlsplit(response["Location"]).query)["next"]
    assert passed_on == [reverse("admin:index")]
