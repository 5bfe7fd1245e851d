"""'Test the connection to MDES' from the staff area, against the sandbox over HTTP."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from provisioning.models import NetworkConfiguration
from tests.fixtures.sandbox_server import SandboxServer
from tests.issuer_portal.helpers import staff_client
from users.models import User

pytestmark = pytest.mark.django_db


def _test(user: User, config: NetworkConfiguration) -> str:
    response = staff_client(user).post(
        reverse("admin:provisioning_networkconfiguration_changelist"),
        {"action": "test_connection", "_selected_action": [config.pk]},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def test_a_working_connection_says_how_many_requestors_mdes_listed(
    staff_user: User, sandbox_network_config: NetworkConfiguration
) -> None:
    page = _test(staff_user, sandbox_network_config)
    assert "Connected: MDES listed" in page
    assert "for 4 account range(s)" in page
    assert AuditEvent.objects.get(action="networkconfiguration.connection_tested").outcome == "success"


def test_an_unreachable_mdes_is_explained_in_plain_words(
    staff_user: User, sandbox_network_config: NetworkConfiguration, sandbox: SandboxServer
) -> None:
    sandbox.fail_next(503)
    assert "could not be reached or did not answer in time" in _test(staff_user, sandbox_network_config)
    assert AuditEvent.objects.get(action="networkconfiguration.connection_tested").outcome == "failure"


def test_a_wrong_signing_key_password_is_explained(
    staff_user: User, sandbox_network_config: NetworkConfiguration, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(sandbox_network_config.signing_key_password_env, "not the password")
    assert "cannot use this configuration" in _test(staff_user, sandbox_network_config)


def test_a_gateway_refusal_points_at_the_keys(staff_user: User, sandbox_network_config: NetworkConfiguration) -> None:
    sandbox_network_config.consumer_key = "someone-else!abc"
    sandbox_network_config.save()
    assert "gateway refused the call" in _test(staff_user, sandbox_network_config)
