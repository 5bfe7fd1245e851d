"""D2-D5: lockout, idle and absolute timeouts, session renewal and termination, password policy."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import TEST_PASSWORD, UserFactory
from tests.https_client import HttpsClient
from tests.users.helpers import sign_in
from users.models import User

pytestmark = pytest.mark.django_db


def _is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def person() -> User:
    return UserFactory.create()


def test_ten_failures_lock_the_account_for_thirty_minutes_even_with_the_right_password(
    client: Client, person: User
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(10):
            sign_in(client, person.email, "wrong password 123")
        response = sign_in(client, person.email)
        assert not _is_signed_in(client)
        assert response.status_code == 429
        assert "paused for 30 minutes" in response.content.decode()
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        sign_in(client, person.email)
        assert not _is_signed_in(client)
    with time_machine.travel(start + timedelta(minutes=30, seconds=1), tick=False):
        sign_in(client, person.email)
        assert _is_signed_in(client)
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() >= 10
    assert AuditEvent.objects.filter(action="auth.locked_out").exists()


def test_idle_session_ends_after_fifteen_minutes(client: Client, person: User) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, person.email)
    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert client.get(reverse("home")).context["user"].is_authenticated
    # The previous request slid the window: 14:59 of idleness again is still fine...
    with time_machine.travel(start + timedelta(minutes=29, seconds=50), tick=False):
        assert client.get(reverse("home")).context["user"].is_authenticated
    # ...but 15:01 without a request is not.
    with time_machine.travel(start + timedelta(minutes=44, seconds=52), tick=False):
        assert not client.get(reverse("home")).context["user"].is_authenticated


def test_active_session_still_ends_at_the_absolute_limit(client: Client, person: User, settings) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, person.email)
    moment = start
    while moment < start + timedelta(seconds=settings.PORTAL_SESSION_ABSOLUTE_SECONDS - 600):
        moment += timedelta(minutes=10)
        with time_machine.travel(moment, tick=False):
            assert client.get(reverse("home")).context["user"].is_authenticated
    with time_machine.travel(start + timedelta(seconds=settings.PORTAL_SESSION_ABSOLUTE_SECONDS + 60), tick=False):
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"] == reverse("account_login")
        assert not _is_signed_in(client)


def test_sign_in_issues_a_new_session_key(client: Client, person: User) -> None:
    client.get(reverse("account_login"))
    client.session.save()
    before = client.session.session_key
    sign_in(client, person.email)
    assert _is_signed_in(client)
    assert client.session.session_key != before


def test_after_sign_out_the_old_session_cookie_is_worthless(client: Client, person: User, settings) -> None:
    sign_in(client, person.email)
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("account_logout"))
    thief = HttpsClient()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert not thief.get(reverse("home")).context["user"].is_authenticated


def test_deactivating_a_user_ends_their_sessions(client: Client, person: User) -> None:
    sign_in(client, person.email)
    person.is_active = False
    person.save()
    assert not client.get(reverse("home")).context["user"].is_authenticated


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("short-pass1", False),  # 11 characters
        ("password1234", False),  # common
        ("plain lowercase words", True),  # no composition rules
        ("x" * 20 + " a long passphrase that goes on " * 3, True),  # 64+ characters accepted
    ],
)
def test_password_policy(password: str, accepted: bool) -> None:
    try:
        validate_password(password)
    except ValidationError:
        assert not accepted
    else:
        assert accepted


def test_signup_is_closed_to_the_public(client: Client) -> None:
    response = client.post(
        reverse("account_signup"), {"email": "new@example.test", "password1": TEST_PASSWORD, "password2": TEST_PASSWORD}
    )
    assert not User.objects.filter(email="new@example.test").exists()
    assert response.status_code == 200
    assert "closed" in response.content.decode().lower()
