"""The OpenAPI description: generated from the code by drf-spectacular, checked in as api/openapi.yaml.

Also the authentication schemes for drf-spectacular, and helpers for problem responses and common parameters.
"""

from pathlib import Path
from typing import Any

from django.utils import translation
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from api.authentication import API_KEY_KEYWORD
from api.idempotency import HEADER, KEY_PATTERN
from api.problems import CONTENT_TYPE
from api.serializers import ProblemSerializer

CHECKED_IN = Path(__file__).resolve().parent / "openapi.yaml"

# Errors any authenticated endpoint may answer: an unreadable request (too many parameters, a NUL, a body too
# large: core.middleware.RequestLimitsMiddleware), bad credentials, wrong kind of caller, throttled.
COMMON_ERRORS = (400, 401, 403, 413, 429)
_TITLES = {
    400: "Invalid request (`validation_failed` lists the fields)",
    401: "No or invalid credentials",
    403: "Not allowed (wrong credential kind, CSRF, step-up)",
    404: "Not found (or not yours)",
    409: "Conflict",
    410: "Gone",
    413: "Request body too large",
    422: "Idempotency-Key reused for another request",
    429: "Too many requests (see Retry-After)",
    502: "The card network failed or refused",
    503: "Not available now",
}


class CardholderTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.CardholderTokenAuthentication"
    name = "cardholderToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`: an app token from POST /api/v1/auth/tokens/ (expires).",
        }


class BrowserSessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.CsrfSessionAuthentication"
    name = "browserSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        # Named as in production (secure cookies), whatever the local settings: the schema is the same everywhere.
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "__Host-sessionid",
            "description": "The portal's browser session; unsafe methods need the CSRF token (X-CSRFToken).",
        }


class ProgramApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ProgramApiKeyAuthentication"
    name = "programApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"`{API_KEY_KEYWORD} <key>`: a program manager's key, created by staff in the admin.",
        }


def problems(*statuses: int, common: bool = True) -> dict[tuple[int, str], OpenApiResponse]:
    """Problem responses (application/problem+json) for `statuses`, plus the common ones."""
    wanted = sorted(set(statuses) | (set(COMMON_ERRORS) if common else set()))
    return {(code, CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=_TITLES[code]) for code in wanted}


def idempotency_key_parameter(*, required: bool) -> OpenApiParameter:
    return OpenApiParameter(
        HEADER,
        type={"type": "string", "pattern": KEY_PATTERN, "maxLength": 64},
        location=OpenApiParameter.HEADER,
        required=required,
        description=(
            "New for each new request; a retry with the same key gets the first answer (header "
            "`Idempotent-Replayed: true`), a concurrent duplicate 409, another request under the same key 422."
        ),
    )


def openapi_yaml() -> bytes:
    """The schema as served at /api/v1/schema/ (in English: help texts are translatable)."""
    with translation.override("en"):
        schema = SchemaGenerator().get_schema(request=None, public=True)
        rendered: bytes = OpenApiYamlRenderer().render(schema, renderer_context={})
    return rendered
