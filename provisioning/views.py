"""The cardholder's push flow (choose, push, come back, see what happened) and token requestor logos."""

import secrets
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders.models import Card, Cardholder
from core.http_headers import sandboxed_file_headers
from core.qr_codes import qr_svg_data_uri
from core.rate_limits import rate_limit_allows, rate_limit_wait_seconds, wait_text
from core.urls_safety import safe_next
from provisioning import handoff, services
from provisioning.access import push_access_back_url
from provisioning.click_to_pay import ClickToPayAnswer, click_to_pay_offers, is_click_to_pay
from provisioning.devices import (
    TokenRequestorRedirect,
    csp_allow_form_action,
    device_environment,
    push_method_origins,
)
from provisioning.locales import network_locale
from provisioning.mdes.callback import CallbackResultsError, callback_results
from provisioning.models import DeviceEnvironment, LogoAsset, PushRequest, TokenRequestor
from provisioning.outcomes import receipt_outcome
from provisioning.push_errors import PushError, PushErrorCode
from provisioning.selectors import (
    MAX_CARDS_PER_PUSH,
    cards_chosen_for_push,
    token_requestor_choices,
    token_requestor_chosen,
)
from users.models import User
from users.step_up import step_up_first, step_up_is_fresh, step_up_seconds_left

PUSHES_PER_WINDOW = 10
PUSHES_PER_ADDRESS = 30
PUSH_WINDOW_SECONDS = 600
# An asset id never changes content, so browsers may keep a logo for a year without asking again.
LOGO_CACHE_CONTROL = "public, max-age=31536000, immutable"
# An SVG opened on its own must not run scripts or load anything: a sandboxed, resource-less document.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@require_GET
def token_requestor_logo(request: HttpRequest, asset_id: str, image_format: str) -> HttpResponse:
    logo = get_object_or_404(LogoAsset, asset_id=asset_id)
    if image_format == "svg" and logo.svg:
        response = HttpResponse(logo.svg, content_type="image/svg+xml")
    elif image_format == "png" and logo.png:
        response = HttpResponse(bytes(logo.png), content_type="image/png")
    else:
        raise Http404("No logo in that format")
    sandboxed_file_headers(response, filename=f"{asset_id}.{image_format}", policy=SVG_POLICY)
    response["Cache-Control"] = LOGO_CACHE_CONTROL
    return response


def _cardholder(request: HttpRequest) -> Cardholder:
    """The signed-in cardholder, as CardholderLanguageMiddleware already loaded it (no second query)."""
    try:
        return cast(User, request.user).cardholder
    except ObjectDoesNotExist:
        raise Http404("No cards on this account") from None


def _chosen_cards(request: HttpRequest, ids: list[str]) -> list[Card]:
    cards = cards_chosen_for_push(user=cast(User, request.user), ids=ids)
    if not cards:
        raise Http404("No such card")
    return cards


def _step_up_first(request: HttpRequest, come_back_to: str, cards: list[Card]) -> HttpResponseRedirect:
    return step_up_first(request, come_back_to=come_back_to, about=[str(card) for card in cards])


def _push_wait(request: HttpRequest) -> int:
    return rate_limit_wait_seconds(request, "push-start", per_user=PUSHES_PER_WINDOW, per_address=PUSHES_PER_ADDRESS)


@never_cache
@login_required
@require_GET
def choose_token_requestor(request: HttpRequest) -> HttpResponse:
    """Step 2: the chosen card(s) and the wallets and merchants that can take them from this device."""
    if not request.GET.getlist("card"):
        messages.info(request, gettext("Choose one or more cards first."))
        return HttpResponseRedirect(reverse("home"))
    cards = _chosen_cards(request, request.GET.getlist("card"))
    if not step_up_is_fresh(request):
        return _step_up_first(request, request.get_full_path(), cards)
    device = device_environment(request.headers.get("User-Agent", ""))
    every_choice = token_requestor_choices(
        cards=cards, device=device, set_apart_trids=settings.CLICK_TO_PAY_TOKEN_REQUESTOR_IDS
    )
    choices = [choice for choice in every_choice if not is_click_to_pay(choice.requestor)]
    requestors = [choice.requestor for choice in choices]
    push_wait = _push_wait(request)
    response = render(
        request,
        "provisioning/choose_token_requestor.html",
        {
            "cards": cards,
            "choices": choices,
            # Click to Pay has a place of its own (at parity with the wallets), reached through its review.
            "click_to_pay": click_to_pay_offers(cardholder=_cardholder(request), cards=cards, choices=every_choice),
            "card_query": urlencode([("card", c.public_id) for c in cards]),
            "too_many": len(cards) > MAX_CARDS_PER_PUSH,
            "on_desktop": device == DeviceEnvironment.WEB,
            "idempotency_key": secrets.token_urlsafe(24),
            "step_up_minutes_left": max(1, -(-step_up_seconds_left(request) // 60)),  # rounded up
            "push_wait": wait_text(push_wait) if push_wait else "",
        },
    )
    # The push form's answer redirects to the chosen requestor; browsers apply form-action to that redirect too.
    csp_allow_form_action(response, push_method_origins(requestors, device))
    return response


def _click_to_pay_page(
    request: HttpRequest,
    cards: list[Card],
    requestor: TokenRequestor,
    *,
    error: str = "",
    consent_error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The review before a push to Click to Pay: the data that will go, the terms, the consent box."""
    device = device_environment(request.headers.get("User-Agent", ""))
    offers = [
        offer
        for offer in click_to_pay_offers(
            cardholder=_cardholder(request), cards=cards, choices=token_requestor_choices(cards=cards, device=device)
        )
        if offer.requestor == requestor
    ]
    if not offers:
        raise Http404("Click to Pay cannot take these cards here")
    query = urlencode([("card", c.public_id) for c in cards] + [("token_requestor", requestor.pk)])
    here = f"{reverse('provisioning:click_to_pay')}?{query}"
    push_wait = _push_wait(request)
    response = render(
        request,
        "provisioning/click_to_pay_review.html",
        {
            "cards": cards,
            "offer": offers[0],
            "review": offers[0].review,
            "profile_url": f"{reverse('profile')}?{urlencode({'next': here})}",
            "back": f"{reverse('provisioning:choose')}?{urlencode([('card', c.public_id) for c in cards])}",
            "idempotency_key": secrets.token_urlsafe(24),
            "error": error,
            "consent_error": consent_error,
            "push_wait": wait_text(push_wait) if push_wait else "",
        },
        status=status,
    )
    csp_allow_form_action(response, push_method_origins([requestor], device))
    return response


@never_cache
@login_required
@require_GET
def click_to_pay_review(request: HttpRequest) -> HttpResponse:
    """Step 2b for Click to Pay: review the personal data it will get, read its terms, agree."""
    cards = _chosen_cards(request, request.GET.getlist("card"))
    if not step_up_is_fresh(request):
        return _step_up_first(request, request.get_full_path(), cards)
    requestor = token_requestor_chosen(request.GET.get("token_requestor", ""))
    if requestor is None or not is_click_to_pay(requestor):
        raise Http404("Not Click to Pay")
    return _click_to_pay_page(request, cards, requestor)


def _click_to_pay_answer(request: HttpRequest, requestor: TokenRequestor) -> ClickToPayAnswer | None:
    if not is_click_to_pay(requestor):
        return None
    return ClickToPayAnswer(
        given=request.POST.get("consent") == "yes",
        version=request.POST.get("consent_version", ""),
        digest=request.POST.get("data_digest", ""),
    )


# Refusals the review page itself explains (next to the box, or above the data), rather than a problem page.
_REVIEW_ERRORS = frozenset(
    {PushErrorCode.CONSENT_REQUIRED, PushErrorCode.DETAILS_MISSING, PushErrorCode.DETAILS_CHANGED}
)


@never_cache
@login_required
@require_POST
def push_start(request: HttpRequest) -> HttpResponse:
    """Step 3: push the cards, then send the browser to the token requestor with the receipts."""
    cardholder = _cardholder(request)
    # Receipts are bearer values: limit how many a user, or an address, can have minted.
    allowed = rate_limit_allows(
        request,
        "push-start",
        per_user=PUSHES_PER_WINDOW,
        per_address=PUSHES_PER_ADDRESS,
        window_seconds=PUSH_WINDOW_SECONDS,
    )
    if not allowed:
        audit_event_record(
            action="push.rate_limited", actor=request.user, outcome=AuditEvent.Outcome.FAILURE, request=request
        )
        return render(
            request,
            "provisioning/push_problem.html",
            {
                "message": gettext("You have started many requests in a short time. Please try again in %(wait)s.")
                % {"wait": wait_text(_push_wait(request))},
                "back": "/",
                "limited": True,  # no "Try again" next to a wait
            },
            status=429,
        )
    card_ids = request.POST.getlist("card")
    cards = _chosen_cards(request, card_ids)
    back = f"{reverse('provisioning:choose')}?{urlencode([('card', c.public_id) for c in cards])}"
    if not step_up_is_fresh(request):
        return _step_up_first(request, back, cards)
    requestor = token_requestor_chosen(request.POST.get("token_requestor", ""))
    if requestor is None:
        return render(
            request,
            "provisioning/push_problem.html",
            {"message": gettext("Choose a wallet or merchant first."), "back": back},
            status=400,
        )
    try:
        started = services.push_start(
            cardholder=cardholder,
            cards=cards,
            token_requestor=requestor,
            device=device_environment(request.headers.get("User-Agent", "")),
            locale=network_locale(
                accept_language=request.headers.get("Accept-Language", ""),
                preferred=cardholder.preferred_locale,
                fallback=cardholder.preferred_locale,
            ),
            idempotency_key=services.push_idempotency_key(
                channel=PushRequest.Channel.WEB, scope=cardholder.pk, key=request.POST.get("idempotency_key", "")
            ),
            click_to_pay_consent=_click_to_pay_answer(request, requestor),
            redirecting=True,
        )
    except PushError as error:
        if error.code in _REVIEW_ERRORS:
            consent_error = error.message if error.code is PushErrorCode.CONSENT_REQUIRED else ""
            return _click_to_pay_page(
                request,
                cards,
                requestor,
                error="" if consent_error else error.message,
                consent_error=consent_error,
                status=error.http_status,
            )
        already = error.code is PushErrorCode.ALREADY_STARTED
        if already and error.push is not None and error.push.cardholder_id == cardholder.pk:
            return HttpResponseRedirect(reverse("provisioning:push_detail", args=[error.push.public_id]))
        return render(
            request,
            "provisioning/push_problem.html",
            {"message": error.message, "back": back, "push": None if already else error.push},
            status=error.http_status,
        )
    return TokenRequestorRedirect(started.redirect_url)


class _SignInFirstError(Exception):
    pass


def _own_push(request: HttpRequest, public_id: str) -> tuple[PushRequest, str]:
    """The push, if it is this cardholder's or was granted to this session (a landing link's), and the page its
    confirmation leads back to. Someone else's push is simply not found: a foreign callback reveals nothing."""
    push = PushRequest.objects.select_related("token_requestor", "cardholder").filter(public_id=public_id).first()
    if push is not None:
        back = push_access_back_url(request, push)
        if back is not None:
            return push, back
        if request.user.is_authenticated and push.cardholder is not None and push.cardholder.user_id == request.user.pk:
            return push, reverse("home")
    if not request.user.is_authenticated:
        raise _SignInFirstError
    raise Http404("No such push")


def _sign_in_first(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': request.get_full_path()})}")


@never_cache
@require_GET
def push_return(request: HttpRequest, public_id: str) -> HttpResponse:
    """Step 4: the token requestor sends the cardholder back here with a result per receipt."""
    try:
        push, _ = _own_push(request, public_id)
    except _SignInFirstError:
        return _sign_in_first(request)
    try:
        results = callback_results((key, value) for key, values in request.GET.lists() for value in values)
    except CallbackResultsError as error:
        audit_event_record(
            action="push.callback_refused",
            target=push,
            outcome=AuditEvent.Outcome.FAILURE,
            detail=str(error),
            request=request,
        )
        message = gettext(
            "The wallet or merchant sent back an answer we cannot read. Check in the wallet or merchant whether "
            "the card was added."
        )
        context = {
            "title": gettext("We could not read the answer"),
            "message": message,
            "back": reverse("provisioning:push_detail", args=[push.public_id]),
            "landing": push.cardholder_id is None,
        }
        return render(request, "provisioning/push_problem.html", context, status=400)
    services.push_return(push=push, results=results)
    # Post/redirect/get: the receipts leave the address bar, and reloading the confirmation changes nothing.
    return HttpResponseRedirect(reverse("provisioning:push_detail", args=[push.public_id]))


@never_cache
@require_GET
def push_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        push, back = _own_push(request, public_id)
    except _SignInFirstError:
        return _sign_in_first(request)
    name = push.token_requestor.consumer_facing_name
    receipts = push.receipts.select_related("card").order_by("id")
    outcomes = [(r.card, receipt_outcome(r, name)) for r in receipts]
    return render(
        request,
        "provisioning/push_detail.html",
        {
            "push": push,
            "outcomes": outcomes,
            "requestor_name": name,
            "click_to_pay_added": is_click_to_pay(push.token_requestor)
            and any(outcome.tone == "success" for _, outcome in outcomes),
            "back": back,
        },
    )


@never_cache
@login_required
@require_POST
def continue_on_phone(request: HttpRequest) -> HttpResponse:
    """A QR code of a short-lived, single-use link that resumes this step on the phone, where the wallet is."""
    target = safe_next(request, request.POST.get("next"))
    user = cast(User, request.user)  # login_required: always a signed-in user here
    try:
        token = handoff.handoff_link_create(user=user, target=target)
    except handoff.HandoffLimitError:
        messages.error(
            request, gettext("You asked for several codes just now. Please use the last one or wait a few minutes.")
        )
        return HttpResponseRedirect(target)
    link = request.build_absolute_uri(reverse("provisioning:handoff", args=[token]))
    return render(
        request,
        "provisioning/continue_on_phone.html",
        {
            "qr_image": qr_svg_data_uri(link),
            "back": target,
            "minutes": int(handoff.LIFETIME.total_seconds() // 60),
        },
    )


@never_cache
@require_GET
def handoff_redeem(request: HttpRequest, token: str) -> HttpResponse:
    """Opened on the phone: remember where to resume, take the token out of the address bar, sign in."""
    link = handoff.handoff_link_redeem(token=token)
    if link is None:
        audit_event_record(
            action="handoff.refused",
            actor=request.user,
            outcome=AuditEvent.Outcome.FAILURE,
            detail="Unknown, used or expired link",
            request=request,
        )
        response = render(request, "provisioning/handoff_invalid.html", status=410)
    else:
        login = f"{reverse('account_login')}?{urlencode({'next': link.target})}"
        response = HttpResponseRedirect(link.target if request.user.pk == link.user_id else login)
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to the next page
    return response
