"""The audit trail's staff list stays cheap as the trail grows: no exact count of the whole table on PostgreSQL,
no date hierarchy scan."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.admin import EstimatedCountPaginator
from audit.services import audit_event_record
from tests.issuer_portal.helpers import staff_client
from users.models import User

pytestmark = pytest.mark.django_db


def _audit_counts(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "audit_auditevent" in q["sql"]
    ]


def test_the_list_counts_the_trail_once_and_asks_no_dates(staff_user: User) -> None:
    for number in range(3):
        audit_event_record(action=f"test.event_{number}")
    client = staff_client(staff_user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("admin:audit_auditevent_changelist"))
    assert page.status_code == 200
    assert "test.event_2" in page.content.decode()
    assert len(_audit_counts(queries)) == 1  # a small trail is counted exactly, and only once
    assert not any("DISTINCT" in q["sql"] and "occurred_at" in q["sql"] for q in queries.captured_queries)


def test_on_postgresql_a_large_trail_and_a_large_filtered_list_are_counted_from_the_statistics(
    staff_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: other databases count exactly")
    for number in range(5):
        audit_event_record(action=f"test.event_{number}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    monkeypatch.setattr(EstimatedCountPaginator, "ESTIMATE_FROM_ROWS", 1)
    client = staff_client(staff_user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("admin:audit_auditevent_changelist"))
    assert page.status_code == 200
    assert _audit_counts(queries) == []
    with CaptureQueriesContext(connection) as queries:
        filtered = client.get(reverse("admin:audit_auditevent_changelist"), {"action": "test.event_1"})
    assert "1 audit event" in filtered.content.decode()  # the planner's estimate, right on a fresh ANALYZE
    assert _audit_counts(queries) == []
    assert any(q["sql"].startswith("EXPLAIN (FORMAT JSON)") for q in queries.captured_queries)


def test_the_filters_read_the_trails_actions_once_not_per_page(staff_user: User) -> None:
    audit_event_record(action="test.first")
    client = staff_client(staff_user)
    assert "test.first" in client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("admin:audit_auditevent_changelist"))
    assert not any("DISTINCT" in query["sql"] for query in queries.captured_queries)
