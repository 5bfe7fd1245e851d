"""One-time codes: right once, wrong elsewhere, few attempts, short life; every check counted by its outcome."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.one_time_codes import MAX_ATTEMPTS, CodeProblem, one_time_code_new, one_time_code_verify
from tests.https_client import HttpsClient
from tests.metrics import moved, scrape
from users.models import StepUpCode, User

pytestmark = pytest.mark.django_db


def _issue(user: User, scope: str) -> str:
    new = one_time_code_new(scope=scope)
    StepUpCode.objects.create(
        user=user, channel="email", sent_to_hint="x", code_hash=new.code_hash, expires_at=new.expires_at
    )
    assert len(new.code) == 8
    assert new.code.isdigit()
    assert new.code not in repr(new)
    return new.code


def test_a_code_is_right_once(staff_user: User) -> None:
    code = _issue(staff_user, "scope-a")
    codes = StepUpCode.objects.filter(user=staff_user)
    assert one_time_code_verify(codes, f" {code[:4]} {code[4:]} ", scope="scope-a") is None  # spaces are forgiven
    assert one_time_code_verify(codes, code, scope="scope-a") is CodeProblem.EXPIRED  # used up


def test_a_code_is_worth_nothing_in_another_scope(staff_user: User) -> None:
    code = _issue(staff_user, "landing:one")
    assert (
        one_time_code_verify(StepUpCode.objects.filter(user=staff_user), code, scope="landing:two") is CodeProblem.WRONG
    )


def test_attempts_run_out_even_for_the_right_code(staff_user: User) -> None:
    code = _issue(staff_user, "s")
    codes = StepUpCode.objects.filter(user=staff_user)
    for _ in range(MAX_ATTEMPTS):
        assert one_time_code_verify(codes, "not it", scope="s") is CodeProblem.WRONG
    assert one_time_code_verify(codes, code, scope="s") is CodeProblem.TOO_MANY_ATTEMPTS


def test_a_code_lives_five_minutes(staff_user: User) -> None:
    code = _issue(staff_user, "s")
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        assert one_time_code_verify(StepUpCode.objects.filter(user=staff_user), code, scope="s") is CodeProblem.EXPIRED


def test_every_check_is_counted_by_its_outcome_and_never_by_its_code(staff_user: User) -> None:
    client = HttpsClient()
    _, before = scrape(client)
    codes = StepUpCode.objects.filter(user=staff_user)
    used = _issue(staff_user, "s")
    one_time_code_verify(codes, used, scope="s")
    one_time_code_verify(codes, used, scope="s")  # used up: no live code left
    locked = _issue(staff_user, "s")
    for _ in range(MAX_ATTEMPTS):
        one_time_code_verify(codes, "12345678", scope="s")
    one_time_code_verify(codes, locked, scope="s")

    text, after = scrape(client)
    checks = "portal_one_time_code_checks_total"
    assert moved(before, after, checks, outcome="accepted") == 1
    assert moved(before, after, checks, outcome="expired") == 1
    assert moved(before, after, checks, outcome="wrong") == MAX_ATTEMPTS
    assert moved(before, after, checks, outcome="too_many_attempts") == 1
    assert used not in text
    assert locked not in text
