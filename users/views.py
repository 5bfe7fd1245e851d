from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.urls_safety import safe_next
from users import step_up
from users.models import User

VERIFY_LIMIT = 10  # attempts per user in VERIFY_WINDOW seconds, on top of each code's own 5
VERIFY_WINDOW = 600


def _verify_allowed(user: User) -> bool:
    key = f"step-up-verify:{user.pk}"
    cache.add(key, 0, timeout=VERIFY_WINDOW)
    return cache.incr(key) <= VERIFY_LIMIT


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def step_up_view(request: HttpRequest) -> HttpResponse:
    """Confirm it is you: a code from your authenticator app, or one we send to your phone or e-mail."""
    user = cast(User, request.user)  # login_required: always a signed-in user here
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "send":
                channel = step_up.step_up_code_send(
                    request=request, user=user, channel_kind=request.POST.get("channel", "")
                )
                request.session["portal_step_up_sent_to"] = channel.hint
                messages.info(
                    request, gettext("We sent a code to %(hint)s. It expires in 5 minutes.") % {"hint": channel.hint}
                )
                return HttpResponseRedirect(f"{request.path}?next={next_url}")
            if action in ("verify_code", "verify_totp"):
                if not _verify_allowed(user):
                    raise step_up.StepUpError(gettext("Too many attempts. Please wait ten minutes and try again."))
                code = request.POST.get("code", "")
                if action == "verify_totp":
                    step_up.step_up_verify_totp(request=request, user=user, code=code)
                else:
                    step_up.step_up_verify_code(request=request, user=user, code=code)
                request.session.pop("portal_step_up_sent_to", None)
                return HttpResponseRedirect(next_url)
        except step_up.StepUpError as error:
            messages.error(request, str(error))
            status = 400
    context = {
        "next_url": next_url,
        "has_totp": step_up.has_totp(user),
        "channels": step_up.code_channels(user),
        "sent_to": request.session.get("portal_step_up_sent_to"),
    }
    return render(request, "users/step_up.html", context, status=status)
