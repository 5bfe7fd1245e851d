"""Base classes of the API's views: who may call, the step-up a cardholder's change needs, and the answer to
unknown addresses."""

from typing import Any, cast

from django.utils.translation import gettext
from knox.models import AuthToken
from rest_framework import exceptions
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from api.authentication import CardholderTokenAuthentication, CsrfSessionAuthentication, ProgramApiKeyAuthentication
from api.permissions import IsCardholder, IsProgramManager
from api.problems import Problem
from api.services import app_token_step_up_is_fresh
from api.throttling import refused_credential_check
from audit.models import AuditEvent
from audit.services import audit_event_record
from cardholders.models import Cardholder
from users.models import User
from users.step_up import step_up_is_fresh


def step_up_required(request: Request, *, app_token: bool = False) -> Problem:
    """The 403 `step_up_required` problem, recorded."""
    audit_event_record(
        action="api.step_up_required",
        actor=request.user,
        outcome=AuditEvent.Outcome.FAILURE,
        detail="app token" if app_token else "browser session",
        request=request._request,
    )
    detail = (
        gettext(
            "This token's step-up has expired or does not cover these cards. Pass the second factor again in the "
            "app's web view and exchange the session for a new token."
        )
        if app_token
        else gettext("Pass the second factor again (step-up) for these cards, then send the request again.")
    )
    return Problem(status_code=403, code="step_up_required", title=gettext("Confirm it is you first"), detail=detail)


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

    def step_up_check(self, request: Request) -> None:
        """What a push or a change to a card's tokens needs, as the web flow does: a fresh step-up in the session,
        or, for an app token, in the session that minted it. Raises 403 `step_up_required` otherwise."""
        if self.by_session(request):
            if not step_up_is_fresh(request._request):
                raise step_up_required(request)
        elif not app_token_step_up_is_fresh(token=cast(AuthToken, request.auth)):
            raise step_up_required(request, app_token=True)


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
