"""B1/B2: the scripts cardholder pages load are exactly the approved inventory (PCI DSS 6.4.3)."""

import base64
import hashlib
import time
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from cardholders.models import Card
from provisioning.models import PushRequest
from tests.https_client import HttpsClient
from tests.provisioning.factories import PushFactory
from users.step_up import SESSION_KEY, SESSION_USER_KEY

INVENTORY = Path(__file__).resolve().parents[2] / "security" / "script-inventory.toml"

pytestmark = pytest.mark.django_db


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: set[str] = set()
        self.inline_without_nonce = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "script":
            return
        attributes = dict(attrs)
        if attributes.get("src"):
            self.sources.add(str(attributes["src"]))
        elif attributes.get("type") != "application/json" and not attributes.get("nonce"):
            self.inline_without_nonce += 1


def _pages(client: Client, push: PushRequest, card: Card) -> list[str]:
    signed_out = [reverse("home"), reverse("account_login"), reverse("account_reset_password")]
    pages = [client.get(url).content.decode() for url in signed_out]
    user = card.cardholder.user  # type: ignore[union-attr]
    client.force_login(user)
    session = client.session
    session[SESSION_KEY], session[SESSION_USER_KEY] = time.time(), user.pk  # stepped up a moment ago
    session.save()
    signed_in = [
        reverse("home"),
        f"{reverse('provisioning:choose')}?card={card.public_id}",
        reverse("step_up"),
        reverse("provisioning:push_detail", args=[push.public_id]),
        reverse("mfa_index"),
    ]
    return pages + [client.get(url).content.decode() for url in signed_in]


def test_cardholder_pages_load_only_inventoried_scripts(card: Card) -> None:
    inventory = {entry["src"] for entry in tomllib.loads(INVENTORY.read_text()).get("script", [])}
    for entry in tomllib.loads(INVENTORY.read_text()).get("script", []):
        assert entry.get("justification"), entry
    push = PushFactory.create(card=card, state="redirected")
    parser = _Scripts()
    for page in _pages(HttpsClient(), push, card):
        parser.feed(page)
    assert parser.sources == inventory
    assert parser.inline_without_nonce == 0


def test_each_inventoried_script_is_exactly_the_approved_file() -> None:
    """B2: a changed script needs a new review (its SHA-384 in the inventory)."""
    static_root = Path(__file__).resolve().parents[2] / "static"
    for entry in tomllib.loads(INVENTORY.read_text()).get("script", []):
        content = (static_root / entry["src"].removeprefix("/static/")).read_bytes()
        assert base64.b64encode(hashlib.sha384(content).digest()).decode() == entry["sha384"], entry["src"]
