import math
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from audit.models import AuditEvent
from audit.services import audit_event_record
from core.rate_limits import rate_limit_allows, rate_limit_wait_seconds, wait_text
from core.urls_safety import safe_next
from users import step_up
from users.lockout import second_factor_lockout, second_factor_refusal_record
from users.models import User

# On top of each code's own 5 attempts and 3 sends per 10 minutes.
VERIFY_PER_USER, VERIFY_PER_ADDRESS = 10, 30
SEND_PER_USER, SEND_PER_ADDRESS = 10, 10
WINDOW_SECONDS = 600


def second_factor_locked_page(request: HttpRequest, user: User) -> HttpResponse | None:
    """The page that refuses a locked account or address at sign-in (with the time left); None if not locked."""
    lockout = second_factor_lockout(request, user)
    if lockout is None:
        return None
    second_factor_refusal_record(request, user, lockout)
    context = {"scope": lockout.scope, "minutes": math.ceil(lockout.seconds_left / 60)}
    response = render(request, "users/second_factor_locked.html", context, status=429)
    response["Retry-After"] = str(lockout.seconds_left)
    return response


def _send_wait(request: HttpRequest, user: User) -> int:
    return max(
        step_up.code_send_wait_seconds(user),
        rate_limit_wait_seconds(request, "step-up-send", per_user=SEND_PER_USER, per_address=SEND_PER_ADDRESS),
    )


def _verify_wait(request: HttpRequest) -> int:
    return rate_limit_wait_seconds(request, "step-up-verify", per_user=VERIFY_PER_USER, per_address=VERIFY_PER_ADDRESS)


def _too_many(seconds: int) -> str:
    return gettext("Too many attempts. Please try again in %(wait)s.") % {"wait": wait_text(seconds)}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def step_up_view(request: HttpRequest) -> HttpResponse:
    """Confirm it is you: a code from your authenticator app, or one we send to your phone or e-mail."""
    user = cast(User, request.user)  # login_required: always a signed-in user here
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    status = 200
    error = ""  # shown beside the code field it is about
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "send":
                if not rate_limit_allows(
                    request,
                    "step-up-send",
                    per_user=SEND_PER_USER,
                    per_address=SEND_PER_ADDRESS,
                    window_seconds=WINDOW_SECONDS,
                ):
                    raise step_up.StepUpLimitError(_too_many(_send_wait(request, user)))
                channel = step_up.step_up_code_send(
                    request=request, user=user, channel_kind=request.POST.get("channel", "")
                )
                request.session["portal_step_up_sent_to"] = channel.hint
                messages.info(
                    request, gettext("We sent a code to %(hint)s. It expires in 5 minutes.") % {"hint": channel.hint}
                )
                return HttpResponseRedirect(f"{request.path}?{urlencode({'next': next_url})}")
            if action in ("verify_code", "verify_totp"):
                if not rate_limit_allows(
                    request,
                    "step-up-verify",
                    per_user=VERIFY_PER_USER,
                    per_address=VERIFY_PER_ADDRESS,
                    window_seconds=WINDOW_SECONDS,
                ):
                    raise step_up.StepUpLimitError(_too_many(_verify_wait(request)))
                code = request.POST.get("code", "")
                if action == "verify_totp":
                    step_up.step_up_verify_totp(request=request, user=user, code=code)
                else:
                    step_up.step_up_verify_code(request=request, user=user, code=code)
                request.session.pop("portal_step_up_sent_to", None)
                return HttpResponseRedirect(next_url)
        except step_up.StepUpError as problem:
            if isinstance(problem, step_up.StepUpLimitError):
                audit_event_record(
                    action="step_up.rate_limited",
                    actor=user,
                    outcome=AuditEvent.Outcome.FAILURE,
                    after={"action": action},
                    request=request,
                )
            if action == "send":
                messages.error(request, str(problem))
            else:
                error = str(problem)
            status = 429 if isinstance(problem, step_up.StepUpLimitError) else 400
    context = {
        "next_url": next_url,
        # What the limits would refuse is not offered; the page says how long until it is.
        "send_wait": wait_text(_send_wait(request, user)) if _send_wait(request, user) else "",
        "verify_wait": wait_text(_verify_wait(request)) if _verify_wait(request) else "",
        "lifetime_minutes": max(1, settings.PORTAL_STEP_UP_MAX_AGE_SECONDS // 60),
        "for_cards": request.session.get(step_up.SESSION_FOR_KEY, []),
        "purpose": request.session.get(step_up.SESSION_PURPOSE_KEY, step_up.StepUpPurpose.PUSH),
        "has_totp": step_up.has_totp(user),
        "channels": step_up.code_channels(user),
        "sent_to": request.session.get("portal_step_up_sent_to"),
        "error": error,
        "error_action": request.POST.get("action", "") if error else "",
    }
    return render(request, "users/step_up.html", context, status=status)
