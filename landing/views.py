"""The landing page of a gift, expense or emergency card: open the link, prove possession, push the card.

The token in the link is exchanged on first GET for access in this browser session, then the browser is sent to
the link's clean address (the token leaves the address bar and is never sent as a referrer). Every view reloads
the link, so a link revoked or expired mid-flow stops at once.
"""

import secrets
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import audit_event_record
from core.qr_codes import qr_svg_data_uri
from core.rate_limits import rate_limit_allows_for
from landing import services
from landing.models import LandingLink
from landing.selectors import landing_link_history
from provisioning import services as provisioning
from provisioning.access import push_access_grant
from provisioning.click_to_pay import click_to_pay_offers, is_click_to_pay
from provisioning.devices import (
    TokenRequestorRedirect,
    csp_allow_form_action,
    device_environment,
    push_method_origins,
)
from provisioning.locales import network_locale
from provisioning.models import DeviceEnvironment, PushRequest
from provisioning.push_errors import PushError, PushErrorCode
from provisioning.selectors import token_requestor_choices, token_requestor_chosen

SESSION_KEY = "landing_access"  # {link public id: time the code was passed, 0 if not yet}
SENT_TO_KEY = "landing_code_sent_to"  # {link public id: where the last code went, masked}
WINDOW_SECONDS = 600
# (per link or token, per client address) in WINDOW_SECONDS; documented in the README (check F1).
OPEN_LIMITS = (20, 30)
PAGE_LIMITS = (60, 120)
CODE_SEND_LIMITS = (5, 20)
CODE_VERIFY_LIMITS = (10, 30)
PUSH_LIMITS = (10, 30)


def _no_referrer(response: HttpResponse) -> HttpResponse:
    """For answers at the token's address only: the clean pages keep the site's same-origin policy, which their
    forms need (with no-referrer, browsers send `Origin: null` and CSRF protection rightly refuses the post)."""
    response["Referrer-Policy"] = "no-referrer"
    return response


def _unavailable(request: HttpRequest) -> HttpResponse:
    """One answer for every token or page this browser cannot use, whatever the reason (no oracle)."""
    return render(request, "landing/unavailable.html", status=404)


def _too_many(request: HttpRequest, action: str, link: LandingLink | None) -> HttpResponse:
    audit_event_record(
        action="landing.rate_limited", target=link, outcome=AuditEvent.Outcome.FAILURE, detail=action, request=request
    )
    response = render(request, "landing/too_many.html", status=429)
    response["Retry-After"] = str(WINDOW_SECONDS)
    return response


def _allowed(request: HttpRequest, action: str, subject: str, limits: tuple[int, int]) -> bool:
    per_subject, per_address = limits
    return rate_limit_allows_for(
        request,
        action,
        subject=subject,
        per_subject=per_subject,
        per_address=per_address,
        window_seconds=WINDOW_SECONDS,
    )


def _access(request: HttpRequest, public_id: str) -> tuple[LandingLink | None, bool]:
    """The link if this session opened it, and whether its code was passed recently enough."""
    granted = request.session.get(SESSION_KEY, {})
    key = str(public_id)
    if not isinstance(granted, dict) or key not in granted:
        return None, False
    link = LandingLink.objects.select_related("card__program").filter(public_id=public_id).first()
    verified_at = float(granted[key] or 0)
    # As fresh as the cardholder flow's step-up must be (check D6).
    return link, bool(verified_at) and time.time() - verified_at <= settings.PORTAL_STEP_UP_MAX_AGE_SECONDS


def _usable(request: HttpRequest, public_id: str) -> tuple[LandingLink, bool] | HttpResponse:
    """The link and whether its code was passed, or the page to answer with: unavailable to a browser that did not
    open it, ended (expired, revoked, used up) to one that did. Every view asks anew, so a link stops mid-flow."""
    link, verified = _access(request, public_id)
    if link is None:
        return _unavailable(request)
    status = link.status()
    if status != LandingLink.Status.ACTIVE:
        return _ended(request, link, status)
    return link, verified


def _grant(request: HttpRequest, link: LandingLink, *, verified: bool) -> None:
    granted = dict(request.session.get(SESSION_KEY, {}))
    granted[str(link.public_id)] = time.time() if verified else granted.get(str(link.public_id), 0)
    request.session[SESSION_KEY] = granted


def _page_url(link: LandingLink) -> str:
    return reverse("landing:page", args=[link.public_id])


def _render_page(
    request: HttpRequest,
    link: LandingLink,
    *,
    verified: bool,
    error: str = "",
    error_field: str = "",
    status: int = 200,
) -> HttpResponse:
    device = device_environment(request.headers.get("User-Agent", ""))
    every_choice = token_requestor_choices(
        cards=[link.card], device=device, set_apart_trids=settings.CLICK_TO_PAY_TOKEN_REQUESTOR_IDS
    )
    choices = [choice for choice in every_choice if not is_click_to_pay(choice.requestor)]
    requestors = [choice.requestor for choice in choices]
    context: dict[str, Any] = {
        # A landing card belongs to no cardholder profile, so Click to Pay (which needs one) says why it is not here.
        "click_to_pay": click_to_pay_offers(cardholder=None, cards=[link.card], choices=every_choice),
        "link": link,
        "card": link.card,
        "art": link.art,
        "history": landing_link_history(link),
        "verified": verified,
        "choices": choices,
        "on_desktop": device == DeviceEnvironment.WEB,
        "error": error,
        "error_field": error_field,
    }
    if context["on_desktop"]:
        context["qr_image"] = qr_svg_data_uri(services.landing_phone_handoff_url(link=link))
        context["qr_minutes"] = int(services.PHONE_HANDOFF_LIFETIME.total_seconds() // 60)
    if verified:
        context["idempotency_key"] = secrets.token_urlsafe(24)
    else:
        context["channels"] = services.landing_code_channels(link)
        context["sent_to"] = request.session.get(SENT_TO_KEY, {}).get(str(link.public_id), "")
    response = render(request, "landing/card.html", context, status=status)
    if verified:
        csp_allow_form_action(response, push_method_origins(requestors, device))
    return response


def _ended(request: HttpRequest, link: LandingLink, status: str) -> HttpResponse:
    return render(request, "landing/ended.html", {"link": link, "status": status}, status=410)


@never_cache
@require_GET
def landing_open(request: HttpRequest, token: str) -> HttpResponse:
    """The address in the message: exchange the token for access in this session, then drop it from the URL."""
    if not _allowed(request, "landing-open", f"token:{services.token_digest(token)}", OPEN_LIMITS):
        return _no_referrer(_too_many(request, "open", None))
    link = services.landing_link_open(token=token, request=request)
    if link is None:
        return _no_referrer(_unavailable(request))
    _grant(request, link, verified=False)
    return _no_referrer(HttpResponseRedirect(_page_url(link)))


@never_cache
@require_GET
def landing_page(request: HttpRequest, public_id: str) -> HttpResponse:
    usable = _usable(request, public_id)
    if isinstance(usable, HttpResponse):
        return usable
    link, verified = usable
    if not _allowed(request, "landing-page", f"link:{link.pk}", PAGE_LIMITS):
        return _too_many(request, "page", link)
    return _render_page(request, link, verified=verified)


def _code_refused(request: HttpRequest, link: LandingLink, error: services.LandingError, *, field: str) -> HttpResponse:
    """The page again, the reason beside the field; 429 when it is a limit."""
    status = 429 if isinstance(error, services.LandingLimitError) else 400
    return _render_page(request, link, verified=False, error=str(error), error_field=field, status=status)


@never_cache
@require_POST
def landing_code(request: HttpRequest, public_id: str) -> HttpResponse:
    """Send a one-time code to the contact on file, or check the one typed in."""
    usable = _usable(request, public_id)
    if isinstance(usable, HttpResponse):
        return usable
    link, verified = usable
    action = request.POST.get("action")
    if action == "send":
        if not _allowed(request, "landing-code-send", f"link:{link.pk}", CODE_SEND_LIMITS):
            return _too_many(request, "code_send", link)
        try:
            channel = services.landing_code_send(
                link=link, channel_kind=request.POST.get("channel", ""), request=request
            )
        except services.LandingError as error:
            return _code_refused(request, link, error, field="channel")
        sent_to = dict(request.session.get(SENT_TO_KEY, {}))
        sent_to[str(link.public_id)] = channel.hint
        request.session[SENT_TO_KEY] = sent_to
        messages.success(request, gettext("We sent a code to %(hint)s.") % {"hint": channel.hint})
        return HttpResponseRedirect(_page_url(link))
    if action == "verify":
        if not _allowed(request, "landing-code-verify", f"link:{link.pk}", CODE_VERIFY_LIMITS):
            return _too_many(request, "code_verify", link)
        try:
            services.landing_code_verify(link=link, code=request.POST.get("code", ""), request=request)
        except services.LandingError as error:
            return _code_refused(request, link, error, field="code")
        request.session.cycle_key()  # possession proven: a new session key (ASVS 7.2.4)
        _grant(request, link, verified=True)
        return HttpResponseRedirect(_page_url(link))
    return _render_page(request, link, verified=verified, error=gettext("Choose what to do."), status=400)


@never_cache
@require_POST
def landing_push(request: HttpRequest, public_id: str) -> HttpResponse:
    """Push the link's card to the chosen wallet or merchant, then send the browser there with the receipt."""
    usable = _usable(request, public_id)
    if isinstance(usable, HttpResponse):
        return usable
    link, verified = usable
    if not verified:
        messages.info(request, gettext("Please confirm with a code first."))
        return HttpResponseRedirect(_page_url(link))
    if not _allowed(request, "landing-push", f"link:{link.pk}", PUSH_LIMITS):
        return _too_many(request, "push", link)
    requestor = token_requestor_chosen(request.POST.get("token_requestor", ""))
    if requestor is None:
        message = gettext("Choose a wallet or merchant first.")
        return _render_page(request, link, verified=True, error=message, error_field="token_requestor", status=400)
    back = _page_url(link)
    try:
        started = services.landing_push_start(
            link=link,
            token_requestor=requestor,
            device=device_environment(request.headers.get("User-Agent", "")),
            # The recipient has no stored preference: their browser's, else the configuration's default.
            locale=network_locale(
                accept_language=request.headers.get("Accept-Language", ""), preferred=None, fallback=""
            )
            or None,
            idempotency_key=provisioning.push_idempotency_key(
                channel=PushRequest.Channel.LANDING, scope=link.public_id, key=request.POST.get("idempotency_key", "")
            ),
        )
    except services.LandingError:
        link.refresh_from_db()
        return _ended(request, link, link.status())
    except PushError as error:
        if error.code is PushErrorCode.ALREADY_STARTED and error.push is not None:
            # The form was sent twice: show what the first one did (its key is bound to this link).
            return HttpResponseRedirect(reverse("provisioning:push_detail", args=[error.push.public_id]))
        if error.push is not None:
            push_access_grant(request, error.push, back_url=back)
        response = render(
            request,
            "provisioning/push_problem.html",
            {"message": error.message, "back": back, "push": error.push, "landing": True},
            status=error.http_status,
        )
        return response
    push_access_grant(request, started.push, back_url=back)
    return TokenRequestorRedirect(started.redirect_url)
