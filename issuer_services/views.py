"""The issuer services' single entry point: check the caller, read the body, call the operation, answer JSON.

Every refusal is MDES's error shape with a clear description and an audit event; a body that is not what W2
describes is a 400, never a server error.
"""

import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from core.metrics import ISSUER_SERVICE_REFUSALS, ISSUER_SERVICE_SECONDS
from issuer_services.authentication import caller_check
from issuer_services.services import OPERATIONS, refusal_record
from issuer_services.wire import ErrorCode, IssuerServiceError, body_object, errors_response, request_id_of

logger = logging.getLogger(__name__)


def _body(request: HttpRequest) -> bytes:
    if request.method != "POST":
        raise IssuerServiceError(ErrorCode.METHOD_NOT_ALLOWED, "Issuer services take POST only", status=405)
    if request.content_type != "application/json":
        raise IssuerServiceError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "The body must be application/json", status=415)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.ISSUER_SERVICES_MAX_BODY_BYTES:
        raise IssuerServiceError(ErrorCode.REQUEST_TOO_LARGE, "The body is larger than any MDES sends", status=413)
    return request.body


def _readable(body: bytes) -> object:
    """The body of a refused call as far as it reads, only to echo its requestId (W2 requires a responseId)."""
    try:
        return body_object(body)
    except IssuerServiceError:
        return None


@csrf_exempt
def issuer_service(request: HttpRequest, operation: str) -> JsonResponse:
    started = time.monotonic()
    handler = OPERATIONS.get(operation)
    label = operation if handler is not None else "unknown"  # metric labels: only the operations W2 names
    data: object = None
    body = b""
    try:
        if not settings.ISSUER_SERVICES_ENABLED or handler is None:
            raise IssuerServiceError(ErrorCode.NOT_FOUND, "No issuer service at this address", status=404)
        body = _body(request)
        caller_check(request, body)
        data = body_object(body)
        answer: dict[str, Any] = handler(data)
        status = 200
    except IssuerServiceError as error:
        request_id = request_id_of(data if data is not None else _readable(body)) or uuid.uuid4().hex
        if error.code != ErrorCode.NOT_FOUND:  # an address with no service refuses nobody (and scanners abound)
            refusal_record(operation=operation[:64], error=error, request_id=request_id, request=request)
        ISSUER_SERVICE_REFUSALS.labels(operation=label, code=error.code).inc()
        answer, status = errors_response(request_id, error.code, error.description), error.status
    seconds = time.monotonic() - started
    ISSUER_SERVICE_SECONDS.labels(operation=label, status=str(status)).observe(seconds)
    if seconds > settings.ISSUER_SERVICES_RESPONSE_BUDGET_SECONDS:
        logger.warning(
            "Issuer service answered later than MDES allows",
            extra={"operation": operation[:64], "seconds": round(seconds, 3), "status": status},
        )
    return JsonResponse(answer, status=status)
