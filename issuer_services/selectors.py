"""Reads of the tokenization requests MDES asked about."""

from django.db.models import QuerySet
from django.utils import timezone

from cardholders.models import Cardholder
from issuer_services.models import TokenizationRequest


def tokenization_requests_pending(*, cardholder: Cardholder) -> "QuerySet[TokenizationRequest]":
    """The cardholder's wallet requests still waiting for them (the page CARDHOLDER_TO_VISIT_WEBSITE points to),
    newest first."""
    return (
        TokenizationRequest.objects.filter(
            card__cardholder=cardholder,
            state=TokenizationRequest.State.PENDING,
            expires_at__gt=timezone.now(),
        )
        .select_related("card", "token_requestor")
        .order_by("-created_at", "-id")
    )
