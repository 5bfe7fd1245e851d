from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from cardholders.models import Cardholder
from cardholders.services import cardholder_language_set


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
