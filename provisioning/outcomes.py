"""What happened to each card, in plain words for the cardholder (in the language of the request)."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from provisioning.models import NetworkCheck, PushReceipt


@dataclass(frozen=True)
class Outcome:
    tone: str  # success, warning, failure, pending (for styling and the icon)
    heading: str  # a word or two ("Added"), for lists
    text: str  # what happened and what to do next
    title: str = ""  # the message as a page heading ("Your Everyday Debit is in DemoPay")
    network_note: str = ""  # whether the card network confirmed it, or is still being asked


def _network_note(receipt: PushReceipt, requestor: str) -> str:
    notes = {
        NetworkCheck.PENDING: _("We are still checking this with the card network."),
        NetworkCheck.CONFIRMED: _("Confirmed by the card network."),
        NetworkCheck.CORRECTED: _(
            "The card network's records differ from what %(requestor)s first reported: this is the network's word."
        )
        % {"requestor": requestor},
        NetworkCheck.UNCHECKED: _("The card network could not confirm this yet."),
    }
    return notes.get(receipt.network_check, "")  # type: ignore[call-overload]


_Words = tuple[str, str | Promise, str | Promise, str | Promise]  # tone, heading, text, title (lazy msgids)

_REFUSED: _Words = (
    "failure",
    gettext_lazy("Not added"),
    gettext_lazy("Your card %(card)s cannot be added to %(requestor)s yet."),
    gettext_lazy("Your %(product)s cannot go into %(requestor)s yet"),
)
_EXPIRED: _Words = (
    "failure",
    gettext_lazy("Not added"),
    gettext_lazy("The request for %(card)s expired before %(requestor)s used it. Please start again."),
    gettext_lazy("The request for your %(product)s expired"),
)
_WAITING: _Words = (
    "pending",
    gettext_lazy("Not finished"),
    gettext_lazy("%(requestor)s has not told us yet what happened to %(card)s. Check %(requestor)s."),
    gettext_lazy("Waiting for %(requestor)s"),
)
_UNKNOWN: _Words = (
    "pending",
    gettext_lazy("Unknown"),
    gettext_lazy(
        "%(requestor)s did not say what happened to %(card)s. Check %(requestor)s; if it is not there, try again."
    ),
    gettext_lazy("%(requestor)s did not say what happened"),
)
# Streamlined activation (provisioning/activation.py): the token exists but the portal has not activated it yet.
_ACTIVATING: _Words = (
    "pending",
    gettext_lazy("Not active yet"),
    gettext_lazy(
        "Your card %(card)s is in %(requestor)s but not active yet: we are finishing its activation with the card "
        "network. You do not need to do anything; it is usually ready within a few minutes."
    ),
    gettext_lazy("Your %(product)s is not active in %(requestor)s yet"),
)
_NOT_ACTIVATED: _Words = (
    "failure",
    gettext_lazy("Not active"),
    gettext_lazy(
        "Your card %(card)s reached %(requestor)s but we could not activate it there, so it cannot be used yet. "
        "Call us and we will activate it, or remove it from %(requestor)s and add it again."
    ),
    gettext_lazy("Your %(product)s could not be activated in %(requestor)s"),
)
_BY_ACTIVATION: dict[str, _Words] = {
    PushReceipt.Activation.DUE: _ACTIVATING,
    PushReceipt.Activation.FAILED: _NOT_ACTIVATED,
}
_BY_RESULT: dict[str, _Words] = {
    PushReceipt.Result.APPROVED: (
        "success",
        gettext_lazy("Added"),
        gettext_lazy("Your card %(card)s is now in %(requestor)s."),
        gettext_lazy("Your %(product)s is in %(requestor)s"),
    ),
    PushReceipt.Result.DUPLICATE_REQUEST: (
        "success",
        gettext_lazy("Already there"),
        gettext_lazy("Your card %(card)s was already in %(requestor)s. Nothing changed."),
        gettext_lazy("Your %(product)s was already in %(requestor)s"),
    ),
    PushReceipt.Result.DECLINED: (
        "failure",
        gettext_lazy("Not added"),
        gettext_lazy("Adding %(card)s to %(requestor)s was declined. Contact us if you need help."),
        gettext_lazy("%(requestor)s declined your %(product)s"),
    ),
    PushReceipt.Result.CANCELLED: (
        "failure",
        gettext_lazy("Not added"),
        gettext_lazy("You cancelled adding %(card)s in %(requestor)s. You can try again at any time."),
        gettext_lazy("Your %(product)s was not added"),
    ),
    PushReceipt.Result.REQUIRE_ADDITIONAL_AUTHENTICATION: (
        "warning",
        gettext_lazy("One more step"),
        gettext_lazy(
            "%(requestor)s needs to check it is you before %(card)s can be used. Follow the steps in "
            "%(requestor)s, or call us and we will confirm it."
        ),
        gettext_lazy("One more step for your %(product)s in %(requestor)s"),
    ),
    # Merchants that save cards on file may authenticate the card after tokenizing it.
    PushReceipt.Result.AUTHENTICATED: (
        "success",
        gettext_lazy("Saved"),
        gettext_lazy("Your card %(card)s is saved at %(requestor)s and was confirmed there."),
        gettext_lazy("Your %(product)s is saved at %(requestor)s"),
    ),
    PushReceipt.Result.DELETED: (
        "failure",
        gettext_lazy("Not saved"),
        gettext_lazy("%(requestor)s did not keep %(card)s: it could not be confirmed there. You can try again."),
        gettext_lazy("%(requestor)s did not keep your %(product)s"),
    ),
    PushReceipt.Result.NOT_ADDED: (
        "failure",
        gettext_lazy("Not added"),
        gettext_lazy(
            "The card network has no record of %(card)s in %(requestor)s, so it was not added. You can try again."
        ),
        gettext_lazy("Your %(product)s is not in %(requestor)s"),
    ),
    PushReceipt.Result.ERROR: (
        "failure",
        gettext_lazy("Not added"),
        gettext_lazy("Something went wrong at %(requestor)s with %(card)s. Please try again later."),
        gettext_lazy("Your %(product)s could not be added"),
    ),
}


def _words(receipt: PushReceipt) -> tuple[_Words, bool]:
    """The words for the receipt, and whether the network's check of a reported result belongs with them."""
    if receipt.state == PushReceipt.State.REFUSED:
        return _REFUSED, False
    past_expiry = receipt.expires_at is not None and receipt.expires_at <= timezone.now()
    if receipt.state == PushReceipt.State.EXPIRED or (receipt.state == PushReceipt.State.ISSUED and past_expiry):
        # The sweep may not have marked it yet; expiry is a matter of time, not of the sweep.
        return _EXPIRED, False
    if receipt.state == PushReceipt.State.ISSUED:
        return _WAITING, False
    if receipt.activation in _BY_ACTIVATION:
        return _BY_ACTIVATION[receipt.activation], False
    return _BY_RESULT.get(receipt.result, _UNKNOWN), True


def receipt_outcome(receipt: PushReceipt, requestor: str) -> Outcome:
    names = {"card": f"•••• {receipt.card.last_four}", "requestor": requestor, "product": receipt.card.product_name}
    (tone, heading, text, title), reported = _words(receipt)
    network_note = _network_note(receipt, requestor) if reported else ""
    return Outcome(tone, str(heading), str(text) % names, str(title) % names, network_note)
