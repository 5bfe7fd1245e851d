"""Fixed-window counters in the cache (Redis in production), for anti-automation limits (check F1).

Each limit applies per subject (a signed-in user, a landing link, an API credential) and per client address (as
`core.client_ip` trusts it), so neither a new account nor a new address alone resets it.
"""

import math
import time

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext

from core.client_ip import client_ip
from core.metrics import RATE_LIMIT_REFUSALS


def counter_hit(key: str, window_seconds: int) -> int:
    """Count one hit of `key` in a window that starts at its first hit; the hits counted so far."""
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr: this is the window's first hit
        cache.add(key, 1, timeout=window_seconds)
        return 1


def _hits(keys: list[str], window_seconds: int) -> list[int]:
    """One hit of each key counted; the hits so far. Also notes when each window ends, so that a page can say how
    long to wait (the cache API cannot tell a key's TTL)."""
    ends_at = time.time() + window_seconds
    one_round_trip = getattr(cache, "window_hits", None)  # core.cache.PortalRedisCache; not the local-memory cache
    if one_round_trip is not None:
        return list(one_round_trip(keys, window_seconds, ends_at))
    counts = []
    for key in keys:
        cache.add(f"{key}:until", ends_at, timeout=window_seconds)
        counts.append(counter_hit(key, window_seconds))
    return counts


def _hit(key: str, limit: int, window_seconds: int) -> bool:
    return _hits([key], window_seconds)[0] <= limit


def rate_limit_allows(
    request: HttpRequest, action: str, *, per_user: int, per_address: int, window_seconds: int
) -> bool:
    """Count one `action` for this user and this address; False once either is over its limit."""
    return rate_limit_allows_for(
        request,
        action,
        subject=f"user:{request.user.pk}",
        per_subject=per_user,
        per_address=per_address,
        window_seconds=window_seconds,
    )


def rate_limit_allows_for(
    request: HttpRequest, action: str, *, subject: str, per_subject: int, per_address: int, window_seconds: int
) -> bool:
    """Count one `action` for `subject` (a user, a landing link, an API credential) and for this address."""
    subject_hits, address_hits = _hits([f"rate:{action}:{subject}", _address_key(request, action)], window_seconds)
    return _counted(action, subject_hits <= per_subject and address_hits <= per_address)


def wait_text(seconds: int) -> str:
    """A wait as a person reads it ("3 minutes"), rounded up to whole minutes so that it is never too short."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("%(minutes)d minute", "%(minutes)d minutes", minutes) % {"minutes": minutes}


def _wait(key: str, limit: int) -> int:
    if (cache.get(key) or 0) < limit:
        return 0
    return max(1, math.ceil(float(cache.get(f"{key}:until") or 0) - time.time()))


def rate_limit_wait_seconds(request: HttpRequest, action: str, *, per_user: int, per_address: int) -> int:
    """Seconds until `action` is allowed again for this user and address (0: now), without counting a hit; for
    pages that hide what the limit would refuse and say how long to wait."""
    return max(
        _wait(f"rate:{action}:user:{request.user.pk}", per_user),
        _wait(_address_key(request, action), per_address),
    )


def rate_limit_allows_address(request: HttpRequest, action: str, *, per_address: int, window_seconds: int) -> bool:
    """Count one `action` for this client address alone (for requests that name no one, or the wrong one)."""
    return _counted(action, _hit(_address_key(request, action), per_address, window_seconds))


def _address_key(request: HttpRequest, action: str) -> str:
    return f"rate:{action}:ip:{client_ip(request) or 'unknown'}"


def _counted(action: str, allowed: bool) -> bool:
    if not allowed:
        RATE_LIMIT_REFUSALS.labels(action=action).inc()
    return allowed
