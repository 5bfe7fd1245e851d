"""The Redis cache keeps one Redis client per server (Django's builds one per call) and still works as a cache."""

import os
import secrets

import pytest
import redis

from core.cache import PortalRedisCache

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def cache() -> PortalRedisCache:
    try:
        redis.Redis.from_url(URL, socket_connect_timeout=0.5).ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {URL}")
    return PortalRedisCache(URL, {"KEY_PREFIX": f"test-cache-{secrets.token_hex(4)}"})


def test_every_call_shares_one_client(cache: PortalRedisCache) -> None:
    backend = cache._cache  # type: ignore[attr-defined]  # the cache's client (Django's private attribute)
    client = backend.get_client()

    assert backend.get_client("any key") is client
    assert backend.get_client(write=True) is client  # one server: reads and writes alike


def test_it_stores_reads_counts_and_deletes(cache: PortalRedisCache) -> None:
    cache.set("a", {"b": 1}, 30)
    cache.add("n", 0, 30)

    assert cache.get("a") == {"b": 1}
    assert cache.incr("n") == 1
    assert cache.get_many(["a", "missing"]) == {"a": {"b": 1}}
    cache.delete_many(["a", "n"])
    assert cache.get("a") is None


def test_rate_limit_hits_are_counted_in_one_window_that_djangos_own_reads_see(cache: PortalRedisCache) -> None:
    ends_at = 1_900_000_000.5
    assert cache.window_hits(["user", "address"], 60, ends_at) == [1, 1]
    assert cache.window_hits(["user", "address"], 60, ends_at + 10) == [2, 2]
    assert cache.window_hits(["user"], 60, ends_at + 20) == [3]

    assert cache.get("user") == 3
    assert cache.get("user:until") == ends_at  # the window's first hit set when it ends; later hits do not move it
    ttl = cache._cache.get_client().ttl(cache.make_key("user"))  # type: ignore[attr-defined]
    assert 0 < ttl <= 60


def test_a_rate_limit_window_starts_again_once_it_has_passed(cache: PortalRedisCache) -> None:
    assert cache.window_hits(["short"], 1, 0.0) == [1]
    cache._cache.get_client().expire(cache.make_key("short"), 0)  # type: ignore[attr-defined]  # the window ends
    assert cache.window_hits(["short"], 1, 0.0) == [1]
