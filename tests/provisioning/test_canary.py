"""A2: after the whole push flow, the canary card number is nowhere: not in any column, log, cache entry, e-mail
or page; only masked or keyed-hash forms remain. Nor are its push receipts (bearer values) anywhere but in the two
URLs that must carry them: only their digests and hints remain."""

import base64
import io
import logging
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
import requests
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from cardholders.models import Card
from provisioning.mdes.redirect import RECEIPTS_PARAMETER
from provisioning.models import TokenRequestor
from tests.access_log import log_access_of
from tests.factories import TEST_CARD_NUMBERS

pytestmark = pytest.mark.django_db

CANARY = TEST_CARD_NUMBERS[0]
FORMS = [
    CANARY,
    " ".join(CANARY[i : i + 4] for i in range(0, 16, 4)),
    "-".join(CANARY[i : i + 4] for i in range(0, 16, 4)),
    base64.b64encode(CANARY.encode()).decode(),
]


def _every_stored_value() -> list[str]:
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from the schema
            for row in cursor.fetchall():
                values += [
                    bytes(v).hex() + bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                    for v in row
                ]
    return values


def _cached_values() -> list[str]:
    """Everything in the cache: the local-memory one, or every key of this run on Redis."""
    if settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL)
        prefix = settings.CACHES["default"]["KEY_PREFIX"]
        values = [client.get(key) or b"" for key in client.scan_iter(match=f"{prefix}*", count=1000)]
        return [value.decode("latin-1") if isinstance(value, bytes) else str(value) for value in values]
    return [repr(value) for value in getattr(cache, "_cache", {}).values()]


def _forms(value: str) -> list[str]:
    return [value, base64.b64encode(value.encode()).decode(), base64.urlsafe_b64encode(value.encode()).decode()]


def test_the_card_number_and_its_receipts_leave_no_trace(
    portal: Client, card: Card, caplog: pytest.LogCaptureFixture, portal_log: io.StringIO
) -> None:
    caplog.set_level(logging.DEBUG)
    responses = [portal.get(reverse("home"))]
    requestor = TokenRequestor.objects.get(trid="50100000011")
    responses.append(portal.get(reverse("provisioning:choose"), {"card": str(card.public_id)}))
    responses.append(
        portal.post(
            reverse("provisioning:push_start"),
            {"card": str(card.public_id), "token_requestor": requestor.pk, "idempotency_key": "canary"},
        )
    )
    target = responses[-1]["Location"]
    wallet = requests.get(target, timeout=5).text
    session = re.search(r'name="session" value="([^"]+)"', wallet)
    assert session
    decision = urlsplit(target)._replace(path=urlsplit(target).path.rsplit("/", 1)[0] + "/decision", query="")
    back = requests.post(
        decision.geturl(), data={"session": session.group(1), "decision": "APPROVED"}, allow_redirects=False, timeout=5
    ).headers["Location"]
    responses.append(portal.get(urlsplit(back).path, parse_qs(urlsplit(back).query)))
    responses.append(portal.get(responses[-1]["Location"]))
    for response in responses:
        log_access_of(response)  # what runserver's access log writes for each of these requests
    receipts = parse_qs(urlsplit(target).query)[RECEIPTS_PARAMETER][0].split(",")
    assert receipts
    assert all(f"results[{receipt}]" in parse_qs(urlsplit(back).query) for receipt in receipts)

    haystacks: dict[str, Any] = {
        "database": _every_stored_value(),
        "logs": [f"{r.getMessage()} {vars(r)!r}" for r in caplog.records] + [portal_log.getvalue()],
        "pages": [*(r.content.decode() for r in responses)],
        "e-mail": [f"{m.subject} {m.body}" for m in mail.outbox],
        "cache": _cached_values(),
    }
    for where, values in haystacks.items():
        text = "\n".join(values)
        for form in FORMS:
            assert form not in text, f"the card number appears in {where}"
        for receipt in receipts:
            assert not any(form in text for form in _forms(receipt)), f"a receipt appears in {where}"
    for url in (target, back):  # the only places a receipt must be: on its way to the requestor and back
        assert not any(form in url for form in FORMS)
    assert "results%5B[redacted]%5D=APPROVED" in haystacks["logs"][-1]  # the callback was logged, without it
    assert {"555555", "4444"} <= set(haystacks["database"])  # first six and last four are what remains
