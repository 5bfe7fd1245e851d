"""The events the issuer's app backend hears of (by the `webhooks` app): a wallet request awaiting the cardholder.

The payload holds what the app needs to show the request and find it through the API, nothing more: no card
number, no name, no contact, no device identifier beyond the name the wallet shows.
"""

from issuer_services.models import TokenizationRequest
from webhooks.services import webhook_event_send

WALLET_REQUEST_PENDING = "wallet_request.pending"


def wallet_request_pending_announce(request: TokenizationRequest) -> None:
    """Once per request, when it is left waiting for the cardholder (sent after the transaction commits)."""
    if request.state != TokenizationRequest.State.PENDING:
        return
    card = request.card
    webhook_event_send(
        event_type=WALLET_REQUEST_PENDING,
        key=str(request.public_id),
        payload={
            "wallet_request_id": str(request.public_id),
            "wallet_name": request.consumer_facing_name,
            "device_name": request.device_name,
            "card_id": str(card.public_id),
            "card_last_four": card.last_four,
            "expires_at": request.expires_at.isoformat(),
        },
    )
