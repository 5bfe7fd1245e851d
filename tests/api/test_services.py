"""App tokens push as the browser's step-up would: while the proof they carry is fresh, for the cards it is bound to."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from knox.models import AuthToken

from api.models import AppTokenGrant
from api.services import app_token_covers
from cardholders.models import Cardholder

pytestmark = pytest.mark.django_db

CARDS = ["card-a", "card-b", "card-c"]
card_sets = st.sets(st.sampled_from(CARDS), min_size=1)


@hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bound=st.none() | card_sets,
    pushes=st.lists(card_sets, min_size=1, max_size=4),
    age=st.integers(min_value=0, max_value=600),
)
def test_a_token_pushes_exactly_what_its_step_up_covers(
    cardholder: Cardholder, settings: Any, bound: set[str] | None, pushes: list[set[str]], age: int
) -> None:
    token, _ = AuthToken.objects.create(user=cardholder.user)
    passed_at = timezone.now() - timedelta(seconds=age)
    AppTokenGrant.objects.create(
        token=token, session_ref="s", step_up_at=passed_at, step_up_cards=sorted(bound) if bound else None
    )
    fresh = age <= settings.PORTAL_STEP_UP_MAX_AGE_SECONDS
    binding = bound
    with time_machine.travel(timezone.now(), tick=False):
        for cards in pushes:
            if fresh and binding is None:
                binding = cards  # the first push binds an unbound proof
            assert app_token_covers(token=token, card_ids=cards) == (fresh and binding is not None and cards <= binding)
    token.delete()


def test_a_token_minted_before_push_rights_existed_pushes_nothing(cardholder: Cardholder) -> None:
    token, _ = AuthToken.objects.create(user=cardholder.user)
    assert not app_token_covers(token=token, card_ids=["card-a"])
