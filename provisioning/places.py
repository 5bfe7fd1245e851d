"""Where a cardholder's cards live, in the words of the cardholder's pages: each wallet or merchant holding a token
of a card, on which device, in which state and since when, what the cardholder may do there, and when the network
last described it. Reads the stored token records only: a page view never calls the network.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext

from cardholders.models import Card
from provisioning.models import CardToken, CardTokenCheck, TokenRequestor
from provisioning.selectors import tokens_of_cards
from provisioning.tokens import cardholder_may_resume

Party = CardToken.Party
Status = CardToken.Status
# The network's device type codes the pages name (mdes-beyond-the-push.md §3); others show the device name only.
DEVICE_KINDS = {"21": "phone", "23": "watch", "25": "computer"}
# "Checked just now" rather than "Checked 0 minutes ago".
JUST_NOW = timedelta(minutes=1)


def _list_words(words: list[str]) -> str:
    if len(words) < 2:
        return "".join(words)
    return gettext("%(others)s and %(last)s") % {"others": ", ".join(words[:-1]), "last": words[-1]}


@dataclass(frozen=True)
class TokenPlace:
    """One token of a card: a wallet or merchant (and device) where the card lives, or lived."""

    token: CardToken

    @property
    def name(self) -> str:
        requestor = self.token.token_requestor
        if requestor is not None:
            return requestor.consumer_facing_name
        return self.token.token_requestor_name or gettext("A wallet or merchant")

    @property
    def logo_asset_id(self) -> str | None:
        requestor = self.token.token_requestor
        return requestor.logo.asset_id if requestor is not None and requestor.logo is not None else None

    @property
    def is_merchant(self) -> bool:
        requestor = self.token.token_requestor
        return requestor is not None and requestor.requestor_type == TokenRequestor.Type.MERCHANT

    @property
    def device_name(self) -> str:
        return self.token.device_name

    @property
    def device_kind(self) -> str:
        """phone, watch, computer, or "" when the network did not say."""
        return DEVICE_KINDS.get(self.token.device_type, "")

    @property
    def device_kind_words(self) -> str:
        return {"phone": gettext("phone"), "watch": gettext("watch"), "computer": gettext("computer")}.get(
            self.device_kind, ""
        )

    @property
    def where(self) -> str:
        """ "DemoPay on Pixel 8", or the name alone when no device is known (a merchant)."""
        if self.device_name:
            return gettext("%(name)s on %(device)s") % {"name": self.name, "device": self.device_name}
        return self.name

    @property
    def state(self) -> str:
        """active, paused, pending or removed: the tone of the status on the page."""
        if not self.token.is_live:
            return "removed"
        if self.token.status == Status.ACTIVE:
            return "active"
        return "paused" if self.token.status == Status.SUSPENDED else "pending"

    @property
    def paused_by(self) -> list[str]:
        """Who paused it, as the page says it, in a fixed order."""
        words = {
            Party.CARDHOLDER: gettext("you"),
            Party.ISSUER: gettext("your bank"),
            Party.TOKEN_REQUESTOR: gettext("the merchant") if self.is_merchant else gettext("the wallet"),
            Party.NETWORK: gettext("the card network"),
        }
        parties = self.token.suspended_by
        return [word for party, word in words.items() if party in parties]

    @property
    def status_words(self) -> str:
        if self.state == "removed":
            return gettext("Removed")
        if self.state == "paused":
            return gettext("Paused by %(who)s") % {"who": _list_words(self.paused_by)}
        if self.state == "active":
            return gettext("Active")
        return gettext("Being set up")

    @property
    def since(self) -> datetime | None:
        return self.token.status_at or self.token.first_seen_at

    @property
    def removed_everywhere(self) -> bool:
        """Deleted in the network; a token removed from the device only stays there (DeleteFromConsumerApp)."""
        return self.token.status == Status.DELETED

    @property
    def may_pause(self) -> bool:
        return self.token.is_live and self.token.status == Status.ACTIVE

    @property
    def may_resume(self) -> bool:
        return self.token.is_live and cardholder_may_resume(self.token)

    @property
    def may_remove(self) -> bool:
        return self.token.is_live

    @property
    def paused_by_others(self) -> bool:
        """Paused, and not by the cardholder alone: only the others can resume it."""
        return self.state == "paused" and not self.may_resume

    @property
    def who_can_resume(self) -> str:
        """Whom to ask when someone else paused it."""
        parties = self.token.suspended_by
        if parties & {Party.ISSUER, Party.NETWORK}:
            return gettext("Only your bank can resume it: call us on the number on the back of your card.")
        return gettext("Only %(name)s can resume it. Open %(name)s or contact them to find out why.") % {
            "name": self.name
        }

    @property
    def offers_device_only(self) -> bool:
        """Whether "remove from this device only" means something: the token lives on a device (DeleteFromConsumerApp
        keeps it in the network); a merchant's token is simply removed."""
        return bool(self.token.device_name or self.token.device_type)

    @property
    def remove_here_words(self) -> str:
        return {
            "phone": gettext("Remove from this phone only"),
            "watch": gettext("Remove from this watch only"),
            "computer": gettext("Remove from this computer only"),
        }.get(self.device_kind, gettext("Remove from this device only"))


@dataclass(frozen=True)
class CardPlaces:
    """A card, where it lives (live tokens, newest first), where it was removed, and when the network last
    described its tokens (None: never asked)."""

    card: Card
    places: list[TokenPlace]
    removed: list[TokenPlace]
    checked_at: datetime | None

    @property
    def checked_just_now(self) -> bool:
        return self.checked_at is not None and timezone.now() - self.checked_at < JUST_NOW


def card_places(cards: Sequence[Card]) -> list[CardPlaces]:
    """Where each of `cards` lives, in their order (2 queries, however many cards and tokens).

    When last checked: the last full search of the card's tokens; a card never searched in full shows when its
    tokens were last described (the check after a push asks about that one wallet or merchant).
    """
    tokens = tokens_of_cards(cards)
    checked = dict(
        CardTokenCheck.objects.filter(card__in=cards, checked_at__isnull=False).values_list("card_id", "checked_at")
    )
    result = []
    for card in cards:
        places = [TokenPlace(token) for token in tokens[card.pk]]
        latest = max((place.token.checked_at for place in places), default=None)
        result.append(
            CardPlaces(
                card=card,
                places=[place for place in places if place.token.is_live],
                removed=[place for place in places if not place.token.is_live],
                checked_at=checked.get(card.pk) or latest,
            )
        )
    return result
