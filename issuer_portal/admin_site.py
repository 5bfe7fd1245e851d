"""The staff admin site: staff status alone is not enough, the session must have passed a second factor."""

from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.http import urlencode

from core.urls_safety import safe_next

# The staff home, grouped by what staff do rather than by the Python package a model lives in.
TASK_SECTIONS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Token requestors", frozenset({"provisioning.tokenrequestor"})),
    ("Where cards live", frozenset({"provisioning.cardtoken"})),
    ("Pushes and landing links", frozenset({"provisioning.pushrequest", "landing.landinglink"})),
    ("Cards and cardholders", frozenset({"cardholders.card", "cardholders.cardholder", "cardholders.program"})),
    (
        "Wallet requests from MDES",
        frozenset({"issuer_services.tokenizationrequest", "issuer_services.decisionrules"}),
    ),
    (
        "Configuration",
        frozenset({"provisioning.networkconfiguration", "provisioning.jobrun", "api.programapikey"}),
    ),
    ("Audit", frozenset({"audit.auditevent", "axes.accessattempt", "axes.accessfailurelog", "axes.accesslog"})),
    ("Staff accounts", frozenset({"users.user", "auth.group"})),
)
# Libraries' own tables (API tokens, second factors, e-mail addresses, sites): only administrators have a use for
# them; other roles would only stumble on them. Sign-in lockouts (Axes) are the auditors', under Audit.
LIBRARY_APPS = frozenset({"knox", "mfa", "account", "sites"})


def session_passed_second_factor(request: HttpRequest) -> bool:
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


def _section(name: str, models: list[dict[str, Any]]) -> dict[str, Any]:
    # The admin's app_list template links a section's caption to app_url; a task section has no page of its own,
    # so its caption leads to its first list.
    url = next((model.get("admin_url") for model in models if model.get("admin_url")), "")
    return {"name": name, "app_label": name.lower().replace(" ", "-"), "app_url": url, "models": models}


class StaffAdminSite(admin.AdminSite):
    site_header = "Push Provisioning Portal — issuer staff"
    site_title = "Issuer staff"
    index_title = "Operations"

    def get_urls(self) -> list[URLPattern | URLResolver]:
        from issuer_portal.views import dashboard

        page = path("dashboard/", self.admin_view(lambda request: dashboard(request, self)), name="dashboard")
        return [page, *super().get_urls()]

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        models = {
            f"{app['app_label']}.{model['object_name'].lower()}": model
            for app in apps
            if request.user.is_superuser or app["app_label"] not in LIBRARY_APPS
            for model in app["models"]
        }
        sections = []
        for name, members in TASK_SECTIONS:
            chosen = [models.pop(key) for key in sorted(members) if key in models]
            if chosen:
                sections.append(_section(name, chosen))
        if models:  # everything else an administrator may see, so that nothing registered is unreachable
            sections.append(_section("Libraries", list(models.values())))
        return sections

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
