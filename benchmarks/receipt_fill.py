"""The expiry benchmark's data: push receipts filled by SQL (a million in seconds, not hours through the ORM).

Apart from the benchmark so that a test can check that the SQL still fills every column a model requires.
"""

import re

from django.db import connection
from django.db.models import NOT_PROVIDED

from cardholders.models import Card
from provisioning.models import PushReceipt, PushRequest, TokenRequestor

FILL_SQL = """
INSERT INTO cardholders_card (public_id, product_kind, product_name, card_art, state, first_six, last_four,
    expiry_month, expiry_year, account_range_start, number_ciphertext, number_key_id, number_fingerprint,
    created_at, updated_at)
SELECT gen_random_uuid(), 'debit', 'Bench', '', 'active', '555555', lpad((g % 10000)::text, 4, '0'), 12, 2030,
       '5555555550000000000', '\\x00'::bytea, 'bench', md5(g::text) || md5((g + 1)::text), now(), now()
FROM generate_series(1, {cards}) AS g;

INSERT INTO provisioning_pushrequest (public_id, token_requestor_id, channel, device_environment, locale,
    network_environment, request_id, idempotency_key, state, error_code, error_description, streamlined_activation,
    created_at, updated_at)
SELECT gen_random_uuid(), {requestor}, 'web', 'WEB', 'en_US', 'sandbox',
       'r' || g, 'k' || g, 'redirected', '', '', false, now(), now()
FROM generate_series(1, {pushes}) AS g;

INSERT INTO provisioning_pushreceipt (push_id, card_id, push_account_id, state, receipt_digest, receipt_hint,
    expires_at, result, reported_result, network_check, network_check_attempts, activation, activation_attempts,
    error_code, error_description, created_at)
SELECT p.id, c.id, 'CA-' || p.id || '-' || c.id, 'issued', md5(p.id || '-' || c.id) || md5(c.id || '-' || p.id),
       'MCC…0000',
       CASE WHEN (p.id * {cards} + c.id) % 10 = 0
            THEN now() - interval '1 minute' ELSE now() + interval '10 minutes' END,
       '', '', '', 0, '', 0, '', '', now()
FROM (SELECT id FROM provisioning_pushrequest) p CROSS JOIN (SELECT id FROM cardholders_card) c;
ANALYZE;
"""
FILLED_MODELS = (Card, PushRequest, PushReceipt)


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
