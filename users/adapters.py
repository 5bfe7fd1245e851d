from typing import Any, cast

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse

from users.models import User
from users.views import second_factor_locked_page


class AccountAdapter(DefaultAccountAdapter):
    """Cardholders are the issuer's customers: accounts are provisioned by the issuer, not self-registered."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.PORTAL_SIGNUP_OPEN)

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse | None:
        """After the right password, a locked account (or address) is told so at once, not after its next code."""
        response: HttpResponse | None = super().pre_login(request, user, **kwargs)
        if response is None and is_mfa_enabled(user, [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]):
            response = second_factor_locked_page(request, cast(User, user))
        return response
