from typing import Any

from django.views.generic import TemplateView

from cardholders.selectors import card_list_for_user


class HomeView(TemplateView):
    """Start page: the signed-in cardholder's cards, or an invitation to sign in."""

    template_name = "cardholders/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["cards"] = list(card_list_for_user(user=user)) if user.is_authenticated else []
        return context
