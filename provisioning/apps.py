from django.apps import AppConfig
from django.core import checks


class ProvisioningConfig(AppConfig):
    name = "provisioning"
    verbose_name = "Push provisioning"

    def ready(self) -> None:
        from core.health import readiness_check_register
        from provisioning.checks import check_network_configuration, network_keys_loadable

        checks.register(check_network_configuration, "provisioning")
        readiness_check_register("network_keys", network_keys_loadable)
