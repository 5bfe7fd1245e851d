"""Minting, delivering and revoking landing links: what a program manager or staff member may and may not do."""

import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from cardholders.models import Card, Cardholder
from core.images import NOT_AN_IMAGE
from landing.models import LandingAccessToken, LandingLink
from landing.services import (
    LandingError,
    MintedLink,
    landing_access_tokens_purge,
    landing_link_deliver,
    landing_link_mint,
    landing_link_revoke,
    landing_phone_handoff_url,
)
from tests import factories
from tests.images import refused as refused_upload
from tests.landing.conftest import SAM_EMAIL

pytestmark = pytest.mark.django_db


def test_a_minted_link_carries_a_long_random_token_kept_only_as_a_digest(minted: MintedLink) -> None:
    token = urlsplit(minted.url).path.rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 43  # secrets.token_urlsafe(32): 256 bits
    stored = LandingAccessToken.objects.get(link=minted.link)
    assert stored.token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert stored.expires_at == minted.link.expires_at
    assert minted.url.startswith("http://127.0.0.1:8000/card/open/")


def test_a_link_lives_thirty_days_by_default(minted: MintedLink) -> None:
    left = minted.link.expires_at - timezone.now()
    assert timedelta(days=29, hours=23) < left <= timedelta(days=30)
    assert minted.link.status() == LandingLink.Status.ACTIVE


def test_minting_is_audited_without_the_token(minted: MintedLink) -> None:
    event = AuditEvent.objects.get(action="landing.link_minted")
    assert event.actor_label == "test"
    assert event.after == {
        "card": "520082••••••8210",
        "purpose": "gift",
        "expires_at": minted.link.expires_at.isoformat(),
        "contact": ["email"],
    }
    assert minted.url.rsplit("/", 2)[1] not in str(event.after)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"recipient_email": ""}, "recipient_phone"),
        ({"recipient_phone": "0151 1234"}, "recipient_phone"),
        ({"recipient_email": "not-an-address"}, "recipient_email"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 91}, "expires_in_days"),
        ({"max_pushes": 0}, "max_pushes"),
        ({"max_pushes": 6}, "max_pushes"),
        ({"purpose": "birthday"}, "purpose"),
        ({"message": "x" * 501}, "message"),
    ],
)
def test_bad_input_is_refused_naming_the_field(gift_card: Card, changes: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"card": gift_card, "purpose": "gift", "recipient_email": SAM_EMAIL, **changes}
    with pytest.raises(LandingError) as refused:
        landing_link_mint(**arguments)
    assert refused.value.field == field
    assert not LandingLink.objects.exists()


@pytest.mark.parametrize("case", ["html", "svg", "js", "html named .png", "GIF/JavaScript polyglot"])
def test_card_art_that_is_not_a_raster_image_is_refused_naming_the_field(gift_card: Card, case: str) -> None:
    with pytest.raises(LandingError) as refusal:
        landing_link_mint(card=gift_card, purpose="gift", recipient_email=SAM_EMAIL, card_art=refused_upload(case))
    assert (refusal.value.field, str(refusal.value)) == ("card_art", NOT_AN_IMAGE)
    assert not LandingLink.objects.exists()


@hypothesis_settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    max_days=st.integers(min_value=1, max_value=400),
    max_pushes=st.integers(min_value=1, max_value=50),
    days=st.none() | st.integers(min_value=-5, max_value=1_000),
    pushes=st.none() | st.integers(min_value=-5, max_value=2_000),
)
def test_a_link_never_exceeds_the_caps_its_settings_name(
    gift_card: Card, settings: Any, max_days: int, max_pushes: int, days: int | None, pushes: int | None
) -> None:
    """Whoever mints (admin, command, API), the service holds LANDING_LINK_MAX_DAYS and LANDING_LINK_MAX_PUSHES."""
    settings.LANDING_LINK_MAX_DAYS, settings.LANDING_LINK_MAX_PUSHES = max_days, max_pushes
    settings.LANDING_LINK_DEFAULT_DAYS = min(30, max_days)
    within = (days is None or 1 <= days <= max_days) and (pushes is None or 1 <= pushes <= max_pushes)
    arguments: dict[str, Any] = {"card": gift_card, "purpose": "gift", "recipient_email": SAM_EMAIL}
    if not within:
        with pytest.raises(LandingError) as refused:
            landing_link_mint(**arguments, expires_in_days=days, max_pushes=pushes)
        assert refused.value.field in {"expires_in_days", "max_pushes"}
        assert str(max_days if refused.value.field == "expires_in_days" else max_pushes) in str(refused.value)
        return
    link = landing_link_mint(**arguments, expires_in_days=days, max_pushes=pushes).link
    assert 1 <= link.max_pushes <= max_pushes
    assert link.expires_at <= timezone.now() + timedelta(days=max_days)


def test_only_an_active_card_without_an_account_holder_can_be_sent(gift_card: Card, cardholder: Cardholder) -> None:
    gift_card.transition_to(Card.State.SUSPENDED)
    gift_card.save()
    with pytest.raises(LandingError, match="active card"):
        landing_link_mint(card=gift_card, purpose="gift", recipient_email=SAM_EMAIL)
    owned = factories.CardFactory.create(cardholder=cardholder, card_number=factories.TEST_CARD_NUMBERS[3])
    with pytest.raises(LandingError, match="cardholder's account"):
        landing_link_mint(card=owned, purpose="gift", recipient_email=SAM_EMAIL)


def test_delivery_sends_the_link_to_the_recipient(minted: MintedLink) -> None:
    assert landing_link_deliver(minted=minted) == "email"
    assert mail.outbox[-1].to == [SAM_EMAIL]
    assert minted.url in str(mail.outbox[-1].body)
    assert "Sunny Gifts" in mail.outbox[-1].subject
    assert AuditEvent.objects.filter(action="landing.link_sent", after__channel="email").exists()


def test_a_link_that_cannot_be_delivered_says_so_and_stays_valid(gift_card: Card) -> None:
    # Only a phone on file, and the configured backend sends e-mail only.
    minted = landing_link_mint(card=gift_card, purpose="expense", recipient_phone="+4915112345678")
    with pytest.raises(LandingError, match="could not be sent"):
        landing_link_deliver(minted=minted)
    assert minted.link.status() == LandingLink.Status.ACTIVE


def test_revoking_is_immediate_audited_and_happens_once(minted: MintedLink, staff_user: Any) -> None:
    assert landing_link_revoke(link=minted.link, actor=staff_user) is True
    assert minted.link.status() == LandingLink.Status.REVOKED
    assert minted.link.revoked_by_label == staff_user.email
    assert landing_link_revoke(link=minted.link, actor=staff_user) is False
    assert AuditEvent.objects.filter(action="landing.link_revoked").count() == 1


def test_the_program_names_the_sender_unless_the_link_does(gift_card: Card) -> None:
    plain = landing_link_mint(card=gift_card, purpose="gift", recipient_email=SAM_EMAIL)
    branded = landing_link_mint(card=gift_card, purpose="gift", recipient_email=SAM_EMAIL, program_name="Grandma")
    assert plain.link.display_name == "Sunny Gifts"
    assert branded.link.display_name == "Grandma"


def test_expired_access_tokens_are_purged_and_live_ones_kept(minted: MintedLink) -> None:
    landing_phone_handoff_url(link=minted.link)
    LandingAccessToken.objects.filter(kind=LandingAccessToken.Kind.PHONE_HANDOFF).update(expires_at=timezone.now())
    assert landing_access_tokens_purge() == 1
    assert list(LandingAccessToken.objects.values_list("kind", flat=True)) == [LandingAccessToken.Kind.SENT]
