"""Signing in through the real allauth views, as a browser would."""

from typing import Any

from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD


def sign_in(client: Client, email: str, password: str = TEST_PASSWORD) -> Any:
    return client.post(reverse("account_login"), {"login": email, "password": password})


def pass_second_factor(client: Client, code: str) -> Any:
    return client.post(reverse("mfa_authenticate"), {"code": code})
