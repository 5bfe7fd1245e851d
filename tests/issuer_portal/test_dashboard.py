"""The provisioning dashboard: the funnel per requestor and per day, counted by the network's word, and how the
background jobs went."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from cardholders.models import Card
from provisioning.models import JobRun, NetworkCheck, PushReceipt
from tests.factories import StaffUserFactory
from tests.issuer_portal.helpers import staff_client
from tests.provisioning.factories import PushFactory, TokenRequestorFactory
from users.models import User

pytestmark = pytest.mark.django_db


def _returned(card: Card, requestor: object, result: str, check: str = NetworkCheck.CONFIRMED) -> None:
    """A push that came back with `result`, and how the network check of it stands."""
    push = PushFactory.create(card=card, token_requestor=requestor, state="redirected")
    push.redirected_at = timezone.now()
    push.transition_to("returned")
    push.returned_at = timezone.now()
    push.save()
    receipt = push.receipts.get()
    receipt.transition_to(PushReceipt.State.USED)
    receipt.result = receipt.reported_result = result
    receipt.network_check = check
    receipt.used_at = timezone.now()
    receipt.save()


def test_dashboard_draws_the_funnel_and_the_job_outcomes(staff_user: User, card: Card) -> None:
    demopay = TokenRequestorFactory.create(consumer_facing_name="DemoPay")
    _returned(card, demopay, "APPROVED")
    _returned(card, demopay, "DECLINED")
    PushFactory.create(card=card, token_requestor=demopay, state="pushed")
    JobRun.objects.create(job="refresh_token_requestors").finish(state=JobRun.State.SUCCEEDED)
    JobRun.objects.create(job="expire_push_receipts").finish(state=JobRun.State.SUCCEEDED, counts={"expired": 4})

    response = staff_client(staff_user).get(reverse("admin:dashboard"), {"days": "7"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page
    assert '<title id="funnel-title">' in page
    assert '<th scope="row">DemoPay</th><td>3</td><td>2</td><td>2</td><td>1</td>' in page
    assert "Token requestor refresh:" in page
    assert "succeeded" in page
    assert "4 expired" in page
    assert "<script" not in page.split('id="content-main"')[1]


def test_dashboard_gives_conversions_and_why_cards_were_not_added(staff_user: User, card: Card) -> None:
    demopay = TokenRequestorFactory.create(consumer_facing_name="DemoPay")
    shop = TokenRequestorFactory.create(consumer_facing_name="Sunday Store")
    _returned(card, demopay, "APPROVED")
    _returned(card, demopay, "DECLINED")
    _returned(card, demopay, "CANCELLED")
    _returned(card, shop, "DUPLICATE_REQUEST")
    PushFactory.create(card=card, token_requestor=demopay, state="redirected")

    page = staff_client(staff_user).get(reverse("admin:dashboard"), {"days": "7"}).content.decode()

    assert "4 · 80%</text>" in page  # 5 started, 4 came back: 80% of the step before
    assert "1 · 25%</text>" in page  # 1 added of 4 that came back
    assert '<th scope="row">DemoPay</th><td>4</td><td>3</td><td>3</td><td>1</td><td>25%</td>' in page
    # Declined, Cancelled, Already there, Error, More verification, Expired, Refused
    assert '<th scope="row">DemoPay</th><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td>' in page
    assert '<th scope="row">Sunday Store</th><td>0</td><td>0</td><td>1</td>' in page
    assert "DemoPay: Declined 1, Cancelled 1." in page  # the chart's text alternative
    assert "Cards not added per day, by reason" in page
    assert '<text x="-6" y="14" font-size="12" text-anchor="end" fill="#333">5</text>' in page  # the daily y axis


def test_dashboard_needs_permission_to_see_pushes(db: None) -> None:
    nobody = StaffUserFactory.create(is_superuser=False)
    assert staff_client(nobody).get(reverse("admin:dashboard")).status_code == 403
    auditor = StaffUserFactory.create(is_superuser=False)
    auditor.groups.add(Group.objects.get(name="Auditor"))
    assert staff_client(auditor).get(reverse("admin:dashboard")).status_code == 200


def test_an_unknown_period_falls_back_to_thirty_days(staff_user: User) -> None:
    page = staff_client(staff_user).get(reverse("admin:dashboard"), {"days": "9999"}).content.decode()
    assert "Funnel, last 30 days" in page


def test_the_funnel_counts_added_by_the_networks_word_and_says_what_is_still_being_checked(
    staff_user: User, card: Card
) -> None:
    demopay = TokenRequestorFactory.create(consumer_facing_name="DemoPay")
    _returned(card, demopay, "APPROVED", NetworkCheck.CONFIRMED)
    _returned(card, demopay, "APPROVED", NetworkCheck.CORRECTED)  # the browser said otherwise; the network has it
    _returned(card, demopay, "NOT_ADDED", NetworkCheck.CORRECTED)  # a forged APPROVED, corrected
    _returned(card, demopay, "APPROVED", NetworkCheck.PENDING)  # reported only, the network not asked yet
    _returned(card, demopay, "APPROVED", NetworkCheck.UNCHECKED)  # the network could not be asked
    _returned(card, demopay, "AUTHENTICATED", NetworkCheck.CONFIRMED)  # a merchant saved it: added too

    page = staff_client(staff_user).get(reverse("admin:dashboard"), {"days": "7"}).content.decode()

    # Started, sent on, came back, added (confirmed), added of started, still being checked, could not be checked
    assert (
        '<th scope="row">DemoPay</th><td>6</td><td>6</td><td>6</td><td>3</td><td>50%</td><td>1</td><td>1</td>' in page
    )
    assert "Added (confirmed)" in page
    assert "1 push still being checked with the network: not counted as added yet." in page
    assert "1 push could not be checked with the network: only the wallet's or merchant's report" in page
    # Why not added: ... No token at the network, Not kept by the merchant, still being checked, could not be checked
    assert "DemoPay: No token at the network 1, Still being checked with the network 1, Could not be checked " in page
