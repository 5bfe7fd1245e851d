"""Staff lift a second-factor lockout before its 30 minutes end (Users admin: "Unlock second-factor sign-in")."""

from collections.abc import Callable

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

from audit.models import AuditEvent
from tests import factories
from tests.https_client import HttpsClient
from tests.issuer_portal.helpers import staff_client
from tests.users.helpers import admitted, lock_by_wrong_codes, pass_second_factor, sign_in
from users.models import User

pytestmark = pytest.mark.django_db


def _unlock(staff: User, *people: User) -> str:
    response = staff_client(staff).post(
        reverse("admin:users_user_changelist"),
        {"action": "unlock_second_factor", "_selected_action": [person.pk for person in people]},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def test_staff_unlock_a_locked_account_at_once(
    staff_user: User, totp_secret: str, totp_code: Callable[[int], str]
) -> None:
    person = factories.CardholderFactory.create().user
    TOTP.activate(person, totp_secret)
    lock_by_wrong_codes(HttpsClient(), person, totp_code)

    assert f"Unlocked: {person.email}." in _unlock(staff_user, person)

    client = HttpsClient()
    sign_in(client, person.email)
    pass_second_factor(client, totp_code(0))
    assert admitted(client, person)
    unlocked = AuditEvent.objects.get(action="auth.second_factor_unlocked")
    assert (unlocked.actor, unlocked.object_id, unlocked.before) == (staff_user, str(person.pk), {"locked": True})


def test_unlocking_an_account_that_is_not_locked_says_so(staff_user: User) -> None:
    person = factories.UserFactory.create()
    assert "None of these accounts was locked." in _unlock(staff_user, person)
    assert AuditEvent.objects.filter(action="auth.second_factor_unlocked", before={"locked": False}).exists()
