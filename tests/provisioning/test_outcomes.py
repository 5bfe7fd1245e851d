"""Every result a token requestor can report has its own plain words for the cardholder."""

import pytest
from django.utils import timezone

from cardholders.models import Card
from provisioning.models import PushReceipt
from provisioning.outcomes import receipt_outcome
from tests.provisioning.factories import PushFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("result", [r for r in PushReceipt.Result if r is not PushReceipt.Result.UNKNOWN])
def test_each_reported_result_reads_as_itself_not_as_unknown(card: Card, result: PushReceipt.Result) -> None:
    receipt = PushFactory.create(card=card).receipts.get()
    receipt.state, receipt.result, receipt.used_at = PushReceipt.State.USED, result, timezone.now()
    unknown = receipt_outcome(
        PushReceipt(card=card, state=PushReceipt.State.USED, result=PushReceipt.Result.UNKNOWN), "Sunday Store"
    )
    outcome = receipt_outcome(receipt, "Sunday Store")
    assert outcome.heading != unknown.heading
    assert "•••• 4444" in outcome.text
