"""Lifecycles: each model moves only along its legal transitions, whoever tries otherwise."""

import pytest
from django.db import IntegrityError, transaction

from cardholders.models import Card
from core.states import IllegalTransitionError
from provisioning.models import PushReceipt, PushRequest
from tests.provisioning.factories import PushFactory, TokenRequestorFactory

pytestmark = pytest.mark.django_db


def test_push_moves_forward_along_the_funnel(card: Card) -> None:
    push = PushFactory.create(card=card, state="redirected")
    push.transition_to(PushRequest.State.RETURNED)
    push.save()
    push.refresh_from_db()
    assert push.state == PushRequest.State.RETURNED


@pytest.mark.parametrize(
    ("start", "target"),
    [("started", "redirected"), ("pushed", "started"), ("redirected", "failed")],
)
def test_push_refuses_illegal_transitions(card: Card, start: str, target: str) -> None:
    push = PushFactory.create(card=card, state=start)
    with pytest.raises(IllegalTransitionError):
        push.transition_to(target)


def test_a_stray_assignment_cannot_skip_a_state_either(card: Card) -> None:
    push = PushFactory.create(card=card, state="started")
    push.state = PushRequest.State.RETURNED
    with pytest.raises(IllegalTransitionError):
        push.save()
    assert PushRequest.objects.get(pk=push.pk).state == PushRequest.State.STARTED


def test_final_states_are_final(card: Card) -> None:
    push = PushFactory.create(card=card)
    push.transition_to(PushRequest.State.FAILED)
    push.save()
    reloaded = PushRequest.objects.get(pk=push.pk)
    for target in PushRequest.State.values:
        with pytest.raises(IllegalTransitionError):
            reloaded.transition_to(target)


def test_a_push_is_created_only_in_its_initial_state(card: Card) -> None:
    push = PushFactory.create(card=card)
    push.pk = None
    push._state.adding = True
    del push._loaded_state
    with pytest.raises(IllegalTransitionError):
        push.save()


def test_used_or_expired_receipts_never_go_back_to_issued(card: Card) -> None:
    receipt = PushFactory.create(card=card).receipts.get()
    receipt.transition_to(PushReceipt.State.EXPIRED)
    receipt.save()
    receipt = PushReceipt.objects.get(pk=receipt.pk)
    receipt.state = PushReceipt.State.ISSUED
    with pytest.raises(IllegalTransitionError):
        receipt.save()


def test_the_database_refuses_a_used_receipt_without_a_result(card: Card) -> None:
    receipt = PushFactory.create(card=card).receipts.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        PushReceipt.objects.filter(pk=receipt.pk).update(state=PushReceipt.State.USED)


def test_the_same_receipt_cannot_belong_to_two_pushes(card: Card) -> None:
    first = PushFactory.create(card=card).receipts.get()
    second = PushFactory.create(card=card, token_requestor=first.push.token_requestor).receipts.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        PushReceipt.objects.filter(pk=second.pk).update(receipt_digest=first.receipt_digest)


def test_a_retired_token_requestor_cannot_be_offered(db: None) -> None:
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        TokenRequestorFactory.create(offered=True, retired_at=timezone.now())
