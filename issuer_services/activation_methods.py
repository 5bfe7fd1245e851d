"""The ways a cardholder can prove a wallet request is theirs (W2 activation methods), masked for the wallet.

Only what is on file and reachable: a text message to the cardholder's mobile number or an e-mail to their
address (as far as the message backend reaches: core.one_time_codes' channels on file), the portal's page of
wallet requests (ISSUER_SERVICES_APPROVAL_PATH on PORTAL_BASE_URL), and the issuer's app where it has one
(ISSUER_SERVICES_MOBILE_APP). A card without a cardholder (a landing-link card) has none.
"""

import enum
import logging

from django.conf import settings

from cardholders.models import Card
from core.one_time_codes import CodeChannel, OneTimeCodeChannel, code_channels_on_file
from issuer_services.wire import ActivationMethod

logger = logging.getLogger(__name__)

MAX_VALUE_LENGTH = 64  # W2's activationMethod.value


class MethodType(enum.StrEnum):
    TEXT_TO_CARDHOLDER_NUMBER = "TEXT_TO_CARDHOLDER_NUMBER"
    EMAIL_TO_CARDHOLDER_ADDRESS = "EMAIL_TO_CARDHOLDER_ADDRESS"
    CARDHOLDER_TO_VISIT_WEBSITE = "CARDHOLDER_TO_VISIT_WEBSITE"
    CARDHOLDER_TO_USE_MOBILE_APP = "CARDHOLDER_TO_USE_MOBILE_APP"


CODE_CHANNELS = {
    MethodType.TEXT_TO_CARDHOLDER_NUMBER: OneTimeCodeChannel.SMS,
    MethodType.EMAIL_TO_CARDHOLDER_ADDRESS: OneTimeCodeChannel.EMAIL,
}


def masked_phone(phone: str) -> str:
    return f"••• {phone[-4:]}"


def masked_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"[:MAX_VALUE_LENGTH]


def approval_url() -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + settings.ISSUER_SERVICES_APPROVAL_PATH


def code_channels(card: Card) -> list[CodeChannel]:
    cardholder = card.cardholder
    if cardholder is None:
        return []
    return code_channels_on_file(phone=cardholder.phone_number, email=cardholder.user.email)


def activation_methods_for(card: Card) -> list[ActivationMethod]:
    """The card's cardholder's methods, in the order a wallet lists them: codes first, then the page and the app."""
    if card.cardholder is None:
        return []
    methods = []
    for channel in code_channels(card):
        if channel.kind == OneTimeCodeChannel.SMS:
            methods.append(ActivationMethod(MethodType.TEXT_TO_CARDHOLDER_NUMBER, masked_phone(channel.address)))
        else:
            methods.append(ActivationMethod(MethodType.EMAIL_TO_CARDHOLDER_ADDRESS, masked_email(channel.address)))
    url = approval_url()
    if len(url) <= MAX_VALUE_LENGTH:
        methods.append(ActivationMethod(MethodType.CARDHOLDER_TO_VISIT_WEBSITE, url))
    else:
        logger.warning("The approval page's address is longer than MDES takes; it is not offered")
    if settings.ISSUER_SERVICES_MOBILE_APP:
        methods.append(
            ActivationMethod(MethodType.CARDHOLDER_TO_USE_MOBILE_APP, settings.ISSUER_SERVICES_MOBILE_APP[:64])
        )
    return methods


def code_channel_for(card: Card, method_type: str) -> CodeChannel | None:
    """Where a code chosen as `method_type` goes (None: that method takes no code, or nothing is on file)."""
    kind = CODE_CHANNELS.get(MethodType(method_type)) if method_type in MethodType.__members__ else None
    return next((channel for channel in code_channels(card) if channel.kind == kind), None) if kind else None
