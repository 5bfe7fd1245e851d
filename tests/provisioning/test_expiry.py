"""The expiry sweep: receipts past their validity become expired, pushes that cannot come back are closed."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card
from provisioning.expiry import RECEIPTS_EXPIRED, push_receipts_expire
from provisioning.models import PushReceipt, PushRequest
from tests.provisioning.factories import PushFactory

pytestmark = pytest.mark.django_db


def test_sweep_expires_only_receipts_past_their_validity(card: Card) -> None:
    push = PushFactory.create(card=card, state="redirected")
    with time_machine.travel(timezone.now() + timedelta(minutes=14, seconds=59)):
        assert push_receipts_expire() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        assert push_receipts_expire() == 1
        assert push_receipts_expire() == 0  # idempotent
    assert push.receipts.get().state == PushReceipt.State.EXPIRED
    push.refresh_from_db()
    assert push.state == PushRequest.State.EXPIRED
    assert [event.after for event in AuditEvent.objects.filter(action=RECEIPTS_EXPIRED)] == [
        {"state": "expired", "count": 1}
    ]
    assert AuditEvent.objects.filter(action="push.expired", object_id=str(push.pk)).exists()


def test_sweep_leaves_returned_pushes_alone(card: Card) -> None:
    push = PushFactory.create(card=card, state="redirected")
    receipt = push.receipts.get()
    receipt.transition_to(PushReceipt.State.USED)
    receipt.result = PushReceipt.Result.APPROVED
    receipt.used_at = timezone.now()
    receipt.save()
    push.transition_to(PushRequest.State.RETURNED)
    push.save()
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert push_receipts_expire() == 0
    push.refresh_from_db()
    assert push.state == PushRequest.State.RETURNED


def test_sweep_fails_pushes_whose_process_died_before_mdes_answered(card: Card) -> None:
    stuck = PushFactory.create(card=card, state="started")
    fresh = PushFactory.create(card=card, token_requestor=stuck.token_requestor, state="started")
    PushRequest.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    push_receipts_expire()
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.state == PushRequest.State.FAILED
    assert stuck.error_code == "ABANDONED"
    assert fresh.state == PushRequest.State.STARTED
    event = AuditEvent.objects.get(action="push.abandoned")
    assert event.object_id == str(stuck.pk)
    assert event.outcome == "failure"


def test_two_sweeps_never_audit_one_receipt_twice(card: Card) -> None:
    PushFactory.create(card=card, state="redirected")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        push_receipts_expire()
        push_receipts_expire()
    assert list(AuditEvent.objects.filter(action=RECEIPTS_EXPIRED).values_list("after__count", flat=True)) == [1]


def test_each_sweep_is_recorded_and_a_week_of_records_is_kept(card: Card) -> None:
    from provisioning.expiry import EXPIRY_JOB, expiry_run
    from provisioning.models import JobRun

    PushFactory.create(card=card, state="redirected")
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        expiry_run()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        run = expiry_run()
    assert run.state == JobRun.State.SUCCEEDED
    assert run.counts == {"expired": 1}
    assert list(JobRun.objects.filter(job=EXPIRY_JOB)) == [run]  # the 8-day-old record was pruned


def test_a_sweep_audits_each_batch_of_receipts_once_with_its_count_and_each_push_it_closes(card: Card) -> None:
    pushes = [PushFactory.create(card=card, state="redirected", receipt=f"MCC-BATCH-{number}") for number in range(5)]
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert push_receipts_expire(batch_size=2) == 5
    counts = AuditEvent.objects.filter(action=RECEIPTS_EXPIRED).values_list("after__count", flat=True)
    assert sorted(counts) == [1, 2, 2]
    closed = set(AuditEvent.objects.filter(action="push.expired").values_list("object_id", flat=True))
    assert closed == {str(push.pk) for push in pushes}
