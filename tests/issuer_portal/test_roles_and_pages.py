"""Roles are enforced, not just hidden; no admin page shows a card number; list pages keep a constant query count."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from cardholders.models import Card
from provisioning.models import PushRequest, TokenRequestor
from tests.factories import TEST_CARD_NUMBERS, StaffUserFactory
from tests.issuer_portal.helpers import staff_client
from tests.provisioning.factories import PushFactory, TokenRequestorFactory
from users.models import User

pytestmark = pytest.mark.django_db


def _member_of(role: str) -> User:
    user = StaffUserFactory.create(is_superuser=False)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_both_roles_exist_after_migrating() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {"Operations", "Auditor"}


def test_operations_manage_requestors_but_cannot_read_the_audit_trail(card: Card) -> None:
    requestor = TokenRequestorFactory.create()
    client = staff_client(_member_of("Operations"))
    change = reverse("admin:provisioning_tokenrequestor_change", args=[requestor.pk])
    response = client.post(
        change, {"offered": "on", "display_order": "3", "receipts_separator": ",", "signature_param_name": "signature"}
    )
    assert response.status_code == 302
    assert TokenRequestor.objects.get(pk=requestor.pk).offered
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 403
    assert client.get(reverse("admin:provisioning_pushrequest_changelist")).status_code == 200


def test_auditors_read_everything_and_change_nothing(card: Card) -> None:
    requestor = TokenRequestorFactory.create()
    client = staff_client(_member_of("Auditor"))
    change = reverse("admin:provisioning_tokenrequestor_change", args=[requestor.pk])
    assert client.get(change).status_code == 200
    response = client.post(
        change, {"offered": "on", "display_order": "3", "receipts_separator": ",", "signature_param_name": "signature"}
    )
    assert response.status_code == 403
    assert not TokenRequestor.objects.get(pk=requestor.pk).offered
    assert client.post(reverse("admin:provisioning_tokenrequestor_refresh")).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200


def test_nobody_can_edit_or_delete_an_audit_event_superusers_included(staff_user: User) -> None:
    event = AuditEvent.objects.create(actor_label="x", action="test.event")
    client = staff_client(staff_user)
    change = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert client.post(change, {"action": "forged"}).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    with pytest.raises(PermissionError):
        event.delete()
    event.action = "forged"
    with pytest.raises(PermissionError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def test_audit_trail_exports_as_csv_with_formulas_neutralised(staff_user: User) -> None:
    AuditEvent.objects.create(actor_label='=HYPERLINK("http://evil")', action="test.event")
    response = staff_client(staff_user).post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "export_csv", "_selected_action": list(AuditEvent.objects.values_list("pk", flat=True))},
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert body.splitlines()[0].startswith("occurred_at,actor_label,action")
    assert "'=HYPERLINK" in body
    assert AuditEvent.objects.filter(action="audit.exported_by_staff").exists()


def test_no_admin_page_shows_a_full_card_number(staff_user: User, card: Card) -> None:
    push = PushFactory.create(card=card, state="redirected")
    client = staff_client(staff_user)
    pages = [
        reverse("admin:cardholders_card_changelist"),
        reverse("admin:cardholders_card_change", args=[card.pk]),
        reverse("admin:provisioning_pushrequest_changelist"),
        reverse("admin:provisioning_pushrequest_change", args=[push.pk]),
        reverse("admin:audit_auditevent_changelist"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert TEST_CARD_NUMBERS[0] not in response.content.decode(), url
        assert "no-store" in response["Cache-Control"], url
    assert "555555••••••4444" in client.get(pages[1]).content.decode()


@pytest.mark.parametrize(
    "url_name", ["admin:provisioning_tokenrequestor_changelist", "admin:provisioning_pushrequest_changelist"]
)
def test_list_pages_keep_their_query_count_as_rows_grow(staff_user: User, card: Card, url_name: str) -> None:
    client = staff_client(staff_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(url_name)).status_code == 200
        return len(captured)

    PushFactory.create(card=card, state="redirected")
    few = queries()
    for _ in range(8):
        PushFactory.create(card=card, state="redirected")
    assert PushRequest.objects.count() == 9
    assert queries() == few


def test_the_staff_home_is_grouped_by_task_and_hides_library_apps_from_roles() -> None:
    operations = staff_client(_member_of("Operations")).get(reverse("admin:index")).content.decode()
    assert ">Token requestors</a>" in operations
    assert ">Pushes and landing links</a>" in operations
    auditor = staff_client(_member_of("Auditor")).get(reverse("admin:index")).content.decode()
    assert ">Audit</a>" in auditor
    assert "Access attempts" in auditor.split(">Audit</a>")[1]  # lockouts: the auditors' own
    for library in ("Auth tokens", "Authenticators", "Email addresses", "Sites"):
        assert library not in operations
        assert library not in auditor
    administrator = StaffUserFactory.create(is_superuser=True)
    assert "Access attempts" in staff_client(administrator).get(reverse("admin:index")).content.decode()
