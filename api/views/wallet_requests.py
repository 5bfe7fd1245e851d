"""The cardholder's wallet requests for the issuer's app: list them, approve or decline one (the Wallet requests
page's twins; `issuer_services.wallet_requests` does the work). The app hears of a new one by the
`wallet_request.pending` webhook, whose `wallet_request_id` is the `id` here."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency import idempotent
from api.problems import Problem
from api.schema import idempotency_key_parameter, problems
from api.serializers import WalletRequestSerializer
from api.throttling import write_rate_limit_check
from api.views.base import CardholderApi
from issuer_services.models import TokenizationRequest
from issuer_services.wallet_requests import (
    WalletRequest,
    wallet_request_approve,
    wallet_request_decline,
    wallet_request_of,
    wallet_requests_of,
)
from provisioning.tokens import TokenActor, TokenChangeRefused, TokenChangeUnknown

# How each refusal is answered (any other: 409); its code becomes the problem's code.
_REFUSALS: dict[str, tuple[int, Any]] = {
    "already_answered": (409, gettext_lazy("Already answered")),
    "expired": (410, gettext_lazy("The request has expired")),
    "token_state": (409, gettext_lazy("Not possible now")),
    "network_refused": (502, gettext_lazy("The card network refused the change")),
    "network_unavailable": (503, gettext_lazy("The card network cannot be reached")),
}

_EXAMPLE = {
    "id": "5b0f6c3e-8c1d-4f3e-9a51-2f0e8c7d6b1a",
    "state": "waiting",
    "token_requestor": {
        "trid": "50100000011",
        "name": "DemoPay",
        "type": "WALLET",
        "logo": {"svg": "https://portal.example/api/v1/logos/demopay.svg", "png": None},
    },
    "device_name": "Pixel 9",
    "card": {"id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "product_name": "Everyday Debit", "last_four": "4444"},
    "created_at": "2025-05-02T09:14:03Z",
    "expires_at": "2025-05-03T09:14:03Z",
}
_ANSWER_DESCRIPTION = (
    "Sent to the card network at once (the token is activated, or deleted for good); the answer is the request as "
    "it then stands. Needs a recent step-up, as a push does (403 `step_up_required`). Refusals: 409 "
    "`already_answered`, 410 `expired` (nobody answered in time: the cardholder starts again in the wallet), 409 "
    "`token_state`, 502 `network_refused`, 503 `network_unavailable` (nothing was changed; try again later). 202: "
    "the network did not confirm in time and may have made the change; read the request again in a minute."
)
_ANSWER_RESPONSES: dict[Any, Any] = {
    200: WalletRequestSerializer,
    202: OpenApiResponse(WalletRequestSerializer, description="The network did not confirm in time; being checked."),
    **problems(403, 404, 409, 410, 502, 503),
}


def _not_found() -> Problem:
    return Problem(
        status_code=404, code="not_found", title=gettext("Not found"), detail=gettext("No such wallet request.")
    )


class WalletRequestsApi(CardholderApi):
    @extend_schema(
        operation_id="my_wallet_requests_list",
        responses={200: WalletRequestSerializer(many=True)},
        description=(
            "The wallet requests that wait for the cardholder (oldest deadline first), then those of the last seven "
            "days that were answered or expired, newest first."
        ),
        examples=[OpenApiExample("One waiting", value=[_EXAMPLE], response_only=True)],
    )
    def get(self, request: Request) -> Response:
        requests = wallet_requests_of(self.cardholder(request))
        serialized = WalletRequestSerializer(requests, many=True, context={"request": request})  # type: ignore[arg-type]  # many
        return Response(serialized.data)


def _answered(
    view: CardholderApi,
    request: Request,
    request_id: UUID,
    answer: Callable[[TokenizationRequest, TokenActor], Any],
) -> Response:
    cardholder = view.cardholder(request)
    found = wallet_request_of(cardholder, request_id)
    if found is None:
        raise _not_found()
    view.step_up_check(request)
    answered_status: int = status.HTTP_200_OK
    try:
        answer(found.record, TokenActor.cardholder(view.user(request), request._request))
    except TokenChangeUnknown:
        answered_status = status.HTTP_202_ACCEPTED
    except TokenChangeRefused as refused:
        status_code, title = _REFUSALS.get(refused.code, (409, gettext_lazy("Not possible now")))
        raise Problem(status_code=status_code, code=refused.code, title=str(title), detail=str(refused)) from refused
    now = wallet_request_of(cardholder, request_id)
    body: WalletRequest = now if now is not None else found
    return Response(WalletRequestSerializer(body, context={"request": request}).data, status=answered_status)


class WalletRequestApproveApi(CardholderApi):
    @extend_schema(
        operation_id="my_wallet_request_approve",
        request=None,
        parameters=[idempotency_key_parameter(required=False)],
        responses=_ANSWER_RESPONSES,
        examples=[OpenApiExample("Approved", value={**_EXAMPLE, "state": "approved"}, response_only=True)],
        description=f"Approve: the card can pay in that wallet or at that merchant. {_ANSWER_DESCRIPTION}",
    )
    @idempotent()
    def post(self, request: Request, request_id: UUID) -> Response:
        write_rate_limit_check(request, "wallet_request_answer")
        return _answered(self, request, request_id, lambda record, actor: wallet_request_approve(record, actor=actor))


class WalletRequestDeclineApi(CardholderApi):
    @extend_schema(
        operation_id="my_wallet_request_decline",
        request=None,
        parameters=[idempotency_key_parameter(required=False)],
        responses=_ANSWER_RESPONSES,
        examples=[OpenApiExample("Declined", value={**_EXAMPLE, "state": "declined"}, response_only=True)],
        description=f"Decline: the card is not added there (the token is deleted). {_ANSWER_DESCRIPTION}",
    )
    @idempotent()
    def post(self, request: Request, request_id: UUID) -> Response:
        write_rate_limit_check(request, "wallet_request_answer")
        return _answered(self, request, request_id, lambda record, actor: wallet_request_decline(record, actor=actor))
