"""App tokens: what the issuer's app holds once its web view has signed in and passed step-up.

A token reads the cardholder's data for API_CARDHOLDER_TOKEN_TTL_HOURS, but it pushes, and changes where a card lives
(suspends, resumes, removes its tokens), only as the browser's step-up would (check D6): while the proof it was minted
after is fresh (PORTAL_STEP_UP_MAX_AGE_SECONDS from when it was passed). Signing out of the browser session that
minted it ends it.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken

from api.models import AppTokenGrant
from users.models import User
from users.step_up import step_up_passed_at

# A stable id of the browser session (the session key changes at every step-up), for ending its tokens.
SESSION_REF_KEY = "portal_app_token_session"


def app_token_pushes_until(grant: AppTokenGrant) -> datetime:
    """Until when the token may push or change tokens: as long as the step-up it carries is fresh."""
    return grant.step_up_at + timedelta(seconds=settings.PORTAL_STEP_UP_MAX_AGE_SECONDS)


def app_token_issue(*, request: HttpRequest, user: User) -> tuple[AuthToken, str, AppTokenGrant] | None:
    """A new token for `user`, carrying the session's fresh step-up; None if the session has none."""
    passed_at = step_up_passed_at(request)
    if passed_at is None:
        return None
    session_ref = request.session.setdefault(SESSION_REF_KEY, secrets.token_urlsafe(24))
    with transaction.atomic():
        instance, token = AuthToken.objects.create(
            user=user, expiry=timedelta(hours=settings.API_CARDHOLDER_TOKEN_TTL_HOURS)
        )
        grant = AppTokenGrant.objects.create(
            token=instance,
            session_ref=session_ref,
            step_up_at=passed_at,
        )
    return instance, token, grant


def app_token_step_up_is_fresh(*, token: AuthToken) -> bool:
    """Whether `token` may push or change tokens now: the step-up it was minted after is still fresh."""
    grant = AppTokenGrant.objects.filter(token=token).first()
    return grant is not None and timezone.now() <= app_token_pushes_until(grant)


def app_tokens_end_for_session(*, session: SessionBase) -> int:
    """Delete the tokens minted from this browser session (it is signing out); how many there were."""
    session_ref = session.get(SESSION_REF_KEY)
    if not session_ref:
        return 0
    tokens = AuthToken.objects.filter(grant__session_ref=session_ref)
    count = tokens.count()
    tokens.delete()
    return count
