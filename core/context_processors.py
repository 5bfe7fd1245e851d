from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core.sessions import session_idle_seconds_left


def portal(request: HttpRequest) -> dict[str, Any]:
    return {
        "portal_issuer_name": settings.PORTAL_ISSUER_NAME,
        "portal_environment_label": settings.PORTAL_ENVIRONMENT_LABEL,
        "portal_brand_colour": settings.PORTAL_BRAND_COLOUR,
        "portal_issuer_logo": settings.PORTAL_ISSUER_LOGO,
        "session_idle_seconds": session_idle_seconds_left(request.session)
        if hasattr(request, "session")
        else settings.SESSION_COOKIE_AGE,
    }
