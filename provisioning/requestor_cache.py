"""The eligible-requestor lists, cached until the token requestors change.

They change only by a refresh from MDES or a staff edit, both of which bump one version key; every cached list
is stored under the version it was read at, so a bump makes them all unreachable at once (they then age out).
The version lives in the default cache: processes that do not share it (several web processes on the local-memory
cache) see another process's bump only when their lists expire, after `ELIGIBLE_CACHE_SECONDS`.
"""

import uuid
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction

from provisioning.models import TokenRequestor

VERSION_KEY = "provisioning:eligible-requestors:version"
ELIGIBLE_CACHE_SECONDS = 300


def _bump() -> None:
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def token_requestors_changed() -> None:
    """Call after changing token requestors, their ranges or logos. Bumps now, for this transaction's own reads,
    and again once it commits: another reader may meanwhile have cached the old rows under the first bump."""
    _bump()
    transaction.on_commit(_bump)


def eligible_cached(
    *, range_starts: Iterable[str], device: str, several: bool, read: Callable[[], list[TokenRequestor]]
) -> list[TokenRequestor]:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY, version)
    key = f"provisioning:eligible-requestors:{version}:{device}:{int(several)}:{','.join(sorted(set(range_starts)))}"
    requestors: list[TokenRequestor] | None = cache.get(key)
    if requestors is None:
        requestors = read()
        cache.set(key, requestors, timeout=ELIGIBLE_CACHE_SECONDS)
    return requestors
