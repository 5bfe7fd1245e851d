"""Database settings the environment does not override: persistent, health-checked connections; SQLite that
queues writers instead of failing them."""

import pytest
from django.conf import settings
from django.db import connection


def test_connections_persist_across_requests_with_a_health_check_by_default() -> None:
    database = settings.DATABASES["default"]
    assert database["CONN_MAX_AGE"] == 600
    assert database["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db
def test_sqlite_takes_the_write_lock_when_a_transaction_begins_and_keeps_a_write_ahead_log() -> None:
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("sqlite3"):
        pytest.skip("SQLite only; PostgreSQL keeps its own defaults")
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
