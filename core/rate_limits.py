"""Fixed-window counters in the cache (Redis in production), for anti-automation limits (check F1).

Each limit applies per signed-in user and per client address (as `core.client_ip` trusts it), so neither a new
account nor a new address alone resets it.
"""

from django.core.cache import cache
from django.http import HttpRequest

from core.client_ip import client_ip


def _hit(key: str, limit: int, window_seconds: int) -> bool:
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # the key expired between add and incr: this is the window's first hit
        cache.add(key, 1, timeout=window_seconds)
        return True


def rate_limit_allows(
    request: HttpRequest, action: str, *, per_user: int, per_address: int, window_seconds: int
) -> bool:
    """Count one `action` for this user and this address; False once either is over its limit."""
    user_ok = _hit(f"rate:{action}:user:{request.user.pk}", per_user, window_seconds)
    address_ok = _hit(f"rate:{action}:ip:{client_ip(request) or 'unknown'}", per_address, window_seconds)
    return user_ok and address_ok
