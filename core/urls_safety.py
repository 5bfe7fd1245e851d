"""Where the portal may send someone after a step: only its own paths (no open redirect, check E3).

Browsers drop tabs, newlines and spaces inside URLs, so "/\n/evil" would become "//evil": such values are refused
outright rather than cleaned.
"""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, candidate: str | None, default: str = "home") -> str:
    if (
        candidate
        and candidate.isprintable()
        and " " not in candidate
        and candidate.startswith("/")
        and not candidate.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(candidate, allowed_hosts=set(), require_https=request.is_secure())
    ):
        return candidate
    return reverse(default)
