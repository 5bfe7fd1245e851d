"""Signing out of the browser ends the app tokens that session minted (api.services)."""

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from api.services import app_tokens_end_for_session
from audit.services import audit_event_record


@receiver(user_logged_out)
def end_app_tokens_of_the_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    ended = app_tokens_end_for_session(session=request.session)
    if ended:
        audit_event_record(action="api.tokens_ended_at_sign_out", actor=user, after={"tokens": ended}, request=request)
