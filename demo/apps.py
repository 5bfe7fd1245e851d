from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo tooling (seed data, TOTP codes for the seeded staff). Installed only when PORTAL_DEMO=1."""

    name = "demo"
    verbose_name = "Demo"
