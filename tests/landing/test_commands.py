"""`manage.py mint_landing_link`: a link for a card from the command line, printed once."""

import io

import pytest
from django.core.management import CommandError, call_command

from cardholders.models import Card
from landing.models import LandingLink

pytestmark = pytest.mark.django_db


def test_the_command_mints_and_prints_a_link(gift_card: Card) -> None:
    out = io.StringIO()
    call_command(
        "mint_landing_link", str(gift_card.public_id), "--purpose=gift", "--email=sam@example.test", stdout=out
    )
    assert "/card/open/" in out.getvalue()
    assert LandingLink.objects.get().created_by_label == "manage.py mint_landing_link"


def test_the_command_names_what_is_wrong(gift_card: Card) -> None:
    with pytest.raises(CommandError, match="recipient_phone"):
        call_command("mint_landing_link", str(gift_card.public_id), "--purpose=gift")
    with pytest.raises(CommandError, match="No card"):
        call_command("mint_landing_link", "not-a-uuid", "--purpose=gift", "--email=sam@example.test")
