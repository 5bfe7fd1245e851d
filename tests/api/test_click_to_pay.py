"""Click to Pay through the API: the data to be shared comes first, and the push needs the cardholder's consent to
the current wording. MDES is the real sandbox over HTTP."""

from typing import Any

import pytest
from django.urls import reverse

from cardholders.models import Card, Cardholder
from provisioning.click_to_pay import CONSENT_TEXT_VERSION
from provisioning.models import ClickToPayConsent, NetworkConfiguration, PushRequest
from tests.api.conftest import HttpsApiClient

pytestmark = pytest.mark.django_db

CLICK_TO_PAY = "50100000033"


@pytest.fixture
def reachable(cardholder: Cardholder) -> Cardholder:
    cardholder.phone_number = "+14155550123"
    cardholder.save()
    return cardholder


def _review(app: HttpsApiClient, card: Card, trid: str = CLICK_TO_PAY) -> Any:
    return app.get(
        reverse("api:my_click_to_pay_review"),
        {"card": [str(card.public_id)], "token_requestor": trid, "platform": "WEB"},
    )


def _push(app: HttpsApiClient, card: Card, **consent: object) -> Any:
    return app.post(
        reverse("api:my_pushes"),
        {"cards": [str(card.public_id)], "token_requestor": CLICK_TO_PAY, "platform": "WEB", **consent},
        format="json",
        headers={"Idempotency-Key": "c2p-1"},
    )


def test_the_review_returns_exactly_the_data_to_be_shared_and_the_terms(
    app: HttpsApiClient, reachable: Cardholder, card: Card, requestors: NetworkConfiguration
) -> None:
    response = _review(app, card)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["available"] is True
    assert body["missing"] == []
    assert [(item["kind"], item["value"]) for item in body["shared"]] == [
        ("NAME", "Susan Example"),
        ("EMAIL_ADDRESS", reachable.user.email),
        ("MOBILE_PHONE_NUMBER", "+1 415-555-0123"),
    ]
    assert body["terms_url"] == "https://www.mastercard.com/global/click-to-pay/country-listing/terms.html"
    assert body["privacy_url"] == "https://www.mastercard.com/global/click-to-pay/country-listing/privacy.html"
    assert (body["country"], body["explicit_opt_in"]) == ("US", False)
    assert body["consent_version"] == CONSENT_TEXT_VERSION
    assert "Mastercard Click to Pay" in body["consent_text"]
    assert body["already_there"] == []


def test_the_review_says_what_is_missing(
    app: HttpsApiClient, cardholder: Cardholder, card: Card, requestors: NetworkConfiguration
) -> None:
    cardholder.phone_number = ""
    cardholder.save()
    body = _review(app, card).json()
    assert (body["available"], body["missing"]) == (False, ["MOBILE_PHONE_NUMBER"])
    assert body["missing_reason"] == "Click to Pay needs your mobile number, and we do not have it yet."


def test_a_requestor_that_is_not_click_to_pay_has_no_review(
    app: HttpsApiClient, reachable: Cardholder, card: Card, requestors: NetworkConfiguration
) -> None:
    response = _review(app, card, trid="50100000011")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "token_requestor"


@pytest.mark.parametrize(
    "consent",
    [{}, {"consent_given": False, "consent_version": CONSENT_TEXT_VERSION}, {"consent_given": True}],
)
def test_a_push_without_consent_is_refused_with_a_problem_saying_so(
    app: HttpsApiClient, reachable: Cardholder, card: Card, requestors: NetworkConfiguration, consent: dict
) -> None:
    response = _push(app, card, **consent)
    assert response.status_code == 422
    problem = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert problem["code"] == "consent_required"
    assert "agree" in problem["detail"]
    assert not PushRequest.objects.exists()


def test_a_push_with_consent_goes_and_is_recorded(
    app: HttpsApiClient, reachable: Cardholder, card: Card, requestors: NetworkConfiguration
) -> None:
    review = _review(app, card).json()
    response = _push(
        app, card, consent_given=True, consent_version=review["consent_version"], data_digest=review["data_digest"]
    )
    assert response.status_code == 201, response.content
    consent = ClickToPayConsent.objects.get(push__public_id=response.json()["id"])
    assert consent.data_digest == review["data_digest"]
    assert consent.given_by == reachable.user


def test_a_push_with_missing_details_is_refused_even_with_consent(
    app: HttpsApiClient, cardholder: Cardholder, card: Card, requestors: NetworkConfiguration
) -> None:
    cardholder.phone_number = ""
    cardholder.save()
    response = _push(app, card, consent_given=True, consent_version=CONSENT_TEXT_VERSION)
    assert response.status_code == 409
    assert response.json()["code"] == "details_missing"
