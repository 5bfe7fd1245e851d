"""The API's request bodies: JSON only, of bounded size and nesting (a bigger or deeper body is never parsed)."""

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

from api.problems import Problem
from core.json_limits import JsonTooDeepError, json_loads_bounded


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, reading at most API_MAX_REQUEST_BYTES (413 beyond) and refusing documents nested deeper
    than API_MAX_JSON_DEPTH (400). Every request body of the API is a small object of flat fields and lists."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        limit = settings.API_MAX_REQUEST_BYTES
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise Problem(
                status_code=413,
                code="request_too_large",
                title=gettext("The request body is too large"),
                detail=gettext("Send at most %(limit)d bytes.") % {"limit": limit},
            )
        try:
            return json_loads_bounded(data, max_depth=settings.API_MAX_JSON_DEPTH, parse_constant=strict_constant)
        except JsonTooDeepError as exc:
            raise exceptions.ParseError(
                gettext("JSON nested deeper than %(depth)d levels.") % {"depth": settings.API_MAX_JSON_DEPTH}
            ) from exc
        except ValueError as exc:
            raise exceptions.ParseError(gettext("The body is not valid JSON.")) from exc
