"""The program manager's API (an API key of one program): its cards, their push history, their landing links.

Landing links are minted and revoked by `landing.services`, as staff do it in the admin.
"""

from typing import Any
from uuid import UUID

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from api import selectors
from api.idempotency import idempotent
from api.models import ProgramApiKey
from api.problems import Problem
from api.schema import idempotency_key_parameter, problems
from api.serializers import (
    CardPushSerializer,
    CardSerializer,
    LandingLinkCreateSerializer,
    LandingLinkMintedSerializer,
    LandingLinkSerializer,
)
from api.throttling import write_rate_limit_check
from api.views.base import ProgramApi
from api.views.cardholder import Pagination
from cardholders.models import Card, Program
from landing import services as landing
from landing.models import LandingLink
from provisioning.models import PushRequest


def _key(request: Request) -> ProgramApiKey:
    key: ProgramApiKey = request.auth  # type: ignore[assignment]  # IsProgramManager: always the key here
    return key


def _program(request: Request) -> Program:
    return _key(request).program


def _actor_label(request: Request) -> str:
    key = _key(request)
    return f"api-key:{key.name} ({key.prefix})"


def _not_found(what: str) -> Problem:
    return Problem(status_code=404, code="not_found", title=gettext("Not found"), detail=what)


class ProgramCardListApi(ProgramApi, ListAPIView[Card]):
    serializer_class = CardSerializer
    pagination_class = Pagination

    def get_queryset(self) -> Any:
        return selectors.program_cards(program=_program(self.request))

    @extend_schema(operation_id="program_cards_list", responses={200: CardSerializer(many=True), **problems()})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ProgramCardPushListApi(ProgramApi, ListAPIView[PushRequest]):
    """A card's push history: every push it took part in, and what happened to it."""

    serializer_class = CardPushSerializer
    pagination_class = Pagination

    def get_queryset(self) -> Any:
        card = selectors.program_card(program=_program(self.request), public_id=self.kwargs["card_id"])
        if card is None:
            raise _not_found(gettext("No such card in your program."))
        return selectors.card_pushes(card=card)

    @extend_schema(
        operation_id="program_card_pushes_list", responses={200: CardPushSerializer(many=True), **problems(404)}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class LandingLinksApi(ProgramApi, ListAPIView[LandingLink]):
    """GET: the program's landing links (newest first). POST: mint one for a card of the program."""

    serializer_class = LandingLinkSerializer
    pagination_class = Pagination

    def get_queryset(self) -> Any:
        card = serializers.UUIDField(allow_null=True).run_validation(self.request.query_params.get("card"))
        return selectors.program_landing_links(program=_program(self.request), card=card)

    @extend_schema(
        operation_id="program_landing_links_list",
        parameters=[OpenApiParameter("card", OpenApiTypes.UUID, description="Only the links of this card.")],
        responses={200: LandingLinkSerializer(many=True), **problems(400)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="program_landing_link_create",
        request=LandingLinkCreateSerializer,
        parameters=[idempotency_key_parameter(required=False)],
        responses={201: LandingLinkMintedSerializer, **problems(400, 409, 410, 422)},
        description="The answer is the only place the link's address (with its secret token) is ever shown.",
    )
    @idempotent()
    def post(self, request: Request) -> Response:
        write_rate_limit_check(request, "landing_link_create")
        data = LandingLinkCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        card = selectors.program_card(program=_program(request), public_id=fields.pop("card"))
        if card is None:
            raise serializers.ValidationError(
                {"card": [serializers.ErrorDetail(gettext("No such card in your program."), code="not_found")]}
            )
        deliver = fields.pop("deliver")
        try:
            # Delivery is a separate step, so that a link whose message could not be sent is still handed back.
            minted = landing.landing_link_mint(card=card, actor_label=_actor_label(request), deliver=False, **fields)
        except landing.LandingError as error:
            raise serializers.ValidationError(
                {error.field or "non_field_errors": [serializers.ErrorDetail(str(error), code=error.code)]}
            ) from error
        delivered_by = None
        if deliver:
            try:
                delivered_by = landing.landing_link_deliver(minted=minted)
            except landing.LandingError:
                delivered_by = None  # recorded in the audit trail by the service; the caller can send the url
        link = selectors.program_landing_link(program=_program(request), public_id=minted.link.public_id)
        body = {**LandingLinkSerializer(link).data, "url": minted.url, "delivered_by": delivered_by}
        return Response(body, status=status.HTTP_201_CREATED)


class LandingLinkDetailApi(ProgramApi):
    @extend_schema(
        operation_id="program_landing_link_retrieve", responses={200: LandingLinkSerializer, **problems(404)}
    )
    def get(self, request: Request, link_id: UUID) -> Response:
        link = selectors.program_landing_link(program=_program(request), public_id=link_id)
        if link is None:
            raise _not_found(gettext("No such landing link in your program."))
        return Response(LandingLinkSerializer(link).data)


class LandingLinkRevokeApi(ProgramApi):
    """Stop a link at once. Revoking a revoked link changes nothing and answers the same."""

    @extend_schema(
        operation_id="program_landing_link_revoke",
        request=None,
        parameters=[idempotency_key_parameter(required=False)],
        responses={200: LandingLinkSerializer, **problems(400, 404, 409, 410, 422)},
    )
    @idempotent()
    def post(self, request: Request, link_id: UUID) -> Response:
        write_rate_limit_check(request, "landing_link_revoke")
        link = selectors.program_landing_link(program=_program(request), public_id=link_id)
        if link is None:
            raise _not_found(gettext("No such landing link in your program."))
        landing.landing_link_revoke(link=link, actor_label=_actor_label(request))
        link = selectors.program_landing_link(program=_program(request), public_id=link_id) or link
        return Response(LandingLinkSerializer(link).data)
