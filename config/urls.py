import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from cardholders import views as cardholder_views
from core import views as core_views
from provisioning import card_views

urlpatterns = [
    path("", card_views.home, name="home"),
    path("language/", cardholder_views.language_choose, name="language_choose"),
    path("profile/", cardholder_views.profile_edit, name="profile"),
    path("accounts/", include("allauth.urls")),
    path("", include("users.urls")),
    path("admin/", admin.site.urls),
    path("", include("provisioning.urls")),
    path("card/", include("landing.urls")),
    path("api/", include("api.urls")),
    path("mdes-issuer/", include("issuer_services.urls")),
    path("was-this-you/", include("issuer_services.token_alert_urls")),
    path(settings.ISSUER_SERVICES_APPROVAL_PATH.strip("/") + "/", include("issuer_services.wallet_request_urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("csp-report/", core_views.csp_report, name="csp_report"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's).
    path("favicon.ico", core_views.favicon),
    path("session/keep-alive/", core_views.session_keep_alive, name="session_keep_alive"),
]

if settings.MEDIA_URL.startswith("/"):
    # Media on this origin goes through a view that serves only raster images, sandboxed (docs/operations.md);
    # with MEDIA_URL on a separate origin, that origin serves it.
    media_prefix = re.escape(settings.MEDIA_URL.lstrip("/"))
    urlpatterns.append(re_path(rf"^{media_prefix}(?P<path>.+)$", core_views.media_file, name="media"))
