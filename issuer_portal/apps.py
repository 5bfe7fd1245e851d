from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with a default site that requires a second factor.

    Replacing the default site (rather than adding a second one) means every ModelAdmin, including those
    of third-party apps, lives behind the same check: there is no password-only side door.
    """

    default = False
    default_site = "issuer_portal.admin_site.StaffAdminSite"


class IssuerPortalConfig(AppConfig):
    name = "issuer_portal"
    verbose_name = "Issuer configuration"
