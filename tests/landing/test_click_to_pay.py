"""Click to Pay on a landing page: a card sent by link has no cardholder profile, so Click to Pay is shown as not
available with the reason, and a push to it is refused rather than sent without the details it needs."""

from django.urls import reverse

from audit.models import AuditEvent
from landing.services import MintedLink
from provisioning.models import PushRequest, TokenRequestor
from tests.https_client import HttpsClient
from tests.landing.conftest import page_path

CLICK_TO_PAY = "50100000033"


def test_click_to_pay_is_shown_as_not_available_with_the_reason(
    verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
) -> None:
    page = verified_recipient.get(page_path(minted)).content.decode()
    section = page[page.index('class="panel click-to-pay"') :]
    assert "Click to Pay (simulated) is not available for this card" in section
    assert "needs the cardholder's name, e-mail address and mobile number" in section
    requestor = TokenRequestor.objects.get(trid=CLICK_TO_PAY)
    assert f'name="token_requestor" value="{requestor.pk}"' not in page  # not among the wallets to choose


def test_a_push_to_click_to_pay_from_a_landing_page_is_refused(
    verified_recipient: HttpsClient, minted: MintedLink, offered_requestors: object
) -> None:
    requestor = TokenRequestor.objects.get(trid=CLICK_TO_PAY)
    response = verified_recipient.post(
        reverse("landing:push", args=[minted.link.public_id]), {"token_requestor": requestor.pk, "idempotency_key": "k"}
    )
    assert response.status_code == 409
    assert "Click to Pay (simulated) needs your first and last name" in response.content.decode()
    assert not PushRequest.objects.exists()
    assert AuditEvent.objects.filter(action="push.click_to_pay_refused", detail="details_missing").exists()
