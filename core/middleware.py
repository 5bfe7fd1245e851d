"""Cross-cutting HTTP behaviour: request ids, refusing malformed requests, headers Django does not set, the
cardholder's language, the idle and absolute session lifetimes."""

import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render, resolve_url
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext

from core.client_ip import client_ip
from core.problems import CONTENT_TYPE as PROBLEM_CONTENT_TYPE
from core.problems import problem_body
from core.request_context import set_client_ip, set_request_id
from core.sessions import session_idle_renew_if_due, session_idle_stamp_if_saved
from core.tracing import current_trace_id

SESSION_AUTHENTICATED_AT_KEY = "portal_authenticated_at"

Handler = Callable[[HttpRequest], HttpResponse]

logger_security = logging.getLogger("portal.security")


class RequestIdMiddleware:
    """Gives every request an id (never taken from the client) for logs, audit events and the response, and
    remembers its client address for audit events recorded without the request at hand. With tracing on, the id
    is the request's trace id, so a log line leads to its trace."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = current_trace_id() or uuid.uuid4().hex
        set_request_id(request_id)
        set_client_ip(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            set_request_id("")
            set_client_ip(None)
        response["X-Request-ID"] = request_id
        return response


class RequestLimitsMiddleware:
    """Refuses, before anything parses them, requests no page or endpoint takes: a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE (413; multipart uploads excepted, Django limits their fields itself), more query
    parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS, or a NUL character in the path or query (400).

    Django refuses the first two itself, but only when something reads them, and a view or the API answered that
    with a server error (and with DEBUG on, the error page reads them again and fails). PostgreSQL refuses NUL in
    any text, so a NUL in an admin filter or a search was a server error too, whatever the database.
    Answers under /api/ are problems (RFC 7807), as every API error is.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = _request_refusal(request)
        if refusal is None:
            return self.get_response(request)
        status, code, title = refusal
        logger_security.warning("Request refused", extra={"reason": code, "path": request.path[:200]})
        if request.path.startswith("/api/"):
            body = problem_body(status_code=status, code=code, title=title, detail=gettext("Nothing was changed."))
            return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
        return render(request, "400.html", {"message": title}, status=status)


def _request_refusal(request: HttpRequest) -> tuple[int, str, str] | None:
    """(status, code, message) for a request to refuse, or None."""
    content_type = request.META.get("CONTENT_TYPE", "")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # Django reads no body then either
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and length > limit and not content_type.startswith("multipart/form-data"):
        return 413, "request_too_large", gettext("That request is too large for us to read.")
    query = request.META.get("QUERY_STRING", "")
    fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if fields is not None and query and query.count("&") + 1 > fields:  # as Django counts them (parse_qsl)
        return 400, "too_many_parameters", gettext("That address has more parameters than we read.")
    if "\x00" in request.path or "%00" in query or "\x00" in query:
        return 400, "invalid_characters", gettext("That address holds characters we do not accept.")
    return None


class SecurityHeadersMiddleware:
    """Headers SecurityMiddleware does not set, and no caching unless a view asks for it."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not response.has_header("Cache-Control"):
            # Pages may show card data or receipts; a view that serves something cacheable says so itself.
            add_never_cache_headers(response)
        return response


class IdleSessionRenewalMiddleware:
    """Slides the idle timeout (SESSION_COOKIE_AGE) with at most one session write a minute (`core/sessions.py`).

    Must come right after SessionMiddleware, so that its response phase runs before the session is saved.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session_idle_renew_if_due(request.session)
        response = self.get_response(request)
        session_idle_stamp_if_saved(request.session)
        return response


class CardholderLanguageMiddleware:
    """Speaks the signed-in cardholder's preferred language; everyone else keeps the browser's (LocaleMiddleware).

    Anonymous requests cost no query; a signed-in one costs at most one (the cardholder profile, which then stays
    cached on `request.user` for the view).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            try:
                locale = request.user.cardholder.preferred_locale
            except ObjectDoesNotExist:
                locale = ""
            language = locale[:2].lower()
            if language in {code for code, _ in settings.LANGUAGES}:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


class AbsoluteSessionLifetimeMiddleware:
    """Ends a signed-in session a fixed time after sign-in, however active it was (ASVS 7.3.2).

    The idle timeout is Django's sliding SESSION_COOKIE_AGE; this is the upper bound on top of it.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.setdefault(SESSION_AUTHENTICATED_AT_KEY, time.time())
            if time.time() - float(started) > settings.PORTAL_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, gettext("Your session has ended. Please sign in again."))
                return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        return self.get_response(request)
