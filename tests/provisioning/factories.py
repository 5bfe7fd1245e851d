import secrets
from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from cardholders.models import Card
from provisioning.models import CardToken, DeviceEnvironment, PushReceipt, PushRequest, TokenRequestor
from provisioning.receipts import receipt_digest


class TokenRequestorFactory(DjangoModelFactory[TokenRequestor]):
    class Meta:
        model = TokenRequestor

    trid = factory.Sequence(lambda n: str(50123456789 + n))
    name = "DemoPay Ltd"
    consumer_facing_name = "DemoPay"
    requestor_type = TokenRequestor.Type.WALLET
    push_methods = factory.LazyFunction(lambda: [{"type": "WEB", "uri": "https://wallet.example/push"}])
    supports_token_connect = True


class PushFactory(DjangoModelFactory[PushRequest]):
    """A push whose MDES call succeeded, with one issued receipt for `card`, created step by step (so every state it
    passes through is a legal transition): `state` is started, pushed (the default) or redirected."""

    class Meta:
        model = PushRequest

    @classmethod
    def _create(
        cls,
        model_class: type[PushRequest],
        *args: Any,
        card: Card,
        token_requestor: TokenRequestor | None = None,
        state: str = "pushed",
        receipt: str | None = None,
        **fields: Any,
    ) -> PushRequest:
        push = PushRequest.objects.create(
            cardholder=card.cardholder,
            token_requestor=token_requestor or TokenRequestorFactory.create(),
            channel=PushRequest.Channel.WEB,
            device_environment=DeviceEnvironment.WEB,
            locale="en_US",
            network_environment="sandbox",
            request_id=secrets.token_hex(16),
            idempotency_key=secrets.token_hex(16),
        )
        receipt = receipt or "MCC-" + secrets.token_hex(16).upper()
        PushReceipt.objects.create(
            push=push,
            card=card,
            push_account_id="CA-" + secrets.token_hex(16),
            state=PushReceipt.State.ISSUED,
            receipt_digest=receipt_digest(receipt),
            receipt_hint=f"MCC…{receipt[-4:]}",
            expires_at=timezone.now() + timedelta(minutes=15),
        )
        if state != PushRequest.State.STARTED:
            push.transition_to(PushRequest.State.PUSHED)
            push.save()
        if state == PushRequest.State.REDIRECTED:
            push.transition_to(PushRequest.State.REDIRECTED)
            push.save()
        return push


class CardTokenFactory(DjangoModelFactory[CardToken]):
    """A token of `card` as the network described it: DemoPay on a phone, active, checked just now."""

    class Meta:
        model = CardToken

    card: Any = None
    token_requestor = factory.SubFactory(TokenRequestorFactory)
    trid = factory.LazyAttribute(lambda token: token.token_requestor.trid if token.token_requestor else "")
    token_requestor_name = "DemoPay"
    # Never a long run of digits, which the staff search refuses as a typed card number.
    token_unique_reference = factory.Sequence(lambda n: f"DSBXMC{n:08d}{'A1B2C3D4E5F6' * 3}")
    status = CardToken.Status.ACTIVE
    status_at = factory.LazyFunction(timezone.now)
    device_name = "Pixel 8"
    device_type = "21"
    token_suffix = "1234"
    checked_at = factory.LazyFunction(timezone.now)
