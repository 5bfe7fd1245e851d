"""What happened to each card, in plain words for the cardholder (in the language of the request)."""

import dataclasses
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

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


def receipt_outcome(receipt: PushReceipt, requestor: str) -> Outcome:
    names = {"card": f"•••• {receipt.card.last_four}", "requestor": requestor, "product": receipt.card.product_name}
    if receipt.state == PushReceipt.State.REFUSED:
        return Outcome(
            "failure",
            _("Not added"),
            _("Your card %(card)s cannot be added to %(requestor)s yet.") % names,
            _("Your %(product)s cannot go into %(requestor)s yet") % names,
        )
    past_expiry = receipt.expires_at is not None and receipt.expires_at <= timezone.now()
    if receipt.state == PushReceipt.State.EXPIRED or (receipt.state == PushReceipt.State.ISSUED and past_expiry):
        # The sweep may not have marked it yet; expiry is a matter of time, not of the sweep.
        return Outcome(
            "failure",
            _("Not added"),
            _("The request for %(card)s expired before %(requestor)s used it. Please start again.") % names,
            _("The request for your %(product)s expired") % names,
        )
    if receipt.state == PushReceipt.State.ISSUED:
        return Outcome(
            "pending",
            _("Not finished"),
            _("%(requestor)s has not told us yet what happened to %(card)s. Check %(requestor)s.") % names,
            _("Waiting for %(requestor)s") % names,
        )
    texts = {
        PushReceipt.Result.APPROVED: Outcome(
            "success",
            _("Added"),
            _("Your card %(card)s is now in %(requestor)s.") % names,
            _("Your %(product)s is in %(requestor)s") % names,
        ),
        PushReceipt.Result.DUPLICATE_REQUEST: Outcome(
            "success",
            _("Already there"),
            _("Your card %(card)s was already in %(requestor)s. Nothing changed.") % names,
            _("Your %(product)s was already in %(requestor)s") % names,
        ),
        PushReceipt.Result.DECLINED: Outcome(
            "failure",
            _("Not added"),
            _("Adding %(card)s to %(requestor)s was declined. Contact us if you need help.") % names,
            _("%(requestor)s declined your %(product)s") % names,
        ),
        PushReceipt.Result.CANCELLED: Outcome(
            "failure",
            _("Not added"),
            _("You cancelled adding %(card)s in %(requestor)s. You can try again at any time.") % names,
            _("Your %(product)s was not added") % names,
        ),
        PushReceipt.Result.REQUIRE_ADDITIONAL_AUTHENTICATION: Outcome(
            "warning",
            _("One more step"),
            _(
                "%(requestor)s needs to check it is you before %(card)s can be used. Follow the steps in "
                "%(requestor)s, or call us and we will confirm it."
            )
            % names,
            _("One more step for your %(product)s in %(requestor)s") % names,
        ),
        # Merchants that save cards on file may authenticate the card after tokenizing it.
        PushReceipt.Result.AUTHENTICATED: Outcome(
            "success",
            _("Saved"),
            _("Your card %(card)s is saved at %(requestor)s and was confirmed there.") % names,
            _("Your %(product)s is saved at %(requestor)s") % names,
        ),
        PushReceipt.Result.DELETED: Outcome(
            "failure",
            _("Not saved"),
            _("%(requestor)s did not keep %(card)s: it could not be confirmed there. You can try again.") % names,
            _("%(requestor)s did not keep your %(product)s") % names,
        ),
        PushReceipt.Result.NOT_ADDED: Outcome(
            "failure",
            _("Not added"),
            _("The card network has no record of %(card)s in %(requestor)s, so it was not added. You can try again.")
            % names,
            _("Your %(product)s is not in %(requestor)s") % names,
        ),
        PushReceipt.Result.ERROR: Outcome(
            "failure",
            _("Not added"),
            _("Something went wrong at %(requestor)s with %(card)s. Please try again later.") % names,
            _("Your %(product)s could not be added") % names,
        ),
    }
    outcome = texts.get(
        receipt.result,  # type: ignore[call-overload]
        Outcome(
            "pending",
            _("Unknown"),
            _(
                "%(requestor)s did not say what happened to %(card)s. Check %(requestor)s; "
                "if it is not there, try again."
            )
            % names,
            _("%(requestor)s did not say what happened") % names,
        ),
    )
    return dataclasses.replace(outcome, network_note=_network_note(receipt, requestor))
