"""The benchmarks' own PostgreSQL database: BENCH_DATABASE_URL, created on first use (its tables are dropped and
recreated by every run, so it must never be one holding data you want)."""

import os
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_perf_bench"


def bench_database_url() -> str:
    """BENCH_DATABASE_URL (default the `portal_perf_bench` database on the local server), created if missing."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        return url
    name = parts.path.lstrip("/")
    maintenance = parts._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created the benchmark database {name}", flush=True)
    return url
