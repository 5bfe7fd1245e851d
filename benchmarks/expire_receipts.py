"""Benchmark: one expiry sweep over 1,000,000 push receipts (10 % due) on PostgreSQL.

Prints the sweep's time and statement count beside the time of the bare SQL UPDATE that does the same marking
(the goal: at most 1.2x of it). Run on a machine with PostgreSQL:

    .venv/bin/python benchmarks/expire_receipts.py [--receipts 1000000]

It drops and recreates the tables of BENCH_DATABASE_URL (default: the `portal_perf_bench` database).
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

from benchmarks.database import bench_database_url

os.environ["DATABASE_URL"] = bench_database_url()

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import DatabaseError, connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from benchmarks.receipt_fill import fill, unfilled_columns  # noqa: E402
from provisioning.expiry import push_receipts_expire  # noqa: E402

BARE_UPDATE = "UPDATE provisioning_pushreceipt SET state = 'expired' WHERE state = 'issued' AND expires_at <= now()"


def checkpoint() -> None:
    """The fill's writes flushed now, not by a checkpoint in the middle of whichever run is timed."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as exc:  # needs a superuser or pg_checkpoint
        print(f"  (no CHECKPOINT before the run: {exc}; a checkpoint may fall into it)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receipts", type=int, default=1_000_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("This benchmark needs PostgreSQL: set BENCH_DATABASE_URL=postgres://…")
    missing = unfilled_columns()
    if missing:
        raise SystemExit(f"FILL_SQL does not fill these required columns: {', '.join(missing)}; add them to it")

    timings: dict[str, float] = {}
    for run in ("bare UPDATE", "sweep"):
        call_command("flush", "--noinput", verbosity=0)
        call_command("migrate", verbosity=0)
        print(f"[{run}] filling {args.receipts:,} receipts…", flush=True)
        fill(args.receipts)
        checkpoint()
        start = time.perf_counter()
        if run == "bare UPDATE":
            with connection.cursor() as cursor:
                cursor.execute(BARE_UPDATE)
                expired = cursor.rowcount
            statements = 1
        else:
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                expired = push_receipts_expire()
            statements = len(queries.captured_queries)
        timings[run] = time.perf_counter() - start
        print(f"[{run}] expired {expired:,} receipts in {timings[run]:.3f} s with {statements} statements", flush=True)
        if run == "sweep":
            slowest = sorted(queries.captured_queries, key=lambda query: -float(query["time"]))[:3]
            for query in slowest:  # where the sweep's time goes beyond the bare UPDATE's
                print(f"  {float(query['time']):.3f} s  {' '.join(query['sql'].split())[:100]}", flush=True)
    ratio = timings["sweep"] / timings["bare UPDATE"]
    print(f"sweep / bare UPDATE = {ratio:.2f}x (goal: at most 1.2x)")


if __name__ == "__main__":
    main()
