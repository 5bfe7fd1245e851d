"""Benchmark: one expiry sweep over 1,000,000 push receipts (10 % due) on PostgreSQL.

Prints the sweep's time and statement count beside the time of the bare SQL UPDATE that does the same marking
(the goal: at most 1.2x of it). Run on a machine with PostgreSQL:

    .venv/bin/python benchmarks/expire_receipts.py [--receipts 1000000]

It drops and recreates the tables of BENCH_DATABASE_URL (default: the `portal_perf_bench` database).
"""

import argparse
import os
import re
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
from django.db import connection, reset_queries  # noqa: E402
from django.db.models import NOT_PROVIDED  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from cardholders.models import Card  # noqa: E402
from provisioning.expiry import push_receipts_expire  # noqa: E402
from provisioning.models import PushReceipt, PushRequest, TokenRequestor  # noqa: E402

FILL_SQL = """
INSERT INTO cardholders_card (public_id, product_kind, product_name, card_art, state, first_six, last_four,
    expiry_month, expiry_year, account_range_start, number_ciphertext, number_key_id, number_fingerprint,
    created_at, updated_at)
SELECT gen_random_uuid(), 'debit', 'Bench', '', 'active', '555555', lpad((g % 10000)::text, 4, '0'), 12, 2030,
       '5555555550000000000', '\\x00'::bytea, 'bench', md5(g::text) || md5((g + 1)::text), now(), now()
FROM generate_series(1, {cards}) AS g;

INSERT INTO provisioning_pushrequest (public_id, token_requestor_id, channel, device_environment, locale,
    network_environment, request_id, idempotency_key, state, error_code, error_description, created_at, updated_at)
SELECT gen_random_uuid(), {requestor}, 'web', 'WEB', 'en_US', 'sandbox',
       'r' || g, 'k' || g, 'redirected', '', '', now(), now()
FROM generate_series(1, {pushes}) AS g;

INSERT INTO provisioning_pushreceipt (push_id, card_id, push_account_id, state, receipt_digest, receipt_hint,
    expires_at, result, reported_result, network_check, network_check_attempts, error_code, error_description,
    created_at)
SELECT p.id, c.id, 'CA-' || p.id || '-' || c.id, 'issued', md5(p.id || '-' || c.id) || md5(c.id || '-' || p.id),
       'MCC…0000',
       CASE WHEN (p.id * {cards} + c.id) % 10 = 0
            THEN now() - interval '1 minute' ELSE now() + interval '10 minutes' END,
       '', '', '', 0, '', '', now()
FROM (SELECT id FROM provisioning_pushrequest) p CROSS JOIN (SELECT id FROM cardholders_card) c;
ANALYZE;
"""
FILLED_MODELS = (Card, PushRequest, PushReceipt)

BARE_UPDATE = "UPDATE provisioning_pushreceipt SET state = 'expired' WHERE state = 'issued' AND expires_at <= now()"


def unfilled_columns() -> list[str]:
    """Columns FILL_SQL leaves out that the database requires (NOT NULL, no default): a model grew a field."""
    inserts = dict(re.findall(r"INSERT INTO (\w+) \(([^)]*)\)", FILL_SQL))
    missing = []
    for model in FILLED_MODELS:
        table = model._meta.db_table
        named = {column.strip() for column in inserts[table].split(",")}
        for field in model._meta.concrete_fields:
            required = not field.null and not field.primary_key and field.db_default is NOT_PROVIDED
            if required and field.column not in named:
                missing.append(f"{table}.{field.column}")
    return missing


def fill(receipts: int) -> None:
    cards = 1000
    requestor = TokenRequestor.objects.create(
        trid="50123456789", name="Bench", consumer_facing_name="Bench", requestor_type=TokenRequestor.Type.WALLET
    )
    values = {"{cards}": cards, "{pushes}": receipts // cards, "{requestor}": requestor.pk}
    sql = FILL_SQL
    for token, value in values.items():
        sql = sql.replace(token, str(value))
    with connection.cursor() as cursor:
        cursor.execute(sql)


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
    ratio = timings["sweep"] / timings["bare UPDATE"]
    print(f"sweep / bare UPDATE = {ratio:.2f}x (goal: at most 1.2x)")


if __name__ == "__main__":
    main()
