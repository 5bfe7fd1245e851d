from django.apps import AppConfig


class IssuerServicesConfig(AppConfig):
    name = "issuer_services"
    verbose_name = "MDES issuer services"

    def ready(self) -> None:
        from issuer_services import checks  # noqa: F401 - registers the configuration checks
