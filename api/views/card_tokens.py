"""Where the cardholder's cards live (the issuer's app, or the browser): a card's tokens as the card network last
described them, asking the network again, and suspending, resuming and removing a token.

The same services as the web pages do the work (`provisioning.tokens`); a change needs the step-up a push needs.
"""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api import selectors
from api.idempotency import idempotent
from api.problems import Problem
from api.schema import idempotency_key_parameter, problems
from api.serializers import (
    CardTokenSerializer,
    CardTokensSerializer,
    TokenChangeUncheckedSerializer,
    TokenRemoveSerializer,
)
from api.throttling import write_rate_limit_check
from api.views.base import CardholderApi
from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders.models import Card
from provisioning.mdes.errors import MdesError
from provisioning.models import CardToken
from provisioning.tokens import (
    TokenActor,
    TokenChangeRefused,
    TokenChangeUnknown,
    card_tokens_refresh,
    token_remove,
    token_resume,
    token_suspend,
)
from users.models import User

_NOT_POSSIBLE = gettext_lazy("Not possible now")
# How each refusal of provisioning.tokens is answered (any other: 409); its code becomes the problem's code.
_REFUSALS: dict[str, tuple[int, Any]] = {
    "suspended_by_other": (403, gettext_lazy("Only your bank or the wallet can resume this")),
    "token_state": (409, _NOT_POSSIBLE),
    "network_refused": (502, gettext_lazy("The card network refused the change")),
    "network_unavailable": (503, gettext_lazy("The card network cannot be reached")),
}

_EXAMPLE_TOKEN = {
    "id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "token_requestor": {
        "trid": "50100000011",
        "name": "DemoPay",
        "type": "WALLET",
        "logo": {"svg": "https://portal.example/api/v1/logos/demopay.svg", "png": None},
    },
    "device_name": "Pixel 9",
    "device_type": "phone",
    "status": "suspended",
    "status_text": "Suspended by you",
    "suspended_by": ["cardholder"],
    "may_resume": True,
    "token_suffix": "8731",
    "status_at": "2025-05-02T09:14:03Z",
    "checked_at": "2025-05-02T09:14:04Z",
}
_EXAMPLE_ACTIVE = {
    **_EXAMPLE_TOKEN,
    "status": "active",
    "status_text": "Active",
    "suspended_by": [],
    "may_resume": False,
}
_EXAMPLE_REMOVED = {**_EXAMPLE_ACTIVE, "status": "removed_from_device", "status_text": "Removed from the device"}
_CHANGE_DESCRIPTION = (
    "Sent to the card network at once; the answer is the token as the network then describes it. Needs a recent "
    "step-up, as a push does (403 `step_up_required`). Refusals: 403 `suspended_by_other` (your bank, the wallet or "
    "the network suspended it: only they can resume it), 409 `token_state` (not possible in the token's status), "
    "502 `network_refused` (the network refused; `detail` gives its reason codes), 503 `network_unavailable` "
    "(nothing was changed; try again later). 202: the network did not confirm in time and may have made the "
    "change; the portal asks it again, so read the card's tokens in a minute."
)


def _not_found(what: str) -> Problem:
    return Problem(status_code=404, code="not_found", title=gettext("Not found"), detail=what)


def _own_card(view: CardholderApi, request: Request, card_id: UUID) -> Card:
    card = selectors.cardholder_card(user=view.user(request), public_id=card_id)
    if card is None:
        raise _not_found(gettext("No such card among yours."))
    return card


def _card_tokens_body(request: Request, card: Card) -> dict[str, Any]:
    return dict(CardTokensSerializer(selectors.card_tokens(card=card), context={"request": request}).data)


class CardTokensApi(CardholderApi):
    @extend_schema(
        operation_id="my_card_tokens_list",
        responses={200: CardTokensSerializer, **problems(404)},
        description=(
            "Where the card lives: every wallet or merchant holding a token of it, newest first (removed ones too), "
            "as the card network last described them; no network call. The portal asks the network after every "
            "push, in the background, and on POST …/check/."
        ),
        examples=[
            OpenApiExample(
                "A card in one wallet",
                value={
                    "card": {
                        "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                        "product_name": "Everyday Debit",
                        "last_four": "4444",
                    },
                    "checked_at": "2025-05-02T09:14:04Z",
                    "last_check_failed": False,
                    "tokens": [_EXAMPLE_TOKEN],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request, card_id: UUID) -> Response:
        return Response(_card_tokens_body(request, _own_card(self, request, card_id)))


class CardTokensCheckApi(CardholderApi):
    @extend_schema(
        operation_id="my_card_tokens_check",
        request=None,
        parameters=[idempotency_key_parameter(required=False)],
        responses={200: CardTokensSerializer, **problems(404, 409, 422, 503)},
        description=(
            'Ask the card network now for the card\'s tokens ("Check again"), with a short timeout; the answer is '
            "the list as GET gives it. 503 `network_unavailable`: the network could not be asked; the last list "
            "stays as it was (GET shows it, with `last_check_failed`)."
        ),
    )
    @idempotent()
    def post(self, request: Request, card_id: UUID) -> Response:
        write_rate_limit_check(request, "card_tokens_check")
        card = _own_card(self, request, card_id)
        try:
            card_tokens_refresh(card, quick=True)
        except MdesError as error:
            audit_event_record(
                action="api.card_tokens_check_failed",
                actor=request.user,
                target=card,
                outcome=AuditEvent.Outcome.FAILURE,
                detail=type(error).__name__,
                request=request._request,
            )
            raise Problem(
                status_code=503,
                code="network_unavailable",
                title=gettext("The card network cannot be reached"),
                detail=gettext(
                    "We could not ask the card network just now. The list is as it said last; please try again later."
                ),
            ) from error
        return Response(_card_tokens_body(request, card))


def _recorded(user: User, token_id: UUID) -> CardToken | None:
    """The token as recorded after the change, with its requestor and logo for the answer."""
    return selectors.cardholder_card_token(user=user, public_id=token_id)


def _token_changed(
    view: CardholderApi, request: Request, token_id: UUID, change: Callable[[CardToken, TokenActor], Any]
) -> Response:
    """Find the token (404 if not the caller's), check the step-up, make the change, answer the network's word."""
    user = view.user(request)
    token = selectors.cardholder_card_token(user=user, public_id=token_id)
    if token is None:
        raise _not_found(gettext("No such card token among yours."))
    view.step_up_check(request)
    try:
        change(token, TokenActor.cardholder(user, request._request))
    except TokenChangeUnknown as unknown:
        body = {"state": "being_checked", "message": str(unknown), "token": _recorded(user, token_id)}
        unchecked = TokenChangeUncheckedSerializer(body, context={"request": request})
        return Response(unchecked.data, status=status.HTTP_202_ACCEPTED)
    except TokenChangeRefused as refused:
        if refused.code == "not_your_card":
            raise _not_found(gettext("No such card token among yours.")) from refused
        status_code, title = _REFUSALS.get(refused.code, (409, _NOT_POSSIBLE))
        raise Problem(status_code=status_code, code=refused.code, title=str(title), detail=str(refused)) from refused
    return Response(CardTokenSerializer(_recorded(user, token_id), context={"request": request}).data)


_CHANGE_RESPONSES: dict[Any, Any] = {
    200: CardTokenSerializer,
    202: OpenApiResponse(
        TokenChangeUncheckedSerializer, description="The network did not confirm in time; being checked."
    ),
    **problems(403, 404, 409, 422, 502, 503),
}


class TokenSuspendApi(CardholderApi):
    @extend_schema(
        operation_id="my_card_token_suspend",
        request=None,
        parameters=[idempotency_key_parameter(required=False)],
        responses=_CHANGE_RESPONSES,
        examples=[OpenApiExample("Suspended", value=_EXAMPLE_TOKEN, response_only=True)],
        description=f"Suspend the token: the card cannot pay there until you resume it. {_CHANGE_DESCRIPTION}",
    )
    @idempotent()
    def post(self, request: Request, token_id: UUID) -> Response:
        write_rate_limit_check(request, "card_token_change")
        return _token_changed(self, request, token_id, lambda token, actor: token_suspend(token, actor=actor))


class TokenResumeApi(CardholderApi):
    @extend_schema(
        operation_id="my_card_token_resume",
        request=None,
        parameters=[idempotency_key_parameter(required=False)],
        responses=_CHANGE_RESPONSES,
        examples=[OpenApiExample("Active again", value=_EXAMPLE_ACTIVE, response_only=True)],
        description=(
            "Resume a token you suspended (`may_resume`); a suspension by your bank, the wallet or the network is "
            f"theirs to lift. {_CHANGE_DESCRIPTION}"
        ),
    )
    @idempotent()
    def post(self, request: Request, token_id: UUID) -> Response:
        write_rate_limit_check(request, "card_token_change")
        return _token_changed(self, request, token_id, lambda token, actor: token_resume(token, actor=actor))


class TokenRemoveApi(CardholderApi):
    @extend_schema(
        operation_id="my_card_token_remove",
        request=TokenRemoveSerializer,
        parameters=[idempotency_key_parameter(required=False)],
        responses={**_CHANGE_RESPONSES, **problems(400)},
        examples=[
            OpenApiExample("From this device only", value={"everywhere": False}, request_only=True),
            OpenApiExample("Removed from the device", value=_EXAMPLE_REMOVED, response_only=True),
        ],
        description=(
            "Remove the card from there: from the device or merchant only (`everywhere: false`; the network keeps "
            "the token for subscriptions), or everywhere, deleting the token in the network for good "
            f"(`everywhere: true`). {_CHANGE_DESCRIPTION}"
        ),
    )
    @idempotent()
    def post(self, request: Request, token_id: UUID) -> Response:
        write_rate_limit_check(request, "card_token_change")
        data = TokenRemoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        everywhere = data.validated_data["everywhere"]
        return _token_changed(
            self,
            request,
            token_id,
            lambda token, actor: token_remove(token, actor=actor, everywhere=everywhere),
        )
