"""The staff admin site: staff status alone is not enough, the session must have passed a second factor."""

from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.http import urlencode

from core.urls_safety import safe_next


def session_passed_second_factor(request: HttpRequest) -> bool:
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


class StaffAdminSite(admin.AdminSite):
    site_header = "Push Provisioning Portal — issuer staff"
    site_title = "Issuer staff"
    index_title = "Operations"

    def get_urls(self) -> list[URLPattern | URLResolver]:
        from issuer_portal.views import dashboard

        page = path("dashboard/", self.admin_view(lambda request: dashboard(request, self)), name="dashboard")
        return [page, *super().get_urls()]

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and session_passed_second_factor(request)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Staff sign in through allauth, whose login flow includes the TOTP step; never a password-only form."""
        next_url = safe_next(request, request.GET.get("next"), default="admin:index")
        user = request.user
        if not user.is_authenticated:
            return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")
        if not (user.is_active and user.is_staff):
            messages.error(request, "This account has no access to the staff area.")
            return HttpResponseRedirect(reverse("home"))
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            messages.warning(request, "The staff area requires a second factor. Set up an authenticator app first.")
            return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{urlencode({'next': next_url})}")
        messages.info(request, "Confirm it is you with a code from your authenticator app.")
        return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': next_url})}")
