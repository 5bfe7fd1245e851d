"""Token requestor logos for apps: the portal's own logo view, behind an API address, with an ETag.

An asset id never changes content, so the answer is public and immutable; a conditional request gets 304.
"""

from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from api.schema import problems
from provisioning.views import LOGO_CACHE_CONTROL, token_requestor_logo


class _AnyAccept(BaseContentNegotiation):
    """An image is what it is whatever Accept says; errors are still rendered as problems (the first renderer)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)


class LogoApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    content_negotiation_class = _AnyAccept

    @extend_schema(
        operation_id="logo_retrieve",
        auth=[],
        parameters=[OpenApiParameter("image_format", OpenApiTypes.STR, OpenApiParameter.PATH, enum=["svg", "png"])],
        responses={
            (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.BINARY, description="The logo as SVG."),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The logo as PNG."),
            304: OpenApiResponse(description="Not modified (If-None-Match)."),
            **problems(404, 429, common=False),
        },
    )
    def get(self, request: Request, asset_id: str, image_format: str) -> HttpResponseBase:
        etag = f'"{asset_id}.{image_format}"'
        not_modified = get_conditional_response(request._request, etag=etag)
        if not_modified is not None:
            not_modified["Cache-Control"] = LOGO_CACHE_CONTROL
            return not_modified
        response: HttpResponse = token_requestor_logo(request._request, asset_id, image_format)
        response["ETag"] = etag
        return response
