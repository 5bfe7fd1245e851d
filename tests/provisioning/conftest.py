"""Fixtures of the provisioning tests: a signed-in, stepped-up cardholder with requestors from the sandbox."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from cardholders.models import Cardholder
from provisioning import refresh
from provisioning.models import NetworkConfiguration, TokenRequestor
from tests.https_client import HttpsClient


@pytest.fixture
def portal(sandbox_network_config: NetworkConfiguration, cardholder: Cardholder) -> Client:
    """Requestors refreshed from the sandbox and offered; the cardholder signed in and stepped up by e-mail code."""
    sandbox_network_config.callback_base_url = "https://testserver"
    sandbox_network_config.save()
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)
    client = HttpsClient()
    client.force_login(cardholder.user)
    client.post(reverse("step_up"), {"action": "send", "channel": "email", "next": "/"})
    code = re.search(r"\b(\d{8})\b", str(mail.outbox[-1].body))
    assert code
    response = client.post(reverse("step_up"), {"action": "verify_code", "code": code.group(1), "next": "/"})
    assert response.status_code == 302
    return client
