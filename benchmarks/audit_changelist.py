"""Benchmark: the staff area's audit-trail list with 1,000,000 events on PostgreSQL.

Times whole requests through Django (test client, in process, a staff session that passed its second factor):
the first page, a later page, and the list filtered by action and by date, interleaved over several rounds.
Prints the median time per page, its SQL share, and the slowest statement (goal: under 50 ms a page).

    .venv/bin/python benchmarks/audit_changelist.py [--events 1000000 --rounds 5]

It drops and recreates the tables of BENCH_DATABASE_URL (default: the `portal_perf_bench` database).
"""

import argparse
import os
import statistics
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
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from tests.factories import StaffUserFactory  # noqa: E402
from tests.issuer_portal.helpers import staff_client  # noqa: E402

FILL_SQL = """
INSERT INTO audit_auditevent
    (occurred_at, actor_label, action, outcome, object_type, object_id, before, after, detail, client_ip, request_id)
SELECT now() - (g || ' seconds')::interval, 'system',
       (ARRAY['push.started', 'push.receipts_issued', 'push.redirected', 'push.returned', 'auth.signed_in',
              'step_up.passed', 'receipts.expired', 'push.expired'])[1 + g %% 8],
       'success', 'provisioning.pushrequest', g::text, '{}', '{"state": "pushed"}', '', NULL, md5(g::text)
FROM generate_series(1, %s) AS g;
ANALYZE audit_auditevent;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("This benchmark needs PostgreSQL: set BENCH_DATABASE_URL=postgres://…")
    setup_test_environment()  # the test client's host and the test settings' HTTPS client
    call_command("flush", "--noinput", verbosity=0)
    call_command("migrate", verbosity=0)
    print(f"filling {args.events:,} audit events…", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(FILL_SQL, [args.events])
    client = staff_client(StaffUserFactory.create(is_superuser=True))
    base = "/admin/audit/auditevent/"
    pages = {
        "first page": base,
        "page 50": f"{base}?p=50",
        "by action": f"{base}?action=push.returned",
        "last 7 days": f"{base}?occurred_at__gte={time.strftime('%Y-%m-%d', time.gmtime(time.time() - 7 * 86400))}",
    }
    client.get(base)  # warm up
    timings: dict[str, list[float]] = {name: [] for name in pages}
    sql: dict[str, list[float]] = {name: [] for name in pages}
    slowest: dict[str, tuple[float, str]] = {}
    for _ in range(args.rounds):
        for name, url in pages.items():
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                answer = client.get(url)
                timings[name].append((time.perf_counter() - start) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"{url} answered {answer.status_code}")
            sql[name].append(sum(float(query["time"]) for query in queries.captured_queries) * 1000)
            top = max(queries.captured_queries, key=lambda query: float(query["time"]))
            slowest[name] = (float(top["time"]) * 1000, top["sql"][:110])
    for name in pages:
        print(
            f"[{name}] median {statistics.median(timings[name]):.1f} ms a page, "
            f"SQL {statistics.median(sql[name]):.1f} ms; slowest statement {slowest[name][0]:.1f} ms: "
            f"{slowest[name][1]}"
        )
    print("goal: under 50 ms a page")


if __name__ == "__main__":
    main()
