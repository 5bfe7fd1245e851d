from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from cardholders.forms import ADDRESS_FIELDS, ProfileForm
from cardholders.models import Cardholder
from cardholders.services import cardholder_language_set, cardholder_profile_update
from core.urls_safety import safe_next
from users.models import User
from users.step_up import StepUpPurpose, step_up_first, step_up_is_fresh


@require_POST
def language_choose(request: HttpRequest) -> HttpResponse:
    """The language switch: Django's set_language (a cookie, and back to the page), and for a signed-in
    cardholder their preferred locale, which outranks the browser from then on (in every browser)."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        cardholder = Cardholder.objects.filter(user=request.user).first()
        if cardholder is not None:
            cardholder_language_set(cardholder=cardholder, language=language, request=request)
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest) -> HttpResponse:
    """The cardholder's name, mobile number and billing address, then back to where they came from (`next`: the
    Click to Pay review). A fresh second factor first: the mobile number also receives one-time codes."""
    cardholder = Cardholder.objects.filter(user=cast(User, request.user)).select_related("user").first()
    if cardholder is None:
        raise Http404("No cardholder profile on this account")
    back = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if not step_up_is_fresh(request):
        about = [gettext("Your details")]
        return step_up_first(request, come_back_to=request.get_full_path(), about=about, purpose=StepUpPurpose.PROFILE)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            cardholder_profile_update(cardholder=cardholder, details=form.cleaned_data, request=request)
            messages.success(request, gettext("Your details are saved."))
            return HttpResponseRedirect(back)
    else:
        user = cardholder.user
        initial = {"first_name": user.first_name, "last_name": user.last_name, "phone_number": cardholder.phone_number}
        form = ProfileForm(initial=initial | {name: getattr(cardholder, name) for name in ADDRESS_FIELDS})
    return render(
        request,
        "cardholders/profile.html",
        {"form": form, "email": cardholder.user.email, "next": back},
        status=400 if form.errors else 200,
    )
