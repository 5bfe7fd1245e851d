"""Staff manage the API's credentials in the admin: a program key is shown once and its creation audited; cardholder
tokens can be seen and revoked but never minted by staff."""

import pytest
from django.contrib import admin
from django.test import Client
from knox.models import AuthToken
from rest_framework_api_key.models import APIKey

from api.models import ProgramApiKey
from audit.models import AuditEvent
from cardholders.models import Program
from tests.issuer_portal.helpers import staff_client
from users.models import User

pytestmark = pytest.mark.django_db


def _fields(key: ProgramApiKey) -> dict[str, object]:
    return {"prefix": key.prefix, "name": key.name, "program": key.program_id, "revoked": False, "expiry_date": None}


@pytest.fixture
def staff(staff_user_with_totp: User) -> Client:
    return staff_client(staff_user_with_totp)


def test_staff_create_a_program_key_which_is_shown_once_and_audited(staff: Client, program: Program) -> None:
    response = staff.post(
        "/admin/api/programapikey/add/", {"name": "Acme gift cards", "program": program.pk}, follow=True
    )
    assert response.status_code == 200
    key = ProgramApiKey.objects.get()
    assert key.program == program
    shown = [str(m) for m in response.context["messages"]]
    assert any(key.prefix in m and "will not be able to see it again" in m for m in shown)
    event = AuditEvent.objects.get(action="api.key_created")
    assert event.after == {
        "prefix": key.prefix,
        "name": "Acme gift cards",
        "program": program.pk,
        "revoked": False,
        "expiry_date": None,
    }
    assert key.hashed_key not in str(event.after)


def test_revoking_a_key_in_the_admin_is_audited(staff: Client, program: Program) -> None:
    created, _ = ProgramApiKey.objects.create_key(name="old", program=program)
    key = ProgramApiKey.objects.get(pk=created.pk)
    response = staff.post(
        f"/admin/api/programapikey/{key.pk}/change/", {"name": "old", "program": program.pk, "revoked": "on"}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="api.key_revoked").after == {**_fields(key), "revoked": True}


def test_only_program_keys_and_no_token_minting_are_offered() -> None:
    assert ProgramApiKey in admin.site._registry
    assert APIKey not in admin.site._registry
    assert not admin.site._registry[AuthToken].has_add_permission(None)  # type: ignore[arg-type]
