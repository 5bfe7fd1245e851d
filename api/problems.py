"""One error shape for the whole API: RFC 7807 problem details, served as application/problem+json.

Every error carries `type`, `title`, `status`, `detail` and a stable `code` that clients branch on (titles and
details are for people and may be translated). Validation errors also list `errors: [{field, code, message}]`,
with nested fields as dotted paths ("cards.0", "results.1.result").
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.problems import CONTENT_TYPE, problem_body

logger = logging.getLogger(__name__)


class Problem(exceptions.APIException):
    """An API error with a stable code; raise it from views, serializers' callers and the API's services."""

    def __init__(
        self,
        *,
        status_code: int,
        code: str,
        title: str,
        detail: str = "",
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail=detail or title, code=code)
        self.status_code = status_code
        self.problem_code = code
        self.title = title
        self.headers = dict(headers or {})
        self.extra = extra


def problem_response(
    *,
    status_code: int,
    code: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = problem_body(status_code=status_code, code=code, title=title, detail=detail, **extra)
    return Response(body, status=status_code, headers=dict(headers or {}), content_type=CONTENT_TYPE)


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    """DRF's nested error dicts and lists as a flat list naming each field by its dotted path."""
    if isinstance(detail, Mapping):
        errors = []
        for name, value in detail.items():
            field = "" if name in ("non_field_errors", "__all__") else str(name)
            errors += _flatten(value, f"{prefix}.{field}" if prefix and field else prefix or field)
        return errors
    if isinstance(detail, list) and any(isinstance(item, Mapping | list) for item in detail):
        errors = []
        for index, value in enumerate(detail):
            if value:  # DRF puts an empty dict for list items that were fine
                errors += _flatten(value, f"{prefix}.{index}" if prefix else str(index))
        return errors
    items = detail if isinstance(detail, list) else [detail]
    return [
        {"field": prefix or None, "code": getattr(item, "code", None) or "invalid", "message": str(item)}
        for item in items
    ]


# Stable codes and titles for the framework's own exceptions.
_KNOWN: dict[type[exceptions.APIException], tuple[str, Any]] = {
    exceptions.ParseError: ("malformed_request", gettext_lazy("Malformed request")),
    exceptions.AuthenticationFailed: ("authentication_failed", gettext_lazy("Authentication failed")),
    exceptions.NotAuthenticated: ("not_authenticated", gettext_lazy("Authentication required")),
    exceptions.PermissionDenied: ("permission_denied", gettext_lazy("Permission denied")),
    exceptions.NotFound: ("not_found", gettext_lazy("Not found")),
    exceptions.MethodNotAllowed: ("method_not_allowed", gettext_lazy("Method not allowed")),
    exceptions.NotAcceptable: ("not_acceptable", gettext_lazy("Not acceptable")),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", gettext_lazy("Unsupported media type")),
    exceptions.Throttled: ("throttled", gettext_lazy("Too many requests")),
}


def problem_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every exception of an API view becomes a problem response."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):  # Django refusing to read the request (too big, too many fields)
        too_big = isinstance(exc, RequestDataTooBig)
        return problem_response(
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if too_big else status.HTTP_400_BAD_REQUEST,
            code="request_too_large" if too_big else "malformed_request",
            title=gettext("The request body is too large") if too_big else gettext("Malformed request"),
            detail=gettext("Nothing was changed."),
        )
    if isinstance(exc, Problem):
        return problem_response(
            status_code=exc.status_code,
            code=exc.problem_code,
            title=exc.title,
            detail=str(exc.detail),
            headers=exc.headers,
            **exc.extra,
        )
    if isinstance(exc, exceptions.ValidationError):
        return problem_response(
            status_code=status.HTTP_400_BAD_REQUEST,
            code="validation_failed",
            title=gettext("The request has invalid fields"),
            detail=gettext("Correct the fields listed in `errors` and send the request again."),
            errors=_flatten(exc.detail),
        )
    if isinstance(exc, exceptions.APIException):
        code, title = next(
            ((c, t) for cls, (c, t) in _KNOWN.items() if isinstance(exc, cls)), ("error", gettext_lazy("Error"))
        )
        headers: dict[str, str] = {}
        auth_header = getattr(exc, "auth_header", None)  # set by APIView.handle_exception for a 401
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)  # seconds until a throttled caller may try again
        if isinstance(exc, exceptions.Throttled) and wait is not None:
            headers["Retry-After"] = str(int(wait) + 1)
        return problem_response(
            status_code=exc.status_code, code=code, title=str(title), detail=str(exc.detail), headers=headers
        )
    # Anything else is a bug: logged with its traceback (card numbers are masked by the log filter), answered in
    # the same shape without internals.
    logger.exception("Unhandled error in an API view")
    return problem_response(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        code="server_error",
        title=gettext("Server error"),
        detail=gettext("Something went wrong on our side. It has been logged; please try again later."),
    )
