from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from django.views.i18n import set_language

from cardholders.models import Cardholder
from cardholders.selectors import card_list_for_user
from cardholders.services import cardholder_language_set


class HomeView(TemplateView):
    """Start page: the signed-in cardholder's cards, or an invitation to sign in."""

    template_name = "cardholders/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["cards"] = list(card_list_for_user(user=user)) if user.is_authenticated else []
        return context


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
