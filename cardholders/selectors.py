"""Read use cases for cardholders and their cards."""

from django.db.models import QuerySet

from cardholders.models import Card
from users.models import User


def card_list_for_user(*, user: User) -> QuerySet[Card]:
    """The signed-in person's own cards that can still be used, in a stable order."""
    cards = Card.objects.filter(cardholder__user=user).exclude(state=Card.State.CLOSED).select_related("program")
    return cards.order_by("product_name", "id")
