"""The cardholder's cards and where each lives: the home page, "Check again", and pausing, resuming or removing a
card in a wallet or at a merchant (after a fresh second factor, as for a push)."""

from datetime import datetime
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders.selectors import card_list_for_user
from core.rate_limits import rate_limit_allows, rate_limit_wait_seconds, wait_text
from provisioning.mdes.errors import MdesError, MdesUnavailable
from provisioning.models import CardToken
from provisioning.places import CardPlaces, TokenPlace, card_places
from provisioning.selectors import card_token_of_user
from provisioning.tasks import refresh_card_tokens
from provisioning.tokens import (
    TokenActor,
    TokenChangeRefused,
    TokenChangeUnknown,
    card_tokens_refresh,
    token_remove,
    token_resume,
    token_suspend,
)
from users.models import User
from users.step_up import StepUpPurpose, step_up_first, step_up_is_fresh

# "Check again" asks the network while the cardholder waits: a few times per card list view is plenty.
CHECKS_PER_WINDOW = 10
CHECKS_PER_ADDRESS = 30
CHECK_WINDOW_SECONDS = 600
REMOVE_WHERE = ("device", "everywhere")


def home(request: HttpRequest) -> HttpResponse:
    """Start page: the signed-in cardholder's cards and where each lives, or an invitation to sign in."""
    places: list[CardPlaces] = []
    if request.user.is_authenticated:
        places = card_places(list(card_list_for_user(user=request.user)))
    return render(request, "provisioning/home.html", {"places": places})


def _to_home() -> HttpResponseRedirect:
    # The top of the page, where the message is (an anchor to the card would scroll past it).
    return HttpResponseRedirect(reverse("home"))


def _moment_words(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _check_wait(request: HttpRequest) -> int:
    return rate_limit_wait_seconds(request, "tokens-check", per_user=CHECKS_PER_WINDOW, per_address=CHECKS_PER_ADDRESS)


@never_cache
@login_required
@require_POST
def card_tokens_check(request: HttpRequest, public_id: str) -> HttpResponse:
    """ "Check again": ask the network now where the card is (a short timeout: the cardholder is waiting)."""
    user = cast(User, request.user)
    card = card_list_for_user(user=user).filter(public_id=public_id).first()
    if card is None:
        raise Http404("No such card")
    allowed = rate_limit_allows(
        request,
        "tokens-check",
        per_user=CHECKS_PER_WINDOW,
        per_address=CHECKS_PER_ADDRESS,
        window_seconds=CHECK_WINDOW_SECONDS,
    )
    if not allowed:
        audit_event_record(
            action="card_tokens.check_rate_limited",
            actor=user,
            target=card,
            outcome=AuditEvent.Outcome.FAILURE,
            request=request,
        )
        messages.error(
            request,
            gettext("You asked many times in a short time. You can check again in %(wait)s.")
            % {"wait": wait_text(_check_wait(request))},
        )
        return _to_home()
    try:
        card_tokens_refresh(card, quick=True)
    except MdesError as error:
        audit_event_record(
            action="card_tokens.check_failed",
            actor=user,
            target=card,
            outcome=AuditEvent.Outcome.FAILURE,
            detail=f"{type(error).__name__}: {error}",
            request=request,
        )
        if isinstance(error, MdesUnavailable):
            refresh_card_tokens.delay_on_commit(card.pk)  # the background tries again, with backoff
        checked_at = card_places([card])[0].checked_at
        if checked_at is None:
            message = gettext("We could not ask the card network just now. Please try again in a few minutes.")
        else:
            message = gettext(
                "We could not ask the card network just now. What you see for %(card)s is from %(when)s."
            ) % {"card": card, "when": _moment_words(checked_at)}
        messages.error(request, message)
        return _to_home()
    messages.success(request, gettext("We asked the card network just now where %(card)s is.") % {"card": card})
    return _to_home()


def _about(place: TokenPlace) -> str:
    """What the change is about, for the code page ("Everyday Debit •••• 4444 in DemoPay on Pixel 8")."""
    return gettext("%(card)s in %(where)s") % {"card": place.token.card, "where": place.where}


def _done(change: str, everywhere: bool, place: TokenPlace) -> str:
    words = {"card": place.token.card.product_name, "where": place.where, "name": place.name}
    if change == "pause":
        return gettext("%(card)s is paused in %(where)s. Payments there stop until you resume it.") % words
    if change == "resume":
        if place.token.status == CardToken.Status.SUSPENDED:
            return gettext("Your pause is lifted, but %(card)s stays paused in %(where)s. %(who)s") % {
                **words,
                "who": place.who_can_resume,
            }
        return gettext("%(card)s works again in %(where)s.") % words
    if everywhere:
        return gettext("%(card)s is removed from %(name)s everywhere.") % words
    return gettext("%(card)s is removed from %(where)s.") % words


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_change(request: HttpRequest, public_id: str, change: str) -> HttpResponse:
    """Pause, resume or remove one of the cardholder's cards where it lives: a page that says what will happen,
    then the change (POST). Both need a fresh second factor; the code page comes back here, to the same change."""
    user = cast(User, request.user)
    token = card_token_of_user(user=user, public_id=public_id)
    if token is None:
        raise Http404("No such card in a wallet")
    place = TokenPlace(token)
    if not step_up_is_fresh(request):
        return step_up_first(request, come_back_to=request.path, about=[_about(place)], purpose=StepUpPurpose(change))
    if request.method == "GET":
        return render(request, "provisioning/token_change.html", {"place": place, "change": change})
    actor = TokenActor.cardholder(user, request)
    where = request.POST.get("where")
    everywhere = where == "everywhere"
    if change == "remove" and (where not in REMOVE_WHERE or (where == "device" and not place.offers_device_only)):
        # A form that did not say where (or a forged "this device only" for a merchant): nothing was asked.
        messages.error(request, gettext("Choose where to remove the card from."))
        return _to_home()
    try:  # every refusal of provisioning.tokens is on record there
        if change == "pause":
            token = token_suspend(token, actor=actor)
        elif change == "resume":
            token = token_resume(token, actor=actor)
        else:
            token = token_remove(token, actor=actor, everywhere=everywhere)
    except TokenChangeRefused as refusal:
        messages.error(request, str(refusal))
    except TokenChangeUnknown as unknown:
        messages.warning(request, str(unknown))
    else:
        messages.success(request, _done(change, everywhere, TokenPlace(token)))
    return _to_home()
