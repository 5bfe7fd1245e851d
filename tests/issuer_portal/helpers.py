import time

from django.test import Client

from core.sessions import SESSION_IDLE_RENEWED_AT_KEY
from tests.https_client import HttpsClient
from users.models import User


def staff_client(user: User) -> Client:
    """A client whose session passed password and second factor (the full flow is tested in test_admin_site)."""
    client = HttpsClient()
    client.force_login(user)
    session = client.session
    now = time.time()
    session["account_authentication_methods"] = [{"method": "password", "at": now}, {"method": "mfa", "at": now}]
    session["account_authentication_methods_user"] = str(user.pk)
    session[SESSION_IDLE_RENEWED_AT_KEY] = now  # as a sign-in through the pages leaves it
    session.save()
    return client
