"""Mastercard Click to Pay by push: which requestors it is, the personal data it gets, and the consent before it.

The cardholder reviews exactly the data the push will send (`account_holder_data`, the one function the push uses
too), sees Click to Pay's terms and privacy notice for their country, and agrees; the push records a digest of
what was shown, never the data (mdes-beyond-the-push.md section 1.3). Reads only: the consent record is written
by the push (`provisioning.services.push_start`).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import phonenumbers
from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from cardholders.models import Card, Cardholder
from provisioning.mdes.types import AccountHolderData, BillingAddress, PhoneNumber
from provisioning.models import TokenRequestor
from provisioning.selectors import RequestorChoice

ACCOUNT_HOLDER_NAME_MAX = 27  # MDES accountHolderName is 1-27 characters
# Bump whenever the consent wording below (or on the review page) changes: each consent record names the version
# the cardholder saw, and the push refuses a consent given to another version.
CONSENT_TEXT_VERSION = "2026-12-02"
# What every Click to Pay profile needs (section 1.3), where the requestor accepts it.
NEEDED_KINDS = ("NAME", "EMAIL_ADDRESS", "MOBILE_PHONE_NUMBER")
_DIGEST_SALT = "provisioning.click_to_pay.consent"
# The billing address stores ISO alpha-3; the settings name countries in alpha-2. Click to Pay's countries
# (seed 002's regional availability) and the explicit opt-in ones; elsewhere the mobile number's country decides.
_ALPHA2 = {
    "ARE": "AE", "ARG": "AR", "AUS": "AU", "BRA": "BR", "CAN": "CA", "CHE": "CH", "COL": "CO", "CZE": "CZ",
    "DEU": "DE", "ESP": "ES", "GBR": "GB", "HKG": "HK", "IRL": "IE", "ITA": "IT", "KWT": "KW", "MEX": "MX",
    "MYS": "MY", "NLD": "NL", "NOR": "NO", "NZL": "NZ", "QAT": "QA", "SAU": "SA", "SGP": "SG", "SWE": "SE",
    "THA": "TH", "USA": "US", "ZAF": "ZA",
}  # fmt: skip


def is_click_to_pay(requestor: TokenRequestor) -> bool:
    return requestor.trid in settings.CLICK_TO_PAY_TOKEN_REQUESTOR_IDS


def _full_name(cardholder: Cardholder) -> str:
    user = cardholder.user
    return f"{user.first_name.strip()} {user.last_name.strip()}".strip()[:ACCOUNT_HOLDER_NAME_MAX]


def account_holder_data(cardholder: Cardholder | None, accepted: Sequence[str]) -> AccountHolderData | None:
    """Only the kinds of personal data the token requestor says it accepts, and only what is on file."""
    if cardholder is None or not accepted:
        return None
    address = None
    if cardholder.address_line1 and cardholder.address_country:
        address = BillingAddress(
            line1=cardholder.address_line1,
            line2=cardholder.address_line2 or None,
            city=cardholder.address_city or None,
            country_subdivision=cardholder.address_country_subdivision or None,
            postal_code=cardholder.address_postal_code or None,
            country=cardholder.address_country,
        )
    phone = None
    if cardholder.phone_number:
        parsed = phonenumbers.parse(cardholder.phone_number)
        phone = PhoneNumber(country_dial_in_code=str(parsed.country_code), phone_number=str(parsed.national_number))
    name = _full_name(cardholder)
    data = AccountHolderData(
        name=name if "NAME" in accepted and name else None,
        address=address if "ADDRESS" in accepted else None,
        email_address=cardholder.user.email if "EMAIL_ADDRESS" in accepted else None,
        mobile_phone_number=phone if "MOBILE_PHONE_NUMBER" in accepted else None,
    )
    return data if data.kinds else None


def data_digest(data: AccountHolderData | None) -> str:
    """HMAC-SHA-256 (keyed by the portal's secret) of the data's canonical JSON: proves later what was shown and
    sent without keeping it, and cannot be reversed by trying likely names and numbers without the key."""
    canonical = json.dumps(data.to_json() if data else {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return salted_hmac(_DIGEST_SALT, canonical, algorithm="sha256").hexdigest()


def cardholder_country(cardholder: Cardholder | None) -> str:
    """The cardholder's country (ISO alpha-2) for Click to Pay's terms: the billing address's, else the mobile
    number's, else the preferred locale's; "" when none says."""
    if cardholder is None:
        return ""
    if cardholder.address_country in _ALPHA2:
        return _ALPHA2[cardholder.address_country]
    if cardholder.phone_number:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(cardholder.phone_number))
        if region and region != "ZZ":
            return str(region)
    return cardholder.preferred_locale[3:] if len(cardholder.preferred_locale) == 5 else ""


@dataclass(frozen=True)
class ReviewItem:
    kind: str  # NAME, EMAIL_ADDRESS, MOBILE_PHONE_NUMBER, ADDRESS
    label: str
    value: str = field(repr=False)


@dataclass(frozen=True)
class ClickToPayReview:
    """What the push to Click to Pay would send, shown to the cardholder before they agree."""

    requestor: TokenRequestor
    items: tuple[ReviewItem, ...]
    missing: tuple[str, ...]  # needed kinds not on file
    country: str
    terms_url: str
    privacy_url: str
    explicit_opt_in: bool
    digest: str
    consent_version: str = CONSENT_TEXT_VERSION

    @property
    def available(self) -> bool:
        return not self.missing

    @property
    def kinds(self) -> list[str]:
        return [item.kind for item in self.items]

    @property
    def missing_words(self) -> str:
        """ "your mobile number", "your name and your e-mail address"."""
        words = [_kind_label(kind, owned=True) for kind in self.missing]
        if len(words) < 2:
            return "".join(words)
        return _("%(others)s and %(last)s") % {"others": ", ".join(words[:-1]), "last": words[-1]}

    @property
    def consent_text(self) -> str:
        """The words the cardholder agrees to (version CONSENT_TEXT_VERSION), on the page and in the API."""
        return _(
            "I agree that %(issuer)s shares the details above with Mastercard Click to Pay, to create or update my "
            "Click to Pay profile and add my card to it."
        ) % {"issuer": settings.PORTAL_ISSUER_NAME}

    @property
    def missing_reason(self) -> str:
        return _("Click to Pay needs %(missing)s, and we do not have it yet.") % {"missing": self.missing_words}


def _kind_label(kind: str, *, owned: bool = False) -> str:
    if owned:
        return {
            "NAME": _("your first and last name"),
            "EMAIL_ADDRESS": _("your e-mail address"),
            "MOBILE_PHONE_NUMBER": _("your mobile number"),
            "ADDRESS": _("your billing address"),
        }[kind]
    return {
        "NAME": _("Name"),
        "EMAIL_ADDRESS": _("E-mail address"),
        "MOBILE_PHONE_NUMBER": _("Mobile number"),
        "ADDRESS": _("Billing address"),
    }[kind]


def _address_words(address: BillingAddress) -> str:
    parts = [address.line1, address.line2, " ".join(p for p in (address.postal_code, address.city) if p)]
    return ", ".join(p for p in (*parts, address.country_subdivision, address.country) if p)


def _items(data: AccountHolderData | None) -> tuple[ReviewItem, ...]:
    if data is None:
        return ()
    items = []
    if data.name is not None:
        items.append(ReviewItem("NAME", _kind_label("NAME"), data.name))
    if data.email_address is not None:
        items.append(ReviewItem("EMAIL_ADDRESS", _kind_label("EMAIL_ADDRESS"), data.email_address))
    if data.mobile_phone_number is not None:
        phone = data.mobile_phone_number
        number = phonenumbers.parse(f"+{phone.country_dial_in_code}{phone.phone_number}")
        shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        items.append(ReviewItem("MOBILE_PHONE_NUMBER", _kind_label("MOBILE_PHONE_NUMBER"), shown))
    if data.address is not None:
        items.append(ReviewItem("ADDRESS", _kind_label("ADDRESS"), _address_words(data.address)))
    return tuple(items)


def click_to_pay_review(*, cardholder: Cardholder | None, requestor: TokenRequestor) -> ClickToPayReview:
    """Exactly the personal data a push to `requestor` would send, what is missing, and the terms to show."""
    accepted = list(requestor.supported_account_holder_data)
    data = account_holder_data(cardholder, accepted)
    present = data.kinds if data else frozenset()
    name_whole = cardholder is not None and bool(
        cardholder.user.first_name.strip() and cardholder.user.last_name.strip()
    )
    missing = tuple(
        kind
        for kind in NEEDED_KINDS
        if kind in accepted and (kind not in present or (kind == "NAME" and not name_whole))
    )
    country = cardholder_country(cardholder)
    return ClickToPayReview(
        requestor=requestor,
        items=_items(data),
        missing=missing if cardholder is not None else NEEDED_KINDS,
        country=country,
        terms_url=settings.CLICK_TO_PAY_TERMS_URLS.get(country, settings.CLICK_TO_PAY_TERMS_URL),
        privacy_url=settings.CLICK_TO_PAY_PRIVACY_URLS.get(country, settings.CLICK_TO_PAY_PRIVACY_URL),
        explicit_opt_in=country in settings.CLICK_TO_PAY_EXPLICIT_OPT_IN_COUNTRIES,
        digest=data_digest(data),
    )


@dataclass(frozen=True)
class ClickToPayAnswer:
    """What the cardholder answered on the review (the page's box, or the API's fields)."""

    given: bool
    version: str
    digest: str = ""  # the digest of the data the page showed; "" when the client did not send it (the API)


@dataclass(frozen=True)
class ClickToPayOffer:
    """Click to Pay on the choice step: its review, and the chosen cards already in it."""

    review: ClickToPayReview
    cards_there: list[Card]
    cards: list[Card]

    @property
    def requestor(self) -> TokenRequestor:
        return self.review.requestor

    @property
    def all_there(self) -> bool:
        return len(self.cards_there) == len(self.cards)


def click_to_pay_offers(
    *, cardholder: Cardholder | None, cards: Sequence[Card], choices: Sequence[RequestorChoice]
) -> list[ClickToPayOffer]:
    """The Click to Pay requestors among the choice step's `choices` for `cards`, each with its review and where the
    cards already are (the choices' own rule: a live token there)."""
    return [
        ClickToPayOffer(
            review=click_to_pay_review(cardholder=cardholder, requestor=choice.requestor),
            cards_there=[card for card, _since in choice.cards_there],
            cards=list(cards),
        )
        for choice in choices
        if is_click_to_pay(choice.requestor)
    ]
