from typing import Any

from django.test import Client


class HttpsClient(Client):
    """django.test.Client whose every request is HTTPS (use the plain Client to test plain HTTP)."""

    def request(self, **request: Any) -> Any:
        request.update({"wsgi.url_scheme": "https", "SERVER_PORT": "443"})
        return super().request(**request)
