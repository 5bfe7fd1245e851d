"""Staff see and tune the decision rules (audited), read MDES's requests; `manage.py check` catches a configuration
that could not answer MDES."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card
from issuer_services.checks import issuer_services_configuration
from issuer_services.models import Decision, DecisionRules, TokenAlert, TokenizationRequest
from tests.factories import StaffUserFactory
from tests.issuer_portal.helpers import staff_client
from tests.provisioning.factories import CardTokenFactory
from users.models import User

pytestmark = pytest.mark.django_db


def _member_of(role: str) -> User:
    user = StaffUserFactory.create(is_superuser=False)
    user.groups.add(Group.objects.get(name=role))
    return user


def _form(**changes: Any) -> dict[str, Any]:
    rules = DecisionRules.current()
    values = {
        field.name: getattr(rules, field.name)
        for field in DecisionRules._meta.fields
        if field.editable and field.name not in ("id", "updated_at")
    }
    values |= changes
    return {name: ("on" if value is True else value) for name, value in values.items() if value is not False}


def test_operations_tune_the_rules_and_the_change_is_audited() -> None:
    client = staff_client(_member_of("Operations"))

    listed = client.get(reverse("admin:issuer_services_decisionrules_changelist"))
    assert listed.status_code == 200
    assert "Pushes from the portal" in listed.content.decode()
    change = reverse("admin:issuer_services_decisionrules_change", args=[DecisionRules.current().pk])
    response = client.post(change, _form(manual_decision=Decision.DECLINED, device_score_step_up_below=4))

    assert response.status_code == 302
    rules = DecisionRules.current()
    assert (rules.manual_decision, rules.device_score_step_up_below) == ("DECLINED", 4)
    event = AuditEvent.objects.get(action="decisionrules.changed_by_staff")
    assert event.before == {"manual_decision": "REQUIRE_ADDITIONAL_AUTHENTICATION", "device_score_step_up_below": 3}


def test_auditors_read_the_rules_and_requests_and_change_nothing(card: Card) -> None:
    request = TokenizationRequest.objects.create(
        token_unique_reference="DSBXMC" + "0" * 42,
        correlation_id="C1",
        request_id="R1",
        card=card,
        decision=Decision.REQUIRE_ADDITIONAL_AUTHENTICATION,
        state=TokenizationRequest.State.PENDING,
        reasons=["manual_add"],
        expires_at=timezone.now(),
    )
    client = staff_client(_member_of("Auditor"))
    rules = reverse("admin:issuer_services_decisionrules_change", args=[DecisionRules.current().pk])

    assert client.get(rules).status_code == 200
    assert client.post(rules, _form(manual_decision=Decision.APPROVED)).status_code == 403
    assert DecisionRules.current().manual_decision == Decision.REQUIRE_ADDITIONAL_AUTHENTICATION
    page = client.get(reverse("admin:issuer_services_tokenizationrequest_change", args=[request.pk]))
    assert page.status_code == 200
    assert "manual_add" in page.content.decode()


def test_nothing_to_check_while_the_services_are_off(settings: Any) -> None:
    settings.ISSUER_SERVICES_ENABLED = False

    assert issuer_services_configuration() == []


def test_services_that_could_not_answer_mdes_fail_the_check(settings: Any) -> None:
    settings.ISSUER_SERVICES_ENABLED = True
    settings.ISSUER_SERVICES_AUTHENTICATION = ["mtls", "signature"]
    settings.ISSUER_SERVICES_DECRYPTION_KEY_PATH = ""
    settings.ISSUER_SERVICES_SIGNATURE_KEY_PATHS = []
    settings.AXES_IPWARE_PROXY_COUNT = None
    settings.PORTAL_BASE_URL = "https://portal.example-issuer.com/with/a/very/long/path/that/mdes/cannot/take"

    ids = [message.id for message in issuer_services_configuration()]

    assert ids == ["issuer_services.E001", "issuer_services.E002", "issuer_services.E004", "issuer_services.W001"]


def test_a_complete_configuration_passes_the_check(issuer_services_on: Any) -> None:
    assert issuer_services_configuration() == []


def test_auditors_read_the_was_this_you_alerts_and_change_nothing(card: Card) -> None:
    token = CardTokenFactory.create(card=card)
    alert = TokenAlert.objects.create(token=token, reason="typed_in", sent_to_hint="your phone ending 5678")
    client = staff_client(_member_of("Auditor"))

    listed = client.get(reverse("admin:issuer_services_tokenalert_changelist"))
    shown = client.get(reverse("admin:issuer_services_tokenalert_change", args=[alert.pk]))

    assert listed.status_code == shown.status_code == 200
    assert "your phone ending 5678" in shown.content.decode()
    assert client.post(reverse("admin:issuer_services_tokenalert_delete", args=[alert.pk])).status_code == 403
    assert TokenAlert.objects.filter(pk=alert.pk).exists()
