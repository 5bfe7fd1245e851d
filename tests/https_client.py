import time
from typing import Any

from django.test import Client

from users.models import User
from users.step_up import SESSION_KEY, SESSION_USER_KEY


class HttpsClient(Client):
    """django.test.Client whose every request is HTTPS (use the plain Client to test plain HTTP)."""

    def request(self, **request: Any) -> Any:
        request.update({"wsgi.url_scheme": "https", "SERVER_PORT": "443"})
        return super().request(**request)


def signed_in(user: User, *, stepped_up: bool = True) -> HttpsClient:
    """A client signed in as `user`, by default with a second factor passed a moment ago."""
    client = HttpsClient()
    client.force_login(user)
    if stepped_up:
        session = client.session
        session[SESSION_KEY], session[SESSION_USER_KEY] = time.time(), user.pk
        session.save()
    return client
