"""The expiry benchmark's SQL fill keeps up with the models (it once stopped running when a field was added)."""

import pytest
from django.db import connection
from django.utils import timezone

from benchmarks.receipt_fill import fill, unfilled_columns
from provisioning.models import PushReceipt, PushRequest

pytestmark = pytest.mark.django_db


def test_the_fill_names_every_column_the_models_require() -> None:
    assert unfilled_columns() == []


def test_the_fill_makes_pushes_of_a_thousand_receipts_a_tenth_of_them_due() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the fill is PostgreSQL SQL, as the benchmark is")
    fill(3000)
    assert PushRequest.objects.count() == 3
    assert PushReceipt.objects.filter(state=PushReceipt.State.ISSUED).count() == 3000
    assert PushReceipt.objects.filter(expires_at__lte=timezone.now()).count() == 300
