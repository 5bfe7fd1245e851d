"""Who may see a push besides the signed-in cardholder who made it: a browser session it was granted to.

A landing-link recipient has no account; the landing page grants its session access to the pushes it started,
so that the token requestor's callback and the confirmation work for them as for a cardholder.
"""

from django.http import HttpRequest

from provisioning.models import PushRequest

SESSION_KEY = "provisioning_granted_pushes"
MAX_GRANTS = 20  # a session keeps the most recent grants only


def push_access_grant(request: HttpRequest, push: PushRequest, *, back_url: str) -> None:
    """Let this browser session follow `push`; `back_url` is where its confirmation page leads back to."""
    grants: dict[str, str] = dict(request.session.get(SESSION_KEY, {}))
    grants[str(push.public_id)] = back_url
    request.session[SESSION_KEY] = dict(list(grants.items())[-MAX_GRANTS:])


def push_access_back_url(request: HttpRequest, push: PushRequest) -> str | None:
    """The page to lead back to if this session was granted `push`, otherwise None."""
    grants = request.session.get(SESSION_KEY, {})
    back = grants.get(str(push.public_id)) if isinstance(grants, dict) else None
    return back if isinstance(back, str) else None
