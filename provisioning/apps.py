from django.apps import AppConfig
from django.core import checks


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Push provisioning"

    def ready(self) -> None:
        from provisioning.checks import check_network_configuration

        checks.register(check_network_configuration, "provisioning")
