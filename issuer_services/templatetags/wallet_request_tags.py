"""`{% wallet_requests_waiting as count %}`: how many wallet requests wait for the signed-in cardholder (one query),
so that the home page can point to them without its view knowing of issuer services."""

from typing import Any

from django import template

from issuer_services.selectors import tokenization_requests_pending

register = template.Library()


@register.simple_tag(takes_context=True)
def wallet_requests_waiting(context: dict[str, Any]) -> int:
    user = context["request"].user
    cardholder = getattr(user, "cardholder", None) if user.is_authenticated else None
    return tokenization_requests_pending(cardholder=cardholder).count() if cardholder is not None else 0
