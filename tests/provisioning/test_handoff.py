"""Continue on the phone: a QR code of a single-use, short-lived link that resumes the flow after signing in."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card
from provisioning import handoff
from provisioning.models import HandoffLink
from tests.https_client import HttpsClient

pytestmark = pytest.mark.django_db


def _qr_link(client: Client, target: str) -> str:
    page = client.post(reverse("provisioning:continue_on_phone"), {"next": target})
    assert page.status_code == 200
    body = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in body
    assert "<script>" not in body  # no inline script; the page scripts are the inventoried ones
    # The tests read the link back from the database side: the token is only in the QR code.
    link = HandoffLink.objects.get()
    token = "t" * 43
    link.token_digest = handoff._digest(token)
    link.save()
    return reverse("provisioning:handoff", args=[token])


def test_the_phone_signs_in_and_lands_where_the_desktop_was(card: Card) -> None:
    desktop = HttpsClient()
    desktop.force_login(card.cardholder.user)  # type: ignore[union-attr]
    target = f"{reverse('provisioning:choose')}?card={card.public_id}"
    url = _qr_link(desktop, target)

    phone = HttpsClient()
    first = phone.get(url)
    assert first.status_code == 302
    assert first["Location"].startswith(reverse("account_login"))
    assert re.search(r"next=%2Fwallets%2F%3Fcard%3D", first["Location"])
    assert first["Referrer-Policy"] == "no-referrer"
    assert phone.get(url).status_code == 410  # used once
    assert AuditEvent.objects.filter(action="handoff.used").exists()


def test_an_old_or_invented_code_gets_the_same_answer(card: Card) -> None:
    desktop = HttpsClient()
    desktop.force_login(card.cardholder.user)  # type: ignore[union-attr]
    url = _qr_link(desktop, "/")
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        expired = HttpsClient().get(url)
    invented = HttpsClient().get(reverse("provisioning:handoff", args=["x" * 43]))
    assert expired.status_code == invented.status_code == 410
    assert expired.content == invented.content


def test_the_target_is_always_one_of_our_paths(card: Card) -> None:
    desktop = HttpsClient()
    desktop.force_login(card.cardholder.user)  # type: ignore[union-attr]
    desktop.post(reverse("provisioning:continue_on_phone"), {"next": "https://evil.example/"})
    assert HandoffLink.objects.get().target == "/"


def test_asking_for_many_codes_is_limited(card: Card) -> None:
    desktop = HttpsClient()
    desktop.force_login(card.cardholder.user)  # type: ignore[union-attr]
    for _ in range(handoff.MAX_PER_WINDOW):
        assert desktop.post(reverse("provisioning:continue_on_phone"), {"next": "/"}).status_code == 200
    assert desktop.post(reverse("provisioning:continue_on_phone"), {"next": "/"}).status_code == 302
    assert HandoffLink.objects.count() == handoff.MAX_PER_WINDOW
