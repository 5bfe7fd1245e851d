"""Signing in through the real allauth views, as a browser would."""

from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD
from users.models import User


def sign_in(client: Client, email: str, password: str = TEST_PASSWORD) -> Any:
    return client.post(reverse("account_login"), {"login": email, "password": password})


def pass_second_factor(client: Client, code: str) -> Any:
    return client.post(reverse("mfa_authenticate"), {"code": code})


def wrong_code(totp_code: Callable[[int], str]) -> str:
    """A code that is valid in none of the periods around now."""
    valid = {totp_code(-1), totp_code(0), totp_code(1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def lock_by_wrong_codes(client: Client, user: User, totp_code: Callable[[int], str]) -> None:
    """The right password, then 10 wrong codes: the second-factor lockout's limit."""
    sign_in(client, user.email)
    for _ in range(10):
        assert pass_second_factor(client, wrong_code(totp_code)).status_code == 200


def admitted(client: Client, user: User) -> bool:
    """Signed in; staff also reach the staff area."""
    if "_auth_user_id" not in client.session:
        return False
    return not user.is_staff or client.get(reverse("admin:index")).status_code == 200
