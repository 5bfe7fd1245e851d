"""Every query of the API, scoped by the caller: a cardholder's own rows, or a program's cards and links."""

from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet

from cardholders.models import Card, Program
from cardholders.selectors import card_list_for_user
from landing.models import LandingLink
from provisioning.models import CardToken, CardTokenCheck, PushReceipt, PushRequest, TokenRequestor
from provisioning.selectors import tokens_of_cards
from users.models import User


def _receipts_with_cards() -> "Prefetch[str, QuerySet[PushReceipt], str]":
    return Prefetch("receipts", queryset=PushReceipt.objects.select_related("card").order_by("id"))


def cardholder_cards(*, user: User) -> QuerySet[Card]:
    return card_list_for_user(user=user).select_related("program")


def cardholder_pushes(*, user: User) -> QuerySet[PushRequest]:
    return (
        PushRequest.objects.filter(cardholder__user=user)
        .select_related("token_requestor")
        .prefetch_related(_receipts_with_cards())
        .order_by("-created_at", "-id")
    )


def cardholder_push(*, user: User, public_id: UUID) -> PushRequest | None:
    return cardholder_pushes(user=user).filter(public_id=public_id).first()


def cardholder_card(*, user: User, public_id: UUID) -> Card | None:
    """One of the cardholder's cards, in any state (a closed card's tokens can still be removed)."""
    return Card.objects.filter(cardholder__user=user, public_id=public_id).first()


def card_tokens(*, card: Card) -> dict[str, object]:
    """The card, its tokens (newest first) and its last check by the network, as CardTokensSerializer reads them."""
    return {
        "card": card,
        "check": CardTokenCheck.objects.filter(card=card).first(),
        "tokens": tokens_of_cards([card])[card.pk],
    }


def cardholder_card_token(*, user: User, public_id: UUID) -> CardToken | None:
    """A token of one of the cardholder's cards."""
    return (
        CardToken.objects.filter(card__cardholder__user=user, public_id=public_id)
        .select_related("card__cardholder", "token_requestor__logo")
        .first()
    )


def token_requestor_by_trid(*, trid: str) -> TokenRequestor | None:
    return TokenRequestor.objects.filter(trid=trid).first()


def program_cards(*, program: Program) -> QuerySet[Card]:
    return Card.objects.filter(program=program).select_related("program").order_by("created_at", "id")


def program_card(*, program: Program, public_id: UUID) -> Card | None:
    return program_cards(program=program).filter(public_id=public_id).first()


def card_pushes(*, card: Card) -> QuerySet[PushRequest]:
    """Pushes of `card`: with a receipt (or refusal) for it, or started through one of its landing links."""
    return (
        PushRequest.objects.filter(Q(receipts__card=card) | Q(landing__link__card=card))
        .distinct()
        .select_related("token_requestor", "landing__link")
        .prefetch_related(
            Prefetch(
                "receipts",
                queryset=PushReceipt.objects.filter(card=card).select_related("card"),
                to_attr="receipts_of_card",
            )
        )
        .order_by("-created_at", "-id")
    )


def program_landing_links(*, program: Program, card: UUID | None = None) -> QuerySet[LandingLink]:
    links = LandingLink.objects.filter(card__program=program)
    if card is not None:
        links = links.filter(card__public_id=card)
    return links.select_related("card").order_by("-created_at", "-id")


def program_landing_link(*, program: Program, public_id: UUID) -> LandingLink | None:
    return program_landing_links(program=program).filter(public_id=public_id).first()
