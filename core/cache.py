"""Django's Redis cache with one Redis client per server instead of one per call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` (sharing the connection pool) for every cache
operation; building it costs about as much as the round trip to Redis itself, and a signed-in page reads the cache
several times (rate limits, eligible requestors, the session's step-up). A `redis.Redis` is safe to share between
threads (each command takes a connection from the pool), so one per server is kept.

`window_hits` counts rate-limit hits (core.rate_limits) in one round trip instead of three a counter.
"""

from collections.abc import Sequence
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's private helpers (not in django-stubs): the pool index and the pool of a server.
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class PortalRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

    def window_hits(self, keys: Sequence[str], window_seconds: int, window_ends_at: float) -> list[int]:
        """One hit counted for each of `keys` in a window that starts at its first hit (and when that window ends
        noted under `<key>:until`): the hits so far, in one atomic round trip. The values are those Django's own
        add and incr would store, so `get` reads them alike."""
        backend = self._cache  # type: ignore[attr-defined]  # Django's cache client (not in django-stubs)
        client = backend.get_client(write=True)
        with client.pipeline(transaction=True) as pipe:
            for key in keys:
                counter = self.make_and_validate_key(key)
                until = self.make_and_validate_key(f"{key}:until")
                pipe.set(until, backend._serializer.dumps(window_ends_at), ex=window_seconds, nx=True)
                pipe.set(counter, backend._serializer.dumps(0), ex=window_seconds, nx=True)
                pipe.incr(counter)
            replies = pipe.execute()
        return [int(count) for count in replies[2::3]]
