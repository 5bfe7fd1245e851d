"""Step-up: codes by e-mail or SMS, TOTP, limits, and errors tied to the field they are about (K4)."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from cardholders.models import Cardholder
from tests.https_client import HttpsClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(cardholder: Cardholder) -> Client:
    client = HttpsClient()
    client.force_login(cardholder.user)
    return client


def test_a_wrong_code_is_explained_beside_the_field(signed_in: Client) -> None:
    signed_in.post(reverse("step_up"), {"action": "send", "channel": "email", "next": "/"})
    assert len(mail.outbox) == 1
    response = signed_in.post(reverse("step_up"), {"action": "verify_code", "code": "00000000", "next": "/"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="sent-code-error"' in page
    assert 'aria-describedby="sent-code-error"' in page
    assert 'aria-invalid="true"' in page
    assert "That code is not right" in page


def test_codes_are_paste_friendly_one_time_codes(signed_in: Client) -> None:
    signed_in.post(reverse("step_up"), {"action": "send", "channel": "email", "next": "/"})
    page = signed_in.get(reverse("step_up")).content.decode()
    assert 'autocomplete="one-time-code"' in page
    assert "onpaste" not in page


def test_guessing_hits_the_limit(signed_in: Client) -> None:
    signed_in.post(reverse("step_up"), {"action": "send", "channel": "email", "next": "/"})
    statuses = [
        signed_in.post(reverse("step_up"), {"action": "verify_code", "code": f"{n:08d}", "next": "/"}).status_code
        for n in range(11)
    ]
    assert statuses[-1] == 429
    assert set(statuses[:-1]) == {400}


def test_asking_for_many_codes_hits_the_limit(signed_in: Client) -> None:
    statuses = [
        signed_in.post(reverse("step_up"), {"action": "send", "channel": "email", "next": "/"}).status_code
        for _ in range(4)
    ]
    assert statuses[:3] == [302, 302, 302]
    assert statuses[3] == 429
    assert len(mail.outbox) == 3


@pytest.mark.django_db(transaction=True)
def test_sixteen_cardholders_confirming_at_once_all_get_through() -> None:
    """Each request in its own thread, with its own database connection, as under a threaded or multi-process
    server: on SQLite, a read-then-write transaction used to fail with "database is locked"."""
    import re
    import threading

    from django.db import connection

    from tests.factories import CardholderFactory

    clients, codes = [], []
    for number in range(16):
        holder = CardholderFactory.create()
        client = HttpsClient(REMOTE_ADDR=f"192.0.2.{number + 1}")  # sixteen people, not one address over its limit
        client.force_login(holder.user)
        client.post(reverse("step_up"), {"action": "send", "channel": "email", "next": "/"})
        found = re.search(r"\b(\d{8})\b", str(mail.outbox[-1].body))
        assert found
        clients.append(client)
        codes.append(found.group(1))
    start = threading.Barrier(len(clients))
    answers: list[object] = []

    def confirm(client: Client, code: str) -> None:
        try:
            start.wait()
            answers.append(client.post(reverse("step_up"), {"action": "verify_code", "code": code, "next": "/"}))
        except Exception as error:  # what went wrong is the finding
            answers.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=pair) for pair in zip(clients, codes, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [getattr(answer, "status_code", answer) for answer in answers] == [302] * len(clients)
