"""The page a "Was this you?" link opens (no sign-in): what was added where, and one button that suspends it.

GET only shows (link scanners open links; they must not suspend anything); POST acts, with Django's CSRF check.
The pages come in the cardholder's language (their message was in it). Every refused link is on record.
"""

import contextlib
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from audit.models import AuditEvent
from audit.services import audit_event_record
from core.rate_limits import rate_limit_allows_for
from issuer_services.token_alerts import (
    LinkLookup,
    LinkState,
    LinkUse,
    link_digest,
    link_language,
    link_refusal_record,
    token_alert_acknowledge,
    token_alert_by_link,
    token_alert_suspend,
)
from provisioning.places import TokenPlace

WINDOW_SECONDS = 600
LINK_LIMITS = (20, 60)  # per link, per client address, in WINDOW_SECONDS (check F1)
STATUS = {LinkState.USABLE: 200, LinkState.SPENT: 410, LinkState.EXPIRED: 410, LinkState.UNKNOWN: 404}


def _page(request: HttpRequest, lookup: LinkLookup, *, view: str, message: str = "", status: int = 200) -> HttpResponse:
    context: dict[str, Any] = {"view": view, "message": message, "alert": lookup.alert}
    if lookup.alert is not None:
        token = lookup.alert.token
        context |= {
            "place": TokenPlace(token),
            "card": token.card,
            "added_at": token.status_at or lookup.alert.created_at,
            "resume_url": reverse("provisioning:token_resume", args=[token.public_id]),
        }
    language = link_language(lookup)
    # An unknown link names no one: the page follows the browser's language then.
    with translation.override(language) if language else contextlib.nullcontext():
        return render(request, "issuer_services/token_alert.html", context, status=status)


def _too_many(request: HttpRequest) -> HttpResponse:
    audit_event_record(
        action="token_alert.rate_limited",
        outcome=AuditEvent.Outcome.FAILURE,
        detail=request.method or "",
        request=request,
    )
    response = render(request, "landing/too_many.html", status=429)
    response["Retry-After"] = str(WINDOW_SECONDS)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def token_alert_link(request: HttpRequest, link_token: str) -> HttpResponse:
    per_link, per_address = LINK_LIMITS
    allowed = rate_limit_allows_for(
        request,
        "token-alert-link",
        subject=f"link:{link_digest(link_token)}",
        per_subject=per_link,
        per_address=per_address,
        window_seconds=WINDOW_SECONDS,
    )
    if not allowed:
        return _too_many(request)
    if request.method == "GET":
        lookup = token_alert_by_link(link_token)
        if lookup.state != LinkState.USABLE:
            link_refusal_record(lookup, request, what="open")
            return _page(request, lookup, view=lookup.state, status=STATUS[lookup.state])
        return _page(request, lookup, view="ask")
    action = request.POST.get("action")
    if action == "suspend":
        use = token_alert_suspend(link_token, request)
        if use.done:
            return _page(request, use.lookup, view="suspended", message=use.message)
    elif action == "it_was_me":
        use = token_alert_acknowledge(link_token, request)
        if use.done:
            return _page(request, use.lookup, view="acknowledged")
    else:
        use = LinkUse(token_alert_by_link(link_token), message=gettext("Choose one of the two buttons."))
        link_refusal_record(use.lookup, request, what="no action")
    if use.lookup.state == LinkState.USABLE:  # the network refused or could not be reached, or no button was sent
        return _page(request, use.lookup, view="ask", message=use.message, status=409 if action == "suspend" else 400)
    return _page(request, use.lookup, view=use.lookup.state, status=STATUS[use.lookup.state])
