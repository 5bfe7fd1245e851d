"""Cross-cutting HTTP behaviour: request ids, headers Django does not set, the cardholder's language, the idle and
absolute session lifetimes."""

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext

from core.client_ip import client_ip
from core.request_context import set_client_ip, set_request_id
from core.sessions import session_idle_renew_if_due, session_idle_stamp_if_saved
from core.tracing import current_trace_id

SESSION_AUTHENTICATED_AT_KEY = "portal_authenticated_at"

Handler = Callable[[HttpRequest], HttpResponse]


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
