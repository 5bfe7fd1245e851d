"""Endpoints every deployment needs: liveness and readiness probes, the CSP violation report sink, the refused-form
page, and uploaded media served so that a browser can only show it as an image."""

import ipaddress
import logging
from pathlib import PurePosixPath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST, require_safe

from core.health import readiness
from core.http_headers import sandboxed_file_headers
from core.images import raster_format
from core.json_limits import json_loads_bounded
from core.metrics import metrics_exposition

logger = logging.getLogger("portal.csp")
logger_security = logging.getLogger("portal.security")

_MAX_REPORT_BYTES = 16 * 1024
_MAX_REPORT_DEPTH = 4  # {"csp-report": {...}} is two levels


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No dependency is asked, so a database outage never restarts the web tier."""
    return JsonResponse({"status": "ok"})


def internal_caller(request: HttpRequest) -> bool:
    """Staff, or a caller on this machine (the orchestrator's probe, Prometheus' sidecar): whom details may reach."""
    if getattr(request, "user", None) is not None and request.user.is_staff:
        return True
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when every dependency answers, else 503; which check failed and why only to internal callers."""
    results = readiness()
    ready = all(result.ok for result in results)
    body: dict[str, object] = {"status": "ok" if ready else "unavailable"}
    if internal_caller(request):
        body["checks"] = {result.name: {"ok": result.ok, "detail": result.detail} for result in results}
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape: the portal's figures, for staff and callers on this machine only (a 404 to others)."""
    if not internal_caller(request):
        raise Http404("Not found")
    body, content_type = metrics_exposition()
    return HttpResponse(body, content_type=content_type)


@never_cache
@require_GET
def session_keep_alive(request: HttpRequest) -> HttpResponse:
    """Saving the session renews its idle timeout (`core/sessions.py`); the absolute limit still holds."""
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


@require_safe
def media_file(request: HttpRequest, path: str) -> FileResponse:
    """An uploaded file (card art), only if its content is an accepted raster image, with the content type that
    content has and headers that keep it a sandboxed image whatever it was named (files stored before uploads
    were re-encoded are checked here too)."""
    try:
        stored = default_storage.open(path)
    except (OSError, SuspiciousFileOperation) as error:
        raise Http404("No such file") from error
    found = raster_format(stored)
    if found is None:
        stored.close()
        logger_security.warning("Media file refused: not an accepted image", extra={"path": path[:200]})
        raise Http404("No such image")
    stored.seek(0)
    response = FileResponse(stored, content_type=found.content_type)
    sandboxed_file_headers(response, filename=f"{PurePosixPath(path).stem}.{found.extension}")
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form in the portal's own words and styles (Django's page has inline styles the CSP blocks)."""
    logger_security.warning("CSRF refused", extra={"reason": reason[:200], "path": request.path[:200]})
    return render(request, "403_csrf.html", status=403)
