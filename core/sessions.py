"""The sliding idle timeout without a session write per page view.

Django's SESSION_SAVE_EVERY_REQUEST writes the session row on every request just to move its expiry. Here the
row is written when something in the session changed, or when the idle clock last moved more than
`IDLE_RENEWAL_GRANULARITY_SECONDS` ago. The stored expiry may thus lag the last request by up to that much, so the
idle timeout ends up to a minute early, never late.
"""

import time

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

SESSION_IDLE_RENEWED_AT_KEY = "portal_idle_renewed_at"
IDLE_RENEWAL_GRANULARITY_SECONDS = 60


def session_idle_renew_if_due(session: SessionBase) -> None:
    """Moves the idle clock (which makes the session save) when it last moved more than a minute ago."""
    renewed_at = session.get(SESSION_IDLE_RENEWED_AT_KEY)
    if session.is_empty():
        return  # no session, or one that expired: nothing to keep alive
    if renewed_at is None or time.time() - float(renewed_at) > IDLE_RENEWAL_GRANULARITY_SECONDS:
        session[SESSION_IDLE_RENEWED_AT_KEY] = time.time()


def session_idle_stamp_if_saved(session: SessionBase) -> None:
    """A session that is saved anyway restarts its idle clock now: record that, so no extra save follows soon."""
    if session.modified and not session.is_empty():
        session[SESSION_IDLE_RENEWED_AT_KEY] = time.time()


def session_idle_seconds_left(session: SessionBase) -> int:
    """Seconds until the stored session expires if nothing else happens (what the timeout warning counts down)."""
    renewed_at = float(session.get(SESSION_IDLE_RENEWED_AT_KEY, time.time()))
    return max(0, int(settings.SESSION_COOKIE_AGE - (time.time() - renewed_at)))
