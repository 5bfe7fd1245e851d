"""Staff on token requestors: reorder, switch off, and refresh now (enqueued only once the request commits)."""

from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from provisioning import tasks
from provisioning.models import JobRun, TokenRequestor
from tests.issuer_portal.helpers import staff_client
from tests.provisioning.factories import TokenRequestorFactory
from users.models import User

pytestmark = pytest.mark.django_db


def test_refresh_now_is_enqueued_after_commit_and_audited(
    staff_user: User, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    monkeypatch.setattr(tasks.refresh_token_requestors, "apply_async", lambda *a, **k: sent.append("refresh"))
    client = staff_client(staff_user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("admin:provisioning_tokenrequestor_refresh"))
    assert response.status_code == 302
    assert sent == []  # nothing is published before the transaction commits
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == ["refresh"]
    assert AuditEvent.objects.filter(action="token_requestor.refresh_requested", actor=staff_user).exists()


def test_refresh_now_refuses_get(staff_user: User) -> None:
    assert staff_client(staff_user).get(reverse("admin:provisioning_tokenrequestor_refresh")).status_code == 405


def test_list_shows_the_last_refresh_and_staff_can_reorder_and_switch_off(staff_user: User) -> None:
    JobRun.objects.create(job="refresh_token_requestors").finish(state=JobRun.State.SUCCEEDED)
    wallet = TokenRequestorFactory.create(consumer_facing_name="DemoPay", offered=True, display_order=1)
    client = staff_client(staff_user)
    page = client.get(reverse("admin:provisioning_tokenrequestor_changelist")).content.decode()
    assert "Last refresh:" in page
    assert "Refresh from MDES now" in page
    response = client.post(
        reverse("admin:provisioning_tokenrequestor_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(wallet.pk),
            "form-0-display_order": "5",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    wallet.refresh_from_db()
    assert (wallet.offered, wallet.display_order) == (False, 5)
    event = AuditEvent.objects.get(action="tokenrequestor.changed_by_staff")
    assert event.before == {"offered": True, "display_order": 1}
    assert event.after == {"offered": False, "display_order": 5}


def test_a_retired_requestor_cannot_be_offered_through_the_admin(staff_user: User) -> None:
    from django.utils import timezone

    retired = TokenRequestorFactory.create(retired_at=timezone.now())
    response = staff_client(staff_user).post(
        reverse("admin:provisioning_tokenrequestor_change", args=[retired.pk]),
        {"offered": "on", "display_order": "0", "receipts_separator": ",", "signature_param_name": "signature"},
    )
    assert response.status_code == 200  # the form comes back with an error
    assert "cannot be offered" in response.content.decode()
    assert not TokenRequestor.objects.get(pk=retired.pk).offered


def test_enabled_account_ranges_are_shown_as_configured_not_with_their_zeros_stripped(
    staff_user: User, network_config: Any
) -> None:
    # MDES reports ranges padded with zeros to 19 digits; "510510510" is configured, ends in a zero, and must
    # not turn into "51051051" (which is a different, shorter range).
    wallet = TokenRequestorFactory.create(consumer_facing_name="DemoPay")
    wallet.enabled_ranges.create(range_start="5105105100000000000")
    wallet.enabled_ranges.create(range_start="4000000000000000000")  # not one of ours: shown as MDES reports it
    page = staff_client(staff_user).get(reverse("admin:provisioning_tokenrequestor_change", args=[wallet.pk]))
    assert "4000000000000000000, 510510510<" in page.content.decode()
