"""The database connection settings the environment does not override: persistent, health-checked connections."""

from django.conf import settings


def test_connections_persist_across_requests_with_a_health_check_by_default() -> None:
    database = settings.DATABASES["default"]
    assert database["CONN_MAX_AGE"] == 600
    assert database["CONN_HEALTH_CHECKS"] is True
