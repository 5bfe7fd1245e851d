"""The expiry sweep: receipts past their validity become expired, pushes that cannot come back are closed."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.utils import timezone

from audit.models import AuditEvent
from cardholders.models import Card
from core.states import transition_update
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


@pytest.mark.django_db(transaction=True)
def test_a_receipt_being_used_as_the_sweep_runs_stays_used_and_is_not_counted(card: Card) -> None:
    """The sweep waits for a receipt another transaction holds and checks its state again (no SKIP LOCKED, which
    cost a second write of every due row): a use that commits meanwhile wins."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's row locks; SQLite runs one writer at a time")
    push = PushFactory.create(card=card, state="redirected")
    receipt = push.receipts.get()
    PushReceipt.objects.filter(pk=receipt.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    holding, release = threading.Event(), threading.Event()

    def use_it() -> None:  # a use that began a moment before the receipt's validity ended
        try:
            with transaction.atomic():
                transition_update(
                    PushReceipt.objects.filter(pk=receipt.pk),
                    PushReceipt.State.USED,
                    used_at=timezone.now(),
                    result=PushReceipt.Result.APPROVED,
                )
                holding.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    user = threading.Thread(target=use_it)
    user.start()
    assert holding.wait(timeout=10)
    threading.Timer(0.3, release.set).start()  # the sweep is waiting for the row by then
    assert push_receipts_expire() == 0
    user.join()
    assert PushReceipt.objects.get(pk=receipt.pk).state == PushReceipt.State.USED
    assert not AuditEvent.objects.filter(action=RECEIPTS_EXPIRED).exists()
