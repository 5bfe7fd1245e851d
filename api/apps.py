from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from api import (
            schema,  # noqa: F401 - registers the API key scheme with drf-spectacular
            signals,  # noqa: F401 - ends a session's app tokens when it signs out
        )
