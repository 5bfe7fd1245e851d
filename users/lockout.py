"""How django-axes names the account behind a sign-in attempt (allauth signs in by e-mail)."""

from typing import Any

from django.http import HttpRequest


def username_from_credentials(request: HttpRequest, credentials: dict[str, Any]) -> str:
    value = credentials.get("email") or credentials.get("username") or request.POST.get("login") or ""
    return str(value).strip().lower()
