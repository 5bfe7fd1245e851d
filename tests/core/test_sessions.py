"""The sliding idle timeout costs a session write at most once a minute, never one per page view."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cardholders.models import Cardholder
from tests.users.helpers import sign_in

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


def _writes(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith(WRITES)]


def _session_writes(queries: CaptureQueriesContext) -> list[str]:
    return [sql for sql in _writes(queries) if "django_session" in sql]


def test_a_page_view_without_a_change_writes_nothing(client: Client, cardholder: Cardholder) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, cardholder.user.email)
    with time_machine.travel(start + timedelta(seconds=30), tick=False), CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["user"].is_authenticated
    assert _writes(queries) == []


def test_a_page_view_more_than_a_minute_after_the_last_write_moves_the_idle_clock(
    client: Client, cardholder: Cardholder
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, cardholder.user.email)
    with time_machine.travel(start + timedelta(seconds=61), tick=False), CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    assert len(_session_writes(queries)) == 1
    # ...and the next view within the minute writes nothing again.
    with time_machine.travel(start + timedelta(seconds=100), tick=False), CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    assert _session_writes(queries) == []


def test_the_timeout_warning_counts_from_the_last_write(client: Client, cardholder: Cardholder, settings) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, cardholder.user.email)
    with time_machine.travel(start + timedelta(seconds=40), tick=False):
        response = client.get(reverse("home"))
    assert response.context["session_idle_seconds"] == settings.SESSION_COOKIE_AGE - 40


def test_keep_alive_always_moves_the_idle_clock(client: Client, cardholder: Cardholder) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, cardholder.user.email)
    with time_machine.travel(start + timedelta(seconds=10), tick=False), CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("session_keep_alive")).status_code == 204
    assert len(_session_writes(queries)) == 1
