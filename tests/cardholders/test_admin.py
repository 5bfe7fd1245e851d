"""Staff upload card and program art in the staff area: raster images only, stored re-encoded."""

import html
import re

import pytest
from django.urls import reverse

from cardholders.models import Card, Program
from core.images import NOT_AN_IMAGE
from tests.images import REFUSED, raster, refused, upload
from tests.issuer_portal.helpers import staff_client
from users.models import User

pytestmark = pytest.mark.django_db


def _change_card(staff_user: User, card: Card, art: object) -> str:
    form = {
        "product_name": card.product_name,
        "product_kind": card.product_kind,
        "cardholder": card.cardholder_id or "",
        "program": card.program_id or "",
        "state": card.state,
        "card_art": art,
    }
    return (
        staff_client(staff_user).post(reverse("admin:cardholders_card_change", args=[card.pk]), form).content.decode()
    )


@pytest.mark.parametrize("case", ["html", "svg", "js", "html named .png", "GIF/JavaScript polyglot"])
def test_program_art_that_is_not_a_raster_image_is_refused_beside_its_field(staff_user: User, case: str) -> None:
    response = staff_client(staff_user).post(
        reverse("admin:cardholders_program_add"), {"name": "Sunny Gifts", "card_art": refused(case)}
    )
    assert response.status_code == 200
    assert html.escape(NOT_AN_IMAGE) in response.content.decode()
    assert not Program.objects.exists()


@pytest.mark.parametrize("case", REFUSED)
def test_card_art_that_is_not_a_raster_image_is_refused_beside_its_field(
    staff_user: User, card: Card, case: str
) -> None:
    assert html.escape(NOT_AN_IMAGE) in _change_card(staff_user, card, refused(case))
    card.refresh_from_db()
    assert not card.card_art


def test_card_art_is_stored_re_encoded_under_a_generated_name(staff_user: User, card: Card) -> None:
    _change_card(staff_user, card, upload("art.html", raster("JPEG"), "text/html"))
    card.refresh_from_db()
    assert re.fullmatch(r"card-art/[0-9a-f-]{36}\.jpg", card.card_art.name)
