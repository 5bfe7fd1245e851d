"""G1-G3: a receipt is used at most once, never after it expires, whatever runs at the same time."""

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from cardholders.models import Card
from provisioning.expiry import push_receipts_expire
from provisioning.mdes.callback import reported_result
from provisioning.models import PushReceipt, PushRequest
from provisioning.receipts import ReceiptUse, push_receipt_use, receipt_digest
from tests.factories import CardFactory, CardholderFactory, NetworkConfigurationFactory
from tests.provisioning.factories import PushFactory

RECEIPT = "MCC-7E1A2B3C-0000-4000-8000-000000001234"


@pytest.mark.django_db
def test_first_use_records_the_result_and_the_second_sees_it_was_used(card: Card) -> None:
    push = PushFactory.create(card=card, state="redirected", receipt=RECEIPT)
    assert push_receipt_use(push=push, receipt=RECEIPT, reported=reported_result("APPROVED"))[0] == ReceiptUse.USED
    outcome, receipt = push_receipt_use(push=push, receipt=RECEIPT, reported=reported_result("DECLINED"))
    assert outcome == ReceiptUse.ALREADY_USED
    assert receipt is not None
    assert receipt.result == PushReceipt.Result.APPROVED


@pytest.mark.django_db
def test_a_receipt_of_another_push_or_an_invented_one_is_unknown(card: Card) -> None:
    push = PushFactory.create(card=card, state="redirected", receipt=RECEIPT)
    other = PushFactory.create(card=card, token_requestor=push.token_requestor, state="redirected")
    assert push_receipt_use(push=other, receipt=RECEIPT, reported=reported_result("APPROVED")) == (
        ReceiptUse.UNKNOWN,
        None,
    )
    assert push_receipt_use(push=push, receipt="MCC-made-up", reported=reported_result("APPROVED")) == (
        ReceiptUse.UNKNOWN,
        None,
    )


@pytest.mark.django_db
def test_unknown_result_codes_are_kept_as_unknown(card: Card) -> None:
    push = PushFactory.create(card=card, state="redirected", receipt=RECEIPT)
    _, receipt = push_receipt_use(push=push, receipt=RECEIPT, reported=reported_result("<script>"))
    assert receipt is not None
    assert receipt.result == PushReceipt.Result.UNKNOWN


@pytest.mark.django_db
def test_expiry_is_enforced_when_used_even_if_no_sweeper_ever_ran(card: Card) -> None:
    """G2: usable at 14:59, refused at 15:01, with Celery nowhere in sight."""
    issued_at = timezone.now()
    with time_machine.travel(issued_at, tick=False):
        usable = PushFactory.create(card=card, state="redirected", receipt=RECEIPT)
        late = PushFactory.create(
            card=card, token_requestor=usable.token_requestor, state="redirected", receipt=RECEIPT + "9"
        )
    with time_machine.travel(issued_at + timedelta(minutes=14, seconds=59), tick=False):
        assert (
            push_receipt_use(push=usable, receipt=RECEIPT, reported=reported_result("APPROVED"))[0] == ReceiptUse.USED
        )
    with time_machine.travel(issued_at + timedelta(minutes=15, seconds=1), tick=False):
        assert (
            push_receipt_use(push=late, receipt=RECEIPT + "9", reported=reported_result("APPROVED"))[0]
            == ReceiptUse.EXPIRED
        )
    assert late.receipts.get().state == PushReceipt.State.ISSUED  # the sweep will mark it; use never did


def _naive_use(push: PushRequest, receipt: str, pause: float) -> ReceiptUse:
    """The race-prone way (read, think, write), kept here to prove the concurrency test can catch it."""
    row = PushReceipt.objects.get(push=push, receipt_digest=receipt_digest(receipt))
    if row.state != PushReceipt.State.ISSUED:
        return ReceiptUse.ALREADY_USED
    time.sleep(pause)
    PushReceipt.objects.filter(pk=row.pk).update(
        state=PushReceipt.State.USED, used_at=timezone.now(), result=PushReceipt.Result.APPROVED
    )
    return ReceiptUse.USED


def _race(use: Callable[[], ReceiptUse], contenders: int = 2) -> list[ReceiptUse]:
    barrier = threading.Barrier(contenders)
    outcomes: list[ReceiptUse] = []

    def contender() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                outcomes.append(use())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=contender) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


postgres_only = pytest.mark.skipif(
    "postgres" not in __import__("os").environ.get("DATABASE_URL", ""), reason="needs PostgreSQL's row locking"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_callbacks_racing_for_one_receipt_let_exactly_one_through(card: Card) -> None:
    """G1, with a canary: the naive read-then-write lets both through, so the test can tell the difference."""
    naive_push = PushFactory.create(card=card, state="redirected", receipt=RECEIPT + "0")
    assert connection.vendor == "postgresql"
    assert _race(lambda: _naive_use(naive_push, RECEIPT + "0", pause=0.3)).count(ReceiptUse.USED) == 2

    push = PushFactory.create(
        card=card, token_requestor=naive_push.token_requestor, state="redirected", receipt=RECEIPT
    )
    outcomes = _race(
        lambda: push_receipt_use(push=push, receipt=RECEIPT, reported=reported_result("APPROVED"))[0], contenders=4
    )
    assert sorted(outcomes) == sorted([ReceiptUse.USED] + [ReceiptUse.ALREADY_USED] * 3)


class ReceiptLifecycle(RuleBasedStateMachine):
    """G3: issue, use, sweep, let time pass and replay callbacks in any order; the invariants always hold."""

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.atomic()  # every example starts from the same database
        self.savepoint.__enter__()
        self.clock = time_machine.travel(timezone.now(), tick=False)
        self.traveller = self.clock.start()
        self.card = CardFactory.create(cardholder=CardholderFactory.create(), card_number="5105105105105100")
        self.receipts: dict[str, PushRequest] = {}
        self.used: set[str] = set()

    @initialize()
    def nothing_yet(self) -> None:
        assert not PushReceipt.objects.exclude(state=PushReceipt.State.ISSUED).exists()

    @rule()
    def issue(self) -> None:
        value = f"MCC-{len(self.receipts):04d}-{time.monotonic_ns()}"
        self.receipts[value] = PushFactory.create(card=self.card, state="redirected", receipt=value)

    @rule(pick=st.integers(min_value=0), result=st.sampled_from(["APPROVED", "DECLINED", "CANCELLED", "bogus"]))
    def use(self, pick: int, result: str) -> None:
        if not self.receipts:
            return
        value = sorted(self.receipts)[pick % len(self.receipts)]
        row = PushReceipt.objects.get(receipt_digest=receipt_digest(value))
        was_usable = (
            row.state == PushReceipt.State.ISSUED and row.expires_at is not None and (row.expires_at > timezone.now())
        )
        outcome, _ = push_receipt_use(push=self.receipts[value], receipt=value, reported=reported_result(result))
        if was_usable:
            assert outcome == ReceiptUse.USED
            self.used.add(value)
        else:
            assert outcome in (ReceiptUse.ALREADY_USED, ReceiptUse.EXPIRED)

    @rule()
    def sweep(self) -> None:
        push_receipts_expire()

    @rule(minutes=st.integers(min_value=1, max_value=20))
    def time_passes(self, minutes: int) -> None:
        self.traveller.shift(timedelta(minutes=minutes))

    @invariant()
    def used_at_most_once_and_never_after_expiry(self) -> None:
        for row in PushReceipt.objects.filter(state=PushReceipt.State.USED):
            assert row.used_at is not None
            assert row.expires_at is not None
            assert row.used_at < row.expires_at
        assert PushReceipt.objects.filter(state=PushReceipt.State.USED).count() == len(self.used)

    @invariant()
    def sweeper_never_takes_a_usable_receipt(self) -> None:
        assert not PushReceipt.objects.filter(state=PushReceipt.State.EXPIRED, expires_at__gt=timezone.now()).exists()

    def teardown(self) -> None:
        self.clock.stop()
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)


@pytest.mark.django_db
def test_receipt_lifecycle_invariants() -> None:
    NetworkConfigurationFactory.create()

    run_state_machine_as_test(
        ReceiptLifecycle,
        settings=settings(
            max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
