"""App tokens push as the browser's step-up would: while the proof they carry is fresh."""

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
from api.services import app_token_step_up_is_fresh
from cardholders.models import Cardholder

pytestmark = pytest.mark.django_db


@hypothesis_settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(age=st.integers(min_value=0, max_value=600))
def test_a_token_pushes_while_its_step_up_is_fresh_and_not_after(
    cardholder: Cardholder, settings: Any, age: int
) -> None:
    token, _ = AuthToken.objects.create(user=cardholder.user)
    with time_machine.travel(timezone.now(), tick=False):
        AppTokenGrant.objects.create(token=token, session_ref="s", step_up_at=timezone.now() - timedelta(seconds=age))
        assert app_token_step_up_is_fresh(token=token) == (age <= settings.PORTAL_STEP_UP_MAX_AGE_SECONDS)
    token.delete()


def test_a_token_minted_before_push_rights_existed_pushes_nothing(cardholder: Cardholder) -> None:
    token, _ = AuthToken.objects.create(user=cardholder.user)
    assert not app_token_step_up_is_fresh(token=token)
