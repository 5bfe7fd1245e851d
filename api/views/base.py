"""Base classes of the API's views: who may call, and the answer to unknown addresses."""

from typing import Any

from rest_framework import exceptions
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from api.authentication import CardholderTokenAuthentication, CsrfSessionAuthentication, ProgramApiKeyAuthentication
from api.permissions import IsCardholder, IsProgramManager
from api.throttling import refused_credential_check
from cardholders.models import Cardholder
from users.models import User


class CredentialApi(APIView):
    """A view that needs a credential: requests refused for theirs are limited per client address (check F1)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        try:
            super().initial(request, *args, **kwargs)
        except (exceptions.AuthenticationFailed, exceptions.NotAuthenticated):
            refused_credential_check(request)
            raise


class CardholderApi(CredentialApi):
    """A cardholder through the app (knox token) or the browser (session, CSRF enforced)."""

    authentication_classes = [CardholderTokenAuthentication, CsrfSessionAuthentication]
    permission_classes = [IsCardholder]

    def user(self, request: Request) -> User:
        user: User = request.user  # type: ignore[assignment]  # IsCardholder: always a signed-in User here
        return user

    def cardholder(self, request: Request) -> Cardholder:
        return Cardholder.objects.get(user=self.user(request))

    def by_session(self, request: Request) -> bool:
        return isinstance(request.successful_authenticator, CsrfSessionAuthentication)


class ProgramApi(CredentialApi):
    """A program manager's service account (API key); `request.auth` is the key and scopes every query."""

    authentication_classes = [ProgramApiKeyAuthentication]
    permission_classes = [IsProgramManager]


class NotFoundApi(APIView):
    """Any other address under /api/: a problem, not the portal's HTML page."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    schema = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound()
