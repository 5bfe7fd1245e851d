"""Why a push cannot go on: one vocabulary for the cardholder pages, the landing pages and the API.

Each code carries the HTTP status every interface answers with and the message the person is shown. The API uses
the code itself as its problem `code`. What the network said (its reason codes) is kept on the push record, not
here.
"""

from enum import StrEnum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from provisioning.models import PushRequest


class PushErrorCode(StrEnum):
    NO_CARD = "no_card"
    NOT_YOUR_CARD = "not_your_card"
    CARD_STATE = "card_state"
    NOT_ELIGIBLE = "not_eligible"
    NOT_CONFIGURED = "not_configured"
    ALREADY_STARTED = "push_already_started"
    NETWORK_UNAVAILABLE = "network_unavailable"
    NETWORK_REFUSED = "network_refused"
    OUTCOME_UNKNOWN = "outcome_unknown"
    NO_RECEIPT = "no_receipt"
    NO_USABLE_PUSH_METHOD = "no_usable_push_method"
    CONSENT_REQUIRED = "consent_required"
    DETAILS_MISSING = "details_missing"
    DETAILS_CHANGED = "details_changed"

    @property
    def http_status(self) -> int:
        return _STATUS[self]

    @property
    def heading(self) -> str:
        """A short heading (the API problem's `title`)."""
        return str(_TITLES[self])

    def message(self, *, several_cards: bool = False, **params: Any) -> str:
        """What to tell the person, in the language of the request; `params` fill in the card, requestor, state."""
        text = _NOT_ELIGIBLE_TOGETHER if several_cards and self is PushErrorCode.NOT_ELIGIBLE else _MESSAGES[self]
        return str(text) % params if params else str(text)


_STATUS = {
    PushErrorCode.NO_CARD: 400,
    PushErrorCode.NOT_YOUR_CARD: 404,
    PushErrorCode.CARD_STATE: 409,
    PushErrorCode.NOT_ELIGIBLE: 409,
    PushErrorCode.NOT_CONFIGURED: 503,
    PushErrorCode.ALREADY_STARTED: 409,
    PushErrorCode.NETWORK_UNAVAILABLE: 502,
    PushErrorCode.NETWORK_REFUSED: 502,
    PushErrorCode.OUTCOME_UNKNOWN: 502,
    PushErrorCode.NO_RECEIPT: 502,
    PushErrorCode.NO_USABLE_PUSH_METHOD: 502,
    PushErrorCode.CONSENT_REQUIRED: 422,
    PushErrorCode.DETAILS_MISSING: 409,
    PushErrorCode.DETAILS_CHANGED: 409,
}

_CANNOT_PUSH = _("Cannot push")
_NETWORK_FAILED = _("The card network did not complete the push")
_TITLES: dict[PushErrorCode, Promise] = {
    PushErrorCode.NO_CARD: _CANNOT_PUSH,
    PushErrorCode.NOT_YOUR_CARD: _CANNOT_PUSH,
    PushErrorCode.CARD_STATE: _CANNOT_PUSH,
    PushErrorCode.NOT_ELIGIBLE: _CANNOT_PUSH,
    PushErrorCode.NOT_CONFIGURED: _("Not available"),
    PushErrorCode.ALREADY_STARTED: _("This request already started a push"),
    PushErrorCode.NETWORK_UNAVAILABLE: _NETWORK_FAILED,
    PushErrorCode.NETWORK_REFUSED: _NETWORK_FAILED,
    PushErrorCode.OUTCOME_UNKNOWN: _NETWORK_FAILED,
    PushErrorCode.NO_RECEIPT: _NETWORK_FAILED,
    PushErrorCode.NO_USABLE_PUSH_METHOD: _("The requestor cannot be opened on this platform"),
    PushErrorCode.CONSENT_REQUIRED: _("Consent required"),
    PushErrorCode.DETAILS_MISSING: _("Details missing"),
    PushErrorCode.DETAILS_CHANGED: _("Details changed"),
}

_MESSAGES: dict[PushErrorCode, Promise] = {
    PushErrorCode.NO_CARD: _("Choose at least one card."),
    PushErrorCode.NOT_YOUR_CARD: _("That card is not one of yours."),
    PushErrorCode.CARD_STATE: _("Your card %(card)s cannot be added while it is %(state)s."),
    PushErrorCode.NOT_ELIGIBLE: _(
        "%(requestor)s cannot take this card from this device. Choose another wallet or merchant."
    ),
    PushErrorCode.NOT_CONFIGURED: _("Adding cards to wallets is not available right now."),
    PushErrorCode.ALREADY_STARTED: _("This request was already sent."),
    PushErrorCode.NETWORK_UNAVAILABLE: _(
        "We could not reach the card network just now. Nothing was added; please try again in a few minutes."
    ),
    PushErrorCode.NETWORK_REFUSED: _("The card network did not accept this request. Nothing was added."),
    PushErrorCode.OUTCOME_UNKNOWN: _(
        "We could not confirm whether the card network received this request. If the card does not appear in "
        "your wallet within a few minutes, please start again."
    ),
    PushErrorCode.NO_RECEIPT: _(
        "None of the chosen cards could be added to %(requestor)s. They may not be eligible for it yet."
    ),
    PushErrorCode.NO_USABLE_PUSH_METHOD: _("%(requestor)s cannot be opened from this device."),
    PushErrorCode.CONSENT_REQUIRED: _(
        "Tick the box to agree that we share these details with %(requestor)s, or choose another wallet."
    ),
    PushErrorCode.DETAILS_MISSING: _("%(requestor)s needs %(missing)s. Add it to your details, then try again."),
    PushErrorCode.DETAILS_CHANGED: _(
        "Your details changed since you reviewed them. Please check them again before adding your card."
    ),
}


_NOT_ELIGIBLE_TOGETHER = _(
    "%(requestor)s cannot take these cards together from this device. Choose another wallet or merchant."
)


class PushError(Exception):
    """A push that cannot go on. `message` is for the person; the push (if one was recorded) ended FAILED, except
    for ALREADY_STARTED, where it is the earlier push of the same request."""

    def __init__(self, code: PushErrorCode, *, push: PushRequest | None = None, **params: Any) -> None:
        self.code = code
        self.message = code.message(**params)
        self.push = push
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        return self.code.http_status
