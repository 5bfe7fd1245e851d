"""Click to Pay by push: its own place on the wallet step, the review of the data it gets, the cardholder's consent
(recorded without the data), and the refusals: no consent, missing or changed details.

The portal runs under Django's test client; MDES and Click to Pay's page are the real sandbox over HTTP.
"""

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from cardholders.models import Card, Cardholder
from provisioning import refresh, services
from provisioning.click_to_pay import (
    CONSENT_TEXT_VERSION,
    ClickToPayAnswer,
    account_holder_data,
    click_to_pay_review,
    data_digest,
)
from provisioning.models import ClickToPayConsent, DeviceEnvironment, PushRequest, TokenRequestor
from provisioning.push_errors import PushError, PushErrorCode
from tests.fixtures.sandbox_server import SandboxServer
from tests.issuer_portal.helpers import staff_client
from tests.provisioning.factories import CardTokenFactory
from tests.wallet import click_to_pay_enrols
from users.models import User

pytestmark = pytest.mark.django_db

CLICK_TO_PAY, SUNDAY_STORE = "50100000033", "50100000022"
TERMS = "https://www.mastercard.com/global/click-to-pay/country-listing/terms.html"
PRIVACY = "https://www.mastercard.com/global/click-to-pay/country-listing/privacy.html"
MOBILE = "+14155550123"  # a valid US mobile number in its reserved fictional range


@pytest.fixture
def holder(cardholder: Cardholder) -> Cardholder:
    cardholder.phone_number = MOBILE
    cardholder.save()
    return cardholder


def _requestor(trid: str = CLICK_TO_PAY) -> TokenRequestor:
    return TokenRequestor.objects.get(trid=trid)


def review_data(holder: Cardholder) -> Any:
    """The data a push to Click to Pay sends for `holder`, as the push builds it."""
    return account_holder_data(holder, list(_requestor().supported_account_holder_data))


def _review_url(cards: list[Card], requestor: TokenRequestor) -> str:
    query = "&".join(f"card={c.public_id}" for c in cards)
    return f"{reverse('provisioning:click_to_pay')}?{query}&token_requestor={requestor.pk}"


def _agree(portal: Client, card: Card, *, consent: bool = True, **fields: str) -> Any:
    review = portal.get(_review_url([card], _requestor()))
    assert review.status_code == 200
    page = review.content.decode()
    form = {
        "card": [card.public_id],
        "token_requestor": _requestor().pk,
        "idempotency_key": "c2p-form",
        "consent_version": re.search(r'name="consent_version" value="([^"]+)"', page).group(1),  # type: ignore[union-attr]
        "data_digest": re.search(r'name="data_digest" value="([^"]+)"', page).group(1),  # type: ignore[union-attr]
    }
    if consent:
        form["consent"] = "yes"
    return portal.post(reverse("provisioning:push_start"), form | fields)


def test_click_to_pay_has_its_own_place_on_the_wallet_step_not_a_line_among_the_others(
    portal: Client, holder: Cardholder, card: Card
) -> None:
    page = portal.get(reverse("provisioning:choose"), {"card": str(card.public_id)}).content.decode()
    section = page[page.index('class="panel click-to-pay"') : page.index("</section>")]
    assert "Click to Pay (simulated)" in section
    assert "at checkouts that show the Click to Pay icon" in section
    assert "Review and add to Click to Pay (simulated)" in section
    radios = page[page.index('class="requestor-list"') :]
    assert f'value="{_requestor().pk}"' not in radios
    assert "DemoPay" in radios


def test_the_review_shows_exactly_the_data_that_will_go_and_the_terms(
    portal: Client, holder: Cardholder, card: Card
) -> None:
    page = portal.get(_review_url([card], _requestor())).content.decode()
    user = holder.user
    assert f"{user.first_name} {user.last_name}" in page
    assert user.email in page
    assert "+1 415-555-0123" in page
    assert "Billing address" not in page  # none on file: nothing about it goes
    assert f'href="{TERMS}"' in page
    assert f'href="{PRIVACY}"' in page
    assert re.search(r'<input type="checkbox" id="consent" name="consent" value="yes" checked>', page)
    assert reverse("profile") in page


def test_the_billing_address_appears_and_goes_only_where_the_requestor_accepts_it(
    sandbox: SandboxServer, portal: Client, holder: Cardholder, card: Card
) -> None:
    holder.address_line1, holder.address_city, holder.address_country = "1 Main Street", "Springfield", "USA"
    holder.save()
    assert "1 Main Street" in portal.get(_review_url([card], _requestor())).content.decode()
    # Click to Pay now says it takes no address: the review leaves it out, and so does the push.
    sandbox.control(
        "POST",
        "token-requestors",
        {
            "tokenRequestorId": CLICK_TO_PAY,
            "name": "Click to Pay Simulation Services",
            "consumerFacingEntityName": "Click to Pay (simulated)",
            "tokenRequestorType": "WALLET",
            "enabledAccountRanges": ["555555555"],
            "supportedPushMethods": ["WEB"],
            "supportedAccountHolderData": ["NAME", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER"],
            "requiredAccountHolderData": ["NAME", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER"],
        },
    )
    refresh.token_requestors_refresh()
    assert "1 Main Street" not in portal.get(_review_url([card], _requestor())).content.decode()
    response = _agree(portal, card)
    # The sandbox refuses a push carrying a kind of data the requestor does not accept (INVALID_FIELD_VALUE), and
    # one lacking a kind it requires: a receipt for Click to Pay means exactly the accepted kinds arrived.
    assert response.status_code == 302, response.content
    (receipt,) = [r for r in sandbox.receipts() if r["trid"] == CLICK_TO_PAY]
    assert receipt["account_suffix"] == card.last_four
    assert ClickToPayConsent.objects.get().data_kinds == ["NAME", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER"]


def test_a_merchant_that_takes_only_the_name_gets_only_the_name(
    sandbox: SandboxServer, portal: Client, holder: Cardholder, card: Card
) -> None:
    holder.address_line1, holder.address_country = "1 Main Street", "USA"
    holder.save()
    response = portal.post(
        reverse("provisioning:push_start"),
        {"card": [card.public_id], "token_requestor": _requestor(SUNDAY_STORE).pk, "idempotency_key": "ss"},
    )
    assert response.status_code == 302, response.content  # the sandbox refuses any kind Sunday Store does not take
    assert [r["trid"] for r in sandbox.receipts()] == [SUNDAY_STORE]


def test_the_push_waits_for_the_box_to_be_ticked(portal: Client, holder: Cardholder, card: Card) -> None:
    response = _agree(portal, card, consent=False)
    assert response.status_code == 422
    page = response.content.decode()
    assert re.search(r'id="consent-error" class="field-error">Tick the box to agree', page)
    assert 'aria-invalid="true" aria-describedby="consent-error"' in page
    assert not PushRequest.objects.exists()
    refused = AuditEvent.objects.get(action="push.click_to_pay_refused")
    assert refused.detail == "consent_required"


def test_in_an_explicit_opt_in_country_the_box_starts_unticked(portal: Client, holder: Cardholder, card: Card) -> None:
    holder.address_line1, holder.address_city, holder.address_country = "Hauptstrasse 1", "Berlin", "DEU"
    holder.save()
    page = portal.get(_review_url([card], _requestor())).content.decode()
    assert '<input type="checkbox" id="consent" name="consent" value="yes">' in page


def test_the_push_records_the_consent_with_a_digest_and_no_personal_data(
    sandbox: SandboxServer, portal: Client, holder: Cardholder, card: Card
) -> None:
    holder.address_line1, holder.address_city, holder.address_country = "1 Main Street", "Springfield", "USA"
    holder.save()
    response = _agree(portal, card)
    assert response.status_code == 302
    push = PushRequest.objects.get()
    consent = push.click_to_pay_consent
    review = click_to_pay_review(cardholder=holder, requestor=_requestor())
    assert consent.data_digest == review.digest == data_digest(review_data(holder))
    assert consent.text_version == CONSENT_TEXT_VERSION
    assert (consent.terms_url, consent.privacy_url, consent.country) == (TERMS, PRIVACY, "US")
    assert consent.given_by == holder.user
    assert consent.data_kinds == ["NAME", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER", "ADDRESS"]
    audited = AuditEvent.objects.get(action="push.click_to_pay_consent")
    assert audited.after == {
        "data_digest": consent.data_digest,
        "data_kinds": consent.data_kinds,
        "text_version": CONSENT_TEXT_VERSION,
        "terms_url": TERMS,
        "privacy_url": PRIVACY,
        "country": "US",
        "explicit_opt_in": False,
    }
    stored = json.dumps(
        [
            {f.name: str(getattr(consent, f.name)) for f in ClickToPayConsent._meta.fields if f.name != "given_by"},
            audited.after,
            audited.detail,
        ]
    )
    for personal in (holder.user.email, holder.user.first_name, holder.user.last_name, "4155550123", "Main Street"):
        assert personal not in stored


def test_the_confirmation_says_where_the_card_can_be_used(portal: Client, holder: Cardholder, card: Card) -> None:
    response = _agree(portal, card)
    callback = urlsplit(click_to_pay_enrols(response["Location"]))
    back = portal.get(callback.path, parse_qs(callback.query))
    page = portal.get(back["Location"]).content.decode()
    assert "is now in Click to Pay (simulated)" in page
    assert "At checkouts that show the Click to Pay icon" in page


def test_missing_mobile_shows_why_and_how_to_complete_the_profile(
    portal: Client, cardholder: Cardholder, card: Card
) -> None:
    cardholder.phone_number = ""
    cardholder.save()
    page = portal.get(reverse("provisioning:choose"), {"card": str(card.public_id)}).content.decode()
    section = page[page.index('class="panel click-to-pay"') : page.index("</section>")]
    assert "Click to Pay needs your mobile number, and we do not have it yet." in section
    assert f'href="{reverse("profile")}?next=' in section
    assert "Review and add" not in section
    review = portal.get(_review_url([card], _requestor())).content.decode()
    assert "Agree and continue" not in review
    assert "Complete your details" in review


def test_the_service_refuses_click_to_pay_with_missing_details_even_with_consent(
    portal: Client, cardholder: Cardholder, card: Card
) -> None:
    cardholder.phone_number = ""
    cardholder.save()
    review = click_to_pay_review(cardholder=cardholder, requestor=_requestor())
    with pytest.raises(PushError) as refused:
        services.push_start(
            cardholder=cardholder,
            cards=[card],
            token_requestor=_requestor(),
            device=DeviceEnvironment.WEB,
            locale="en_US",
            idempotency_key="k-1",
            click_to_pay_consent=ClickToPayAnswer(given=True, version=CONSENT_TEXT_VERSION, digest=review.digest),
        )
    assert refused.value.code is PushErrorCode.DETAILS_MISSING
    assert "your mobile number" in refused.value.message
    assert not PushRequest.objects.exists()


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (None, PushErrorCode.CONSENT_REQUIRED),
        (ClickToPayAnswer(given=False, version=CONSENT_TEXT_VERSION), PushErrorCode.CONSENT_REQUIRED),
        (ClickToPayAnswer(given=True, version="an older wording"), PushErrorCode.CONSENT_REQUIRED),
        (ClickToPayAnswer(given=True, version=CONSENT_TEXT_VERSION, digest="0" * 64), PushErrorCode.DETAILS_CHANGED),
    ],
)
def test_the_service_refuses_click_to_pay_without_consent_to_the_current_wording_and_data(
    portal: Client, holder: Cardholder, card: Card, answer: ClickToPayAnswer | None, code: PushErrorCode
) -> None:
    with pytest.raises(PushError) as refused:
        services.push_start(
            cardholder=holder,
            cards=[card],
            token_requestor=_requestor(),
            device=DeviceEnvironment.WEB,
            locale="en_US",
            idempotency_key="k-1",
            click_to_pay_consent=answer,
        )
    assert refused.value.code is code
    assert not PushRequest.objects.exists()
    assert AuditEvent.objects.filter(action="push.click_to_pay_refused", detail=code.value).exists()


def test_details_changed_after_the_review_are_shown_again_before_the_push(
    portal: Client, holder: Cardholder, card: Card
) -> None:
    review = portal.get(_review_url([card], _requestor())).content.decode()
    digest = re.search(r'name="data_digest" value="([^"]+)"', review)
    assert digest
    holder.phone_number = "+14155550199"
    holder.save()
    response = _agree(portal, card, data_digest=digest.group(1))
    assert response.status_code == 409
    page = response.content.decode()
    assert "Your details changed since you reviewed them" in page
    assert "+1 415-555-0199" in page
    assert not PushRequest.objects.exists()


def test_a_card_already_in_click_to_pay_says_so_instead_of_a_second_enrolment(
    portal: Client, holder: Cardholder, card: Card
) -> None:
    CardTokenFactory.create(card=card, token_requestor=_requestor(), device_name="", device_type="")
    page = portal.get(reverse("provisioning:choose"), {"card": str(card.public_id)}).content.decode()
    section = page[page.index('class="panel click-to-pay"') : page.index("</section>")]
    assert "Your Everyday Debit is already in Click to Pay (simulated)." in section
    assert "Review and add" not in section
    assert "Agree and continue" not in portal.get(_review_url([card], _requestor())).content.decode()


def test_the_cardholder_completes_their_details_and_comes_back_to_the_review(
    portal: Client, cardholder: Cardholder, card: Card
) -> None:
    cardholder.phone_number = ""
    cardholder.save()
    review = _review_url([card], _requestor())
    form = portal.get(reverse("profile"), {"next": review})
    assert form.status_code == 200
    assert cardholder.user.email in form.content.decode()
    details = {"first_name": "Susan", "last_name": "Example", "phone_number": "+1 415 555 0123", "next": review}
    wrong = portal.post(reverse("profile"), details | {"phone_number": "12345"})
    assert wrong.status_code == 400
    assert "with + and the country code" in wrong.content.decode()
    saved = portal.post(reverse("profile"), details)
    assert saved.status_code == 302
    assert saved["Location"] == review
    cardholder.refresh_from_db()
    assert cardholder.phone_number == MOBILE
    audited = AuditEvent.objects.get(action="cardholder.profile_updated")
    assert audited.after == {"changed": ["phone_number"]}
    assert "Agree and continue" in portal.get(review).content.decode()


def test_the_details_page_asks_for_a_fresh_second_factor(client: Client, cardholder: Cardholder) -> None:
    client.force_login(cardholder.user)
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("step_up"))


def test_staff_see_the_consent_with_the_push_and_no_personal_data(
    portal: Client, holder: Cardholder, card: Card, staff_user: User
) -> None:
    assert _agree(portal, card).status_code == 302
    push = PushRequest.objects.get()
    page = staff_client(staff_user).get(reverse("admin:provisioning_pushrequest_change", args=[push.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert push.click_to_pay_consent.data_digest in text
    assert CONSENT_TEXT_VERSION in text
    assert "4155550123" not in text
    assert "415-555-0123" not in text


def test_saving_the_details_unchanged_keeps_the_number_on_file_and_records_nothing(
    portal: Client, cardholder: Cardholder
) -> None:
    user = cardholder.user
    details = {"first_name": user.first_name, "last_name": user.last_name, "phone_number": cardholder.phone_number}
    saved = portal.post(reverse("profile"), details)
    assert saved.status_code == 302
    assert saved["Location"] == reverse("home")  # no `next`: back to the cards
    assert not AuditEvent.objects.filter(action="cardholder.profile_updated").exists()
