"""Staff send a card by link from the card list, see the link once, and revoke links."""

import html
import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from cardholders.models import Card
from core.images import NOT_AN_IMAGE
from landing.models import LandingLink
from landing.services import MintedLink
from tests import factories
from tests.images import REFUSED, SCRIPT, raster, refused, upload
from tests.issuer_portal.helpers import staff_client
from users.models import User

pytestmark = pytest.mark.django_db


def _staff_in(role: str) -> User:
    user: User = factories.UserFactory.create(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_staff_send_a_gift_card_by_link_and_see_it_once(staff_user: User, gift_card: Card) -> None:
    client = staff_client(staff_user)
    action = client.post(
        reverse("admin:cardholders_card_changelist"),
        {"action": "send_by_landing_link", "_selected_action": [gift_card.pk]},
    )
    assert action.status_code == 302
    form_url = action["Location"]
    form = client.get(form_url).content.decode()
    assert 'value="gift" selected' in form  # the purpose follows the card's product
    assert "520082••••••8210" in form
    result = client.post(
        form_url,
        {
            "purpose": "gift",
            "recipient_email": "sam@example.test",
            "message": "Happy birthday",
            "expires_in_days": "30",
            "deliver": "on",
        },
    )
    assert result.status_code == 200
    page = result.content.decode()
    assert "only time the link is shown" in page
    link = LandingLink.objects.get()
    assert link.created_by == staff_user
    assert "/card/open/" in page
    assert "/card/open/" in str(mail.outbox[-1].body)
    assert "sent to the recipient by e-mail" in page
    assert "Open your gift card</a>" in page  # the button for the program's website, escaped in the text area


def test_minting_errors_are_shown_beside_their_field(staff_user: User, gift_card: Card) -> None:
    url = reverse("admin:landing_landinglink_mint", args=[gift_card.public_id])
    page = staff_client(staff_user).post(url, {"purpose": "gift", "expires_in_days": "30"}).content.decode()
    assert "mobile number or e-mail address" in page
    assert not LandingLink.objects.exists()


def _mint_with_art(staff_user: User, card: Card, art: Any) -> str:
    url = reverse("admin:landing_landinglink_mint", args=[card.public_id])
    form = {"purpose": "gift", "recipient_email": "sam@example.test", "expires_in_days": "30", "card_art": art}
    return staff_client(staff_user).post(url, form).content.decode()


@pytest.mark.parametrize("case", REFUSED)
def test_card_art_that_is_not_a_png_jpeg_or_webp_is_refused_beside_its_field(
    staff_user: User, gift_card: Card, case: str
) -> None:
    page = _mint_with_art(staff_user, gift_card, refused(case))
    assert html.escape(NOT_AN_IMAGE) in page
    assert not LandingLink.objects.exists()


def test_card_art_over_the_limits_is_refused_beside_its_field(staff_user: User, gift_card: Card, settings: Any) -> None:
    settings.PORTAL_IMAGE_UPLOAD_MAX_SIDE_PIXELS = 100
    page = _mint_with_art(staff_user, gift_card, upload("art.png", raster("PNG", (101, 50))))
    assert "at most 100 pixels a side" in page
    assert not LandingLink.objects.exists()


def test_card_art_is_stored_re_encoded_under_a_generated_name(staff_user: User, gift_card: Card) -> None:
    page = _mint_with_art(staff_user, gift_card, upload("evil.html", raster("WEBP") + SCRIPT, "text/html"))
    assert "only time the link is shown" in page
    art = LandingLink.objects.get().card_art
    assert re.fullmatch(r"landing-art/[0-9a-f-]{36}\.webp", art.name)
    assert SCRIPT not in art.read()


def test_the_mint_form_offers_only_raster_images(staff_user: User, gift_card: Card) -> None:
    url = reverse("admin:landing_landinglink_mint", args=[gift_card.public_id])
    assert 'accept="image/png,image/jpeg,image/webp"' in staff_client(staff_user).get(url).content.decode()


def test_staff_revoke_links_and_it_is_audited(staff_user: User, minted: MintedLink) -> None:
    response = staff_client(staff_user).post(
        reverse("admin:landing_landinglink_changelist"),
        {"action": "revoke_links", "_selected_action": [minted.link.pk]},
    )
    assert response.status_code == 302
    minted.link.refresh_from_db()
    assert minted.link.status() == LandingLink.Status.REVOKED
    assert AuditEvent.objects.filter(action="landing.link_revoked", actor=staff_user).exists()


def test_operations_may_mint_and_revoke_auditors_only_look(gift_card: Card, minted: MintedLink) -> None:
    operations = staff_client(_staff_in("Operations"))
    auditor = staff_client(_staff_in("Auditor"))
    mint_url = reverse("admin:landing_landinglink_mint", args=[gift_card.public_id])
    assert operations.get(mint_url).status_code == 200
    assert auditor.get(mint_url).status_code == 403
    assert auditor.get(reverse("admin:landing_landinglink_change", args=[minted.link.pk])).status_code == 200
    auditor.post(
        reverse("admin:landing_landinglink_changelist"),
        {"action": "revoke_links", "_selected_action": [minted.link.pk]},
    )
    minted.link.refresh_from_db()
    assert minted.link.revoked_at is None
