"""E1: every state-changing cardholder form refuses a request without a valid CSRF token; friendly error pages."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cardholders.models import Card
from provisioning.models import PushRequest
from tests.provisioning.factories import CardTokenFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("token", [None, "wrong-token-wrong-token-wrong-token-wrong-token-wrong-token1"])
def test_state_changing_posts_need_the_csrf_token(card: Card, token: str | None) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(card.cardholder.user)  # type: ignore[union-attr]
    data = {"csrfmiddlewaretoken": token} if token else {}
    in_wallet = CardTokenFactory.create(card=card).public_id
    for url, form in (
        (reverse("provisioning:push_start"), {"card": str(card.public_id), "token_requestor": "1"}),
        (reverse("step_up"), {"action": "send", "channel": "email"}),
        (reverse("provisioning:card_tokens_check", args=[card.public_id]), {}),
        (reverse("provisioning:token_pause", args=[in_wallet]), {}),
        (reverse("provisioning:token_resume", args=[in_wallet]), {}),
        (reverse("provisioning:token_remove", args=[in_wallet]), {"where": "everywhere"}),
        (reverse("account_logout"), {}),
    ):
        response = client.post(url, {**form, **data}, secure=True, headers={"Referer": "https://testserver/"})
        assert response.status_code == 403, url
    assert not PushRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="token.").exists()


def test_unknown_pages_get_a_page_that_helps(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()
