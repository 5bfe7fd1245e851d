"""Readiness: whether this process can serve now (database, cache, broker, migrations, and what apps add).

Each check runs in its own thread with a short deadline, so a hung dependency makes the probe fail fast instead of
hanging the orchestrator's request. Apps add checks in their AppConfig.ready (provisioning: the network keys).
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

logger = logging.getLogger("portal.health")

CHECK_TIMEOUT_SECONDS = 2.0
Check = Callable[[], str]  # returns a short detail when fine, raises when not


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


_checks: dict[str, Check] = {}
_migrations_applied = False


def readiness_check_register(name: str, check: Check) -> None:
    _checks[name] = check


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connections.close_all()  # this thread's connection, not the request's
    return "reachable"


def _cache() -> str:
    cache.set("portal:readyz", "1", timeout=10)
    if cache.get("portal:readyz") != "1":
        raise RuntimeError("the cache did not return what was stored")
    return "reachable"


def _broker() -> str:
    url = str(settings.CELERY_BROKER_URL or "")
    if not url:
        return "none (tasks run in-process)"
    client = redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT_SECONDS, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return "reachable"


def _migrations() -> str:
    global _migrations_applied  # once applied they stay applied: later probes skip reading the migration files
    if not _migrations_applied:
        try:
            executor = MigrationExecutor(connection)
            pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        finally:
            connections.close_all()
        if pending:
            raise RuntimeError(f"{len(pending)} migration(s) not applied")
        _migrations_applied = True
    return "applied"


readiness_check_register("database", _database)
readiness_check_register("cache", _cache)
readiness_check_register("broker", _broker)
readiness_check_register("migrations", _migrations)


def readiness() -> list[CheckResult]:
    """Every check's result, each within CHECK_TIMEOUT_SECONDS; a failure is logged with its reason."""
    pool = ThreadPoolExecutor(max_workers=len(_checks), thread_name_prefix="readyz")
    futures = {name: pool.submit(check) for name, check in _checks.items()}
    results = []
    for name, future in futures.items():
        try:
            results.append(CheckResult(name, True, future.result(timeout=CHECK_TIMEOUT_SECONDS)))
        except FutureTimeout:
            results.append(CheckResult(name, False, f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"))
        except Exception as error:  # any failure of a dependency means "not ready"
            results.append(CheckResult(name, False, f"{type(error).__name__}: {error}"[:300]))
    pool.shutdown(wait=False)  # a hung check's thread must not hold the answer
    for result in results:
        if not result.ok:
            logger.warning("Readiness check failed", extra={"check": result.name, "detail": result.detail})
    return results
