"""D2 for the second factor: wrong authenticator codes at sign-in lock the account (PCI DSS 8.3.4).

Over the real allauth sign-in (password, then the code), for cardholders and staff alike: after 10 wrong codes
even the right one is refused for 30 minutes, from any address; 30 wrong codes from one client address lock
that address for every account, whatever X-Forwarded-For the client sends.
"""

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from tests import factories
from tests.https_client import HttpsClient
from tests.users.helpers import admitted, lock_by_wrong_codes, pass_second_factor, sign_in, wrong_code
from users.models import User

pytestmark = pytest.mark.django_db

ATTACKER, OWNER = "203.0.113.7", "198.51.100.20"


@pytest.fixture(params=["cardholder", "staff"])
def person(request: pytest.FixtureRequest, totp_secret: str) -> User:
    if request.param == "cardholder":
        user = factories.CardholderFactory.create().user
    else:
        user = factories.StaffUserFactory.create()
    TOTP.activate(user, totp_secret)
    return user


def _at(client: Client, address: str, forged: str, proxies: int) -> Client:
    """The next requests come from `address`, with an X-Forwarded-For entry the client made up."""
    if proxies:  # behind the trusted proxy, which appends the address it saw
        client.defaults.update(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"{forged}, {address}")
    else:
        client.defaults.update(REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=forged)
    return client


def test_ten_wrong_codes_lock_the_account_for_thirty_minutes_even_against_the_right_code(
    client: Client, person: User, totp_code: Callable[[int], str]
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        lock_by_wrong_codes(client, person, totp_code)
        refused = pass_second_factor(client, totp_code(0))
        assert refused.status_code == 429
        assert refused["Retry-After"] == "1800"
        assert "This account is locked for 30 more minutes" in refused.content.decode()
        assert not admitted(client, person)
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        # The sign-in's second step has timed out by now: the owner starts again, password first.
        page = sign_in(client, person.email)
        assert page.status_code == 429
        assert "This account is locked for 1 more minute." in page.content.decode()
        pass_second_factor(client, totp_code(0))
        assert not admitted(client, person)
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        sign_in(client, person.email)
        pass_second_factor(client, totp_code(0))
        assert admitted(client, person)
    assert AuditEvent.objects.filter(action="auth.second_factor_failed").count() == 10
    lockouts = AuditEvent.objects.filter(action="auth.second_factor_locked_out")
    assert [(event.object_id, event.after) for event in lockouts] == [(str(person.pk), {"locked": "account"})]
    assert AuditEvent.objects.filter(action="auth.second_factor_refused", outcome="failure").count() == 2


def test_the_account_stays_locked_from_every_address(person: User, totp_code: Callable[[int], str]) -> None:
    lock_by_wrong_codes(_at(HttpsClient(), ATTACKER, "192.0.2.1", 0), person, totp_code)

    owner = _at(HttpsClient(), OWNER, "", 0)
    assert sign_in(owner, person.email).status_code == 429
    pass_second_factor(owner, totp_code(0))
    assert not admitted(owner, person)


@pytest.mark.parametrize("proxies", [0, 1])
def test_thirty_wrong_codes_from_one_address_lock_that_address_for_every_account(
    settings, totp_secret: str, totp_code: Callable[[int], str], proxies: int
) -> None:
    settings.AXES_IPWARE_PROXY_COUNT = proxies or None
    people = factories.UserFactory.create_batch(5)
    for user in people:
        TOTP.activate(user, totp_secret)
    forged = iter(f"192.0.2.{n}" for n in range(100))

    # Nine wrong codes each for three accounts, three for a fourth: no account reaches its own limit.
    for user, wrong in zip(people[:4], (9, 9, 9, 3), strict=True):
        attacker = _at(HttpsClient(), ATTACKER, next(forged), proxies)
        sign_in(attacker, user.email)
        for _ in range(wrong):
            _at(attacker, ATTACKER, next(forged), proxies)
            assert pass_second_factor(attacker, wrong_code(totp_code)).status_code == 200

    refused = pass_second_factor(_at(attacker, ATTACKER, next(forged), proxies), totp_code(0))
    assert refused.status_code == 429
    assert "locked for 30 more minutes" in refused.content.decode()
    assert not admitted(attacker, people[3])
    untouched = _at(HttpsClient(), ATTACKER, next(forged), proxies)
    assert sign_in(untouched, people[4].email).status_code == 429
    pass_second_factor(untouched, totp_code(0))
    assert not admitted(untouched, people[4])

    # The accounts themselves are not locked: from another address their owners sign in.
    owner = _at(HttpsClient(), OWNER, next(forged), proxies)
    sign_in(owner, people[3].email)
    pass_second_factor(owner, totp_code(0))
    assert admitted(owner, people[3])
    lockouts = AuditEvent.objects.filter(action="auth.second_factor_locked_out")
    assert [event.after for event in lockouts] == [{"locked": "address"}]


def test_a_right_code_starts_the_count_of_the_account_again(
    client: Client, person: User, totp_code: Callable[[int], str]
) -> None:
    start = timezone.now()
    for period in range(2):  # the next code period: allauth admits each code only once
        with time_machine.travel(start + timedelta(seconds=30 * period), tick=False):
            sign_in(client, person.email)
            for _ in range(9):
                pass_second_factor(client, wrong_code(totp_code))
            pass_second_factor(client, totp_code(0))
            assert admitted(client, person)
            client.post(reverse("account_logout"))
    assert not AuditEvent.objects.filter(action="auth.second_factor_locked_out").exists()


def test_the_lock_page_speaks_the_browsers_language(client: Client, person: User, totp_code) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"
    lock_by_wrong_codes(client, person, totp_code)
    page = pass_second_factor(client, totp_code(0)).content.decode()
    assert "Konto gesperrt" in page
    assert "Dieses Konto ist noch 30 Minuten gesperrt." in page
