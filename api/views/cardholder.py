"""The cardholder's API (the issuer's app, or the browser): cards, eligible requestors, pushes and their results.

The same services as the web pages do the work (`provisioning.services.push_start`, `push_return`).
"""

from typing import Any, cast
from uuid import UUID

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from api import selectors
from api.authentication import CardholderTokenAuthentication, CsrfSessionAuthentication, idempotency_scope
from api.idempotency import idempotency_key_of, idempotent, keep_body_until
from api.problems import Problem
from api.schema import idempotency_key_parameter, problems
from api.serializers import (
    CardSerializer,
    ClickToPayReviewQuerySerializer,
    ClickToPayReviewSerializer,
    EligibleTokenRequestorsQuerySerializer,
    PushResultReportedSerializer,
    PushResultSerializer,
    PushSerializer,
    PushStartedSerializer,
    PushStartSerializer,
    TokenIssuedSerializer,
    TokenRequestorSerializer,
)
from api.services import app_token_issue, app_token_pushes_until
from api.throttling import write_rate_limit_check
from api.views.base import CardholderApi, step_up_required
from audit.services import audit_event_record
from cardholders.models import Card
from provisioning import services
from provisioning.click_to_pay import ClickToPayAnswer, click_to_pay_offers, is_click_to_pay
from provisioning.locales import network_locale
from provisioning.mdes.callback import reported_result
from provisioning.mdes.types import receipt_hint
from provisioning.models import PushRequest
from provisioning.push_errors import PushError
from provisioning.selectors import cards_chosen_for_push, token_requestor_choices, token_requestors_eligible


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


def _unknown(field: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [serializers.ErrorDetail(message, code="not_found")]})


def _own_cards(view: CardholderApi, request: Request, ids: list[UUID]) -> list[Card]:
    cards = cards_chosen_for_push(user=view.user(request), ids=ids)
    if len(cards) != len(set(ids)):
        raise _unknown("cards" if request.method == "POST" else "card", gettext("No such card among yours."))
    return cards


# --- Tokens for the app -----------------------------------------------------------------------------------------------


class TokenCreateApi(CardholderApi):
    """Exchange a signed-in, just stepped-up browser session (the app's web view) for an app token."""

    authentication_classes = [CsrfSessionAuthentication]

    @extend_schema(
        operation_id="auth_token_create",
        request=None,
        parameters=[idempotency_key_parameter(required=False)],
        responses={201: TokenIssuedSerializer, **problems(400, 409, 410, 422)},
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        write_rate_limit_check(request, "token_create")
        issued = app_token_issue(request=request._request, user=self.user(request))
        if issued is None:
            raise step_up_required(request)
        instance, token, grant = issued
        pushes_until = app_token_pushes_until(grant)
        audit_event_record(
            action="api.token_issued",
            actor=request.user,
            after={
                "expires_at": instance.expiry.isoformat() if instance.expiry else None,
                "pushes_until": pushes_until.isoformat(),
            },
            request=request._request,
        )
        body = {"token": token, "expires_at": instance.expiry, "pushes_until": pushes_until}
        return Response(TokenIssuedSerializer(body).data, status=status.HTTP_201_CREATED)


class TokenCurrentApi(CardholderApi):
    """The app's token itself: deleting it signs the app out."""

    authentication_classes = [CardholderTokenAuthentication]

    @extend_schema(operation_id="auth_token_delete", responses={204: None, **problems()})
    def delete(self, request: Request) -> Response:
        token: AuthToken = request.auth  # type: ignore[assignment]  # knox: always the token used
        token.delete()
        audit_event_record(action="api.token_revoked", actor=request.user, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Cards and requestors ---------------------------------------------------------------------------------------------


class CardListApi(CardholderApi, ListAPIView[Card]):
    serializer_class = CardSerializer
    pagination_class = Pagination

    def get_queryset(self) -> Any:
        return selectors.cardholder_cards(user=self.user(self.request))

    @extend_schema(operation_id="my_cards_list", responses={200: CardSerializer(many=True), **problems()})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class EligibleTokenRequestorsApi(CardholderApi):
    @extend_schema(
        operation_id="my_token_requestors_list",
        parameters=[
            OpenApiParameter(
                "card", OpenApiTypes.UUID, many=True, required=True, description="Card id; repeat for several."
            ),
            OpenApiParameter("platform", OpenApiTypes.STR, enum=["ANDROID", "IOS", "WEB"], required=True),
        ],
        responses={200: TokenRequestorSerializer(many=True), **problems(400)},
    )
    def get(self, request: Request) -> Response:
        query = EligibleTokenRequestorsQuerySerializer(
            data={"card": request.query_params.getlist("card"), "platform": request.query_params.get("platform")}
        )
        query.is_valid(raise_exception=True)
        platform = query.validated_data["platform"]
        cards = _own_cards(self, request, query.validated_data["card"])
        requestors = token_requestors_eligible(cards=cards, device=platform)
        context = {"request": request, "platform": platform}
        serialized = TokenRequestorSerializer(requestors, many=True, context=context)  # type: ignore[arg-type]  # many
        return Response(serialized.data)


class ClickToPayReviewApi(CardholderApi):
    @extend_schema(
        operation_id="my_click_to_pay_review",
        parameters=[
            OpenApiParameter(
                "card", OpenApiTypes.UUID, many=True, required=True, description="Card id; repeat for several."
            ),
            OpenApiParameter("token_requestor", OpenApiTypes.STR, required=True, description="Click to Pay's trid."),
            OpenApiParameter("platform", OpenApiTypes.STR, enum=["ANDROID", "IOS", "WEB"], required=True),
        ],
        responses={200: ClickToPayReviewSerializer, **problems(400, 404)},
        description=(
            "Before a push to Click to Pay: exactly the personal data it would send, what is missing, the terms "
            "and privacy notice for the cardholder's country and the consent wording. Show them, then push with "
            "`consent_given: true` and this `consent_version`."
        ),
    )
    def get(self, request: Request) -> Response:
        query = ClickToPayReviewQuerySerializer(
            data={
                "card": request.query_params.getlist("card"),
                "token_requestor": request.query_params.get("token_requestor"),
                "platform": request.query_params.get("platform"),
            }
        )
        query.is_valid(raise_exception=True)
        cards = _own_cards(self, request, query.validated_data["card"])
        choices = token_requestor_choices(cards=cards, device=query.validated_data["platform"])
        offers = click_to_pay_offers(cardholder=self.cardholder(request), cards=cards, choices=choices)
        offer = next((o for o in offers if o.requestor.trid == query.validated_data["token_requestor"]), None)
        if offer is None:
            raise _unknown("token_requestor", gettext("Not a Click to Pay requestor that can take these cards."))
        return Response(ClickToPayReviewSerializer(offer).data)


# --- Pushes -----------------------------------------------------------------------------------------------------------


def _push_problem(error: PushError) -> Problem:
    """The push error as a problem; the push, if one was recorded, is named for GET /me/pushes/{id}/."""
    extra: dict[str, Any] = {"push_id": str(error.push.public_id)} if error.push is not None else {}
    if error.push is not None and error.push.error_code:
        extra["reason"] = error.push.error_code  # what the network said
    return Problem(
        status_code=error.http_status, code=str(error.code), title=error.code.heading, detail=error.message, **extra
    )


class PushesApi(CardholderApi, ListAPIView[PushRequest]):
    """GET: my past pushes and what happened to each card. POST: start a push."""

    serializer_class = PushSerializer
    pagination_class = Pagination

    def get_queryset(self) -> Any:
        return selectors.cardholder_pushes(user=self.user(self.request))

    @extend_schema(operation_id="my_pushes_list", responses={200: PushSerializer(many=True), **problems()})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="my_push_start",
        request=PushStartSerializer,
        parameters=[idempotency_key_parameter(required=True)],
        responses={201: PushStartedSerializer, **problems(400, 404, 409, 410, 422, 502, 503)},
        description=(
            "Push the chosen cards to the token requestor (pushMultipleAccounts). The answer holds the receipts "
            "(bearer values until `expires_at`) and the URI to open; a replay after they expired gets 410. "
            "Over a browser session, a recent step-up in that session is required (403 `step_up_required`)."
        ),
    )
    @idempotent(required=True)
    def post(self, request: Request) -> Response:
        write_rate_limit_check(request, "push_start")
        data = PushStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cards = _own_cards(self, request, data.validated_data["cards"])
        requestor = selectors.token_requestor_by_trid(trid=data.validated_data["token_requestor"])
        if requestor is None:
            raise _unknown("token_requestor", gettext("No such token requestor."))
        self.step_up_check(request)
        cardholder = self.cardholder(request)
        key = cast(str, idempotency_key_of(request))  # @idempotent(required=True) refused the request without it
        try:
            started = services.push_start(
                cardholder=cardholder,
                cards=cards,
                token_requestor=requestor,
                device=data.validated_data["platform"],
                locale=network_locale(
                    accept_language=request.headers.get("Accept-Language", ""),
                    preferred=cardholder.preferred_locale,
                    fallback=cardholder.preferred_locale,
                ),
                idempotency_key=services.push_idempotency_key(
                    channel=PushRequest.Channel.API, scope=idempotency_scope(request), key=key
                ),
                channel=PushRequest.Channel.API,
                request_digitization_data=True,
                click_to_pay_consent=ClickToPayAnswer(
                    given=data.validated_data["consent_given"],
                    version=data.validated_data["consent_version"],
                    digest=data.validated_data["data_digest"],
                )
                if is_click_to_pay(requestor)
                else None,
            )
        except PushError as error:
            raise _push_problem(error) from error
        expires_at = min(issued.expires_at for issued in started.issued)
        body = PushStartedSerializer({**vars(started), "expires_at": expires_at}).data
        return keep_body_until(Response(body, status=status.HTTP_201_CREATED), expires_at)


class PushDetailApi(CardholderApi):
    @extend_schema(operation_id="my_push_retrieve", responses={200: PushSerializer, **problems(404)})
    def get(self, request: Request, push_id: UUID) -> Response:
        push = selectors.cardholder_push(user=self.user(request), public_id=push_id)
        if push is None:
            raise Problem(
                status_code=404, code="not_found", title=gettext("Not found"), detail=gettext("No such push.")
            )
        return Response(PushSerializer(push).data)


class PushResultApi(CardholderApi):
    """The app reports the result per receipt the token requestor's callback carried; a replay changes nothing."""

    @extend_schema(
        operation_id="my_push_result_report",
        request=PushResultSerializer,
        parameters=[idempotency_key_parameter(required=False)],
        responses={200: PushResultReportedSerializer, **problems(400, 404, 409, 410, 422)},
    )
    @idempotent()
    def post(self, request: Request, push_id: UUID) -> Response:
        write_rate_limit_check(request, "push_result")
        data = PushResultSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        push = selectors.cardholder_push(user=self.user(request), public_id=push_id)
        if push is None:
            raise Problem(
                status_code=404, code="not_found", title=gettext("Not found"), detail=gettext("No such push.")
            )
        results = {
            item["receipt"]: reported_result(f"{item['result']}|{item.get('token_unique_reference', '')}")
            for item in data.validated_data["results"]
        }
        uses = services.push_return(push=push, results=results)
        push = selectors.cardholder_push(user=self.user(request), public_id=push_id) or push  # fresh receipts
        reported = [{"receipt_hint": receipt_hint(receipt), "use": str(use)} for receipt, use in uses.items()]
        return Response({**PushSerializer(push).data, "reported": reported})
