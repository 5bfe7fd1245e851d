"""Endpoints every deployment needs: a health probe, the CSP violation report sink, the refused-form page."""

import logging

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core.json_limits import json_loads_bounded

logger = logging.getLogger("portal.csp")
logger_security = logging.getLogger("portal.security")

_MAX_REPORT_BYTES = 16 * 1024
_MAX_REPORT_DEPTH = 4  # {"csp-report": {...}} is two levels


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def session_keep_alive(request: HttpRequest) -> HttpResponse:
    """Touching the session renews its idle timeout (SESSION_SAVE_EVERY_REQUEST); the absolute limit still holds."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    request.session.modified = True
    return HttpResponse(status=204)


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


@csrf_exempt  # browsers send CSP reports without a CSRF token; the view changes no state, it only logs
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """A browser's report-uri report: {"csp-report": {...}}. Anything else is refused, never half-read."""
    body = request.read(_MAX_REPORT_BYTES + 1)
    if len(body) > _MAX_REPORT_BYTES:
        return HttpResponse(status=413)
    try:
        document = json_loads_bounded(body, max_depth=_MAX_REPORT_DEPTH)
    except ValueError:
        return HttpResponse(status=400)
    report = document.get("csp-report") if isinstance(document, dict) else None
    if not isinstance(report, dict):
        return HttpResponse(status=400)
    logger.warning(
        "CSP violation",
        extra={
            "blocked_uri": str(report.get("blocked-uri", ""))[:200],
            "violated_directive": str(report.get("violated-directive", ""))[:100],
            "document_uri": str(report.get("document-uri", ""))[:200],
        },
    )
    return HttpResponse(status=204)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form in the portal's own words and styles (Django's page has inline styles the CSP blocks)."""
    logger_security.warning("CSRF refused", extra={"reason": reason[:200], "path": request.path[:200]})
    return render(request, "403_csrf.html", status=403)
