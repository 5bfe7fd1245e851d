"""A2: after the whole push flow, the canary card number is nowhere: not in any column, log, cache entry, e-mail
or page; only masked or keyed-hash forms remain."""

import base64
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
from provisioning.models import TokenRequestor
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


def test_the_card_number_leaves_no_trace(portal: Client, card: Card, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pages = [portal.get(reverse("home")).content.decode()]
    requestor = TokenRequestor.objects.get(trid="50100000011")
    pages.append(portal.get(reverse("provisioning:choose"), {"card": str(card.public_id)}).content.decode())
    target = portal.post(
        reverse("provisioning:push_start"),
        {"card": str(card.public_id), "token_requestor": requestor.pk, "idempotency_key": "canary"},
    )["Location"]
    wallet = requests.get(target, timeout=5).text
    session = re.search(r'name="session" value="([^"]+)"', wallet)
    assert session
    decision = urlsplit(target)._replace(path=urlsplit(target).path.rsplit("/", 1)[0] + "/decision", query="")
    back = requests.post(
        decision.geturl(), data={"session": session.group(1), "decision": "APPROVED"}, allow_redirects=False, timeout=5
    ).headers["Location"]
    returned = portal.get(urlsplit(back).path, parse_qs(urlsplit(back).query))
    pages.append(portal.get(returned["Location"]).content.decode())

    haystacks: dict[str, Any] = {
        "database": _every_stored_value(),
        "logs": [f"{r.getMessage()} {vars(r)!r}" for r in caplog.records],
        "pages": [*pages, target, back],
        "e-mail": [f"{m.subject} {m.body}" for m in mail.outbox],
        "cache": _cached_values(),
    }
    for where, values in haystacks.items():
        text = "\n".join(values)
        for form in FORMS:
            assert form not in text, f"the card number appears in {where}"
    assert {"555555", "4444"} <= set(haystacks["database"])  # first six and last four are what remains
