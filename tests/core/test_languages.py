"""The portal speaks English and German: the cardholder's preferred language, otherwise the browser's.

The German catalogue must be complete (no empty or fuzzy entry) and compiled (the .mo says what the .po says).
"""

import ast
import gettext
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from cardholders.models import Card, Cardholder
from core.middleware import CardholderLanguageMiddleware
from provisioning import services
from provisioning.mdes.callback import reported_result
from tests import factories
from tests.https_client import HttpsClient
from tests.provisioning.factories import PushFactory, TokenRequestorFactory

PO_PATH = Path(settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")


@pytest.fixture
def german_cardholder(db: Any) -> Cardholder:
    return factories.CardholderFactory.create(preferred_locale="de_DE")


def _signed_in(cardholder: Cardholder) -> HttpsClient:
    client = HttpsClient()
    client.force_login(cardholder.user)
    return client


# --- The cardholder's preference ---------------------------------------------------------------------------


def test_a_german_cardholder_sees_the_home_page_in_german(german_cardholder: Cardholder, card: Card) -> None:
    card.cardholder = german_cardholder
    card.save()
    # The browser asks for English: the cardholder's own preference wins.
    page = _signed_in(german_cardholder).get(reverse("home"), headers={"Accept-Language": "en"})
    html = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="de">' in html
    assert "Ihre Karten" in html
    assert "Zu einer Wallet hinzufügen" in html
    assert "Your cards" not in html
    assert page["Content-Language"] == "de"


def test_a_german_cardholder_confirms_it_is_them_in_german(german_cardholder: Cardholder) -> None:
    page = _signed_in(german_cardholder).get(reverse("step_up"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Bestätigen Sie, dass Sie es sind" in html
    assert "Confirm it is you" not in html


def test_a_german_cardholder_reads_what_happened_to_a_push_in_german(
    german_cardholder: Cardholder, network_config: Any
) -> None:
    card = factories.CardFactory.create(cardholder=german_cardholder)
    push = PushFactory.create(
        card=card, token_requestor=TokenRequestorFactory.create(consumer_facing_name="DemoPay"), receipt="MCC-1"
    )
    services.push_return(push=push, results={"MCC-1": reported_result("APPROVED")})
    page = _signed_in(german_cardholder).get(reverse("provisioning:push_detail", args=[push.public_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Ihre Everyday Debit ist in DemoPay</h1>" in html
    assert f"Ihre Karte •••• {card.last_four} ist jetzt in DemoPay." in html
    assert "Zurück zu Ihren Karten" in html


def test_a_german_cardholder_gets_the_code_and_its_notice_in_german(german_cardholder: Cardholder) -> None:
    client = _signed_in(german_cardholder)
    page = client.post(reverse("step_up"), {"action": "send", "channel": "email", "next": "/"}, follow=True)
    assert "Ihr Code lautet" in str(mail.outbox[-1].body)
    assert "Ihr Code von" in mail.outbox[-1].subject
    assert "Wir haben einen Code an" in page.content.decode()
    wrong = client.post(reverse("step_up"), {"action": "verify_code", "code": "00000000", "next": "/"})
    assert wrong.status_code == 400
    assert "Dieser Code ist nicht richtig" in wrong.content.decode()


def test_an_english_cardholder_keeps_english_whatever_the_browser_says(cardholder: Cardholder) -> None:
    page = _signed_in(cardholder).get(reverse("home"), headers={"Accept-Language": "de"})
    html = page.content.decode()
    assert '<html lang="en">' in html
    assert "Your cards" in html


# --- The browser's preference ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "lang", "words"),
    [
        ("de", "de", "Verwenden Sie die E-Mail-Adresse und das Passwort"),
        ("de-DE,de;q=0.9,en;q=0.8", "de", "Verwenden Sie die E-Mail-Adresse und das Passwort"),
        ("en", "en", "Use the e-mail address and password"),
        ("fr", "en", "Use the e-mail address and password"),
    ],
)
def test_an_anonymous_visitor_signs_in_in_the_browsers_language(accept_language: str, lang: str, words: str) -> None:
    page = HttpsClient().get(reverse("account_login"), headers={"Accept-Language": accept_language})
    html = page.content.decode()
    assert page.status_code == 200
    assert f'<html lang="{lang}">' in html
    assert words in html


def test_a_user_without_cardholder_profile_keeps_the_browsers_language(staff_user: Any) -> None:
    client = HttpsClient()
    client.force_login(staff_user)
    page = client.get(reverse("home"), headers={"Accept-Language": "de"})
    assert '<html lang="de">' in page.content.decode()


# --- The middleware's cost ---------------------------------------------------------------------------------


def _through_middleware(request: HttpRequest) -> str:
    seen: dict[str, str] = {}

    def view(request: HttpRequest) -> HttpResponse:
        seen["language"] = translation.get_language()
        return HttpResponse()

    with translation.override("en"):
        CardholderLanguageMiddleware(view)(request)
    return seen["language"]


@pytest.mark.django_db
def test_the_middleware_asks_nothing_of_the_database_for_anonymous_visitors(
    django_assert_num_queries: Any,
) -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert _through_middleware(request) == "en"


def test_the_middleware_asks_the_database_once_for_a_cardholder(
    german_cardholder: Cardholder, django_assert_num_queries: Any
) -> None:
    request = RequestFactory().get("/")
    request.user = type(german_cardholder.user).objects.get(pk=german_cardholder.user.pk)
    with django_assert_num_queries(1):
        assert _through_middleware(request) == "de"
    assert request.LANGUAGE_CODE == "de"


def test_an_unsupported_preferred_language_changes_nothing(db: Any) -> None:
    french = factories.CardholderFactory.create(preferred_locale="fr_FR")
    request = RequestFactory().get("/")
    request.user = french.user
    assert _through_middleware(request) == "en"


# --- The catalogue -----------------------------------------------------------------------------------------


def _po_entries(path: Path) -> list[dict[str, Any]]:
    """Each entry of a .po file: flags, msgctxt, msgid, msgid_plural and msgstr (a list: one per form)."""
    entries: list[dict[str, Any]] = []
    entry: dict[str, Any] = {"flags": set(), "msgstr": []}
    field = ""

    def finish() -> None:
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {"flags": set(), "msgstr": []}

    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            value = ast.literal_eval(line)
        else:
            if keyword == "msgid" and "msgstr" in entry and entry["msgstr"]:
                finish()
            field, value = keyword, ast.literal_eval(rest)
            if field.startswith("msgstr"):
                entry["msgstr"].append("")
        if field.startswith("msgstr"):
            entry["msgstr"][-1] += value
        else:
            entry[field] = entry.get(field, "") + value
    return entries


def test_every_german_message_is_translated_and_none_is_fuzzy() -> None:
    entries = _po_entries(PO_PATH)
    messages = [e for e in entries if e["msgid"]]
    assert len(messages) > 100
    untranslated = [e["msgid"] for e in messages if not e["msgstr"] or not all(e["msgstr"])]
    fuzzy = [e["msgid"] or "(header)" for e in entries if "fuzzy" in e["flags"]]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_the_compiled_catalogue_says_what_the_po_file_says() -> None:
    """Fails when someone edited the .po without running `manage.py compilemessages -l de`."""
    with MO_PATH.open("rb") as mo:
        compiled = dict(gettext.GNUTranslations(mo)._catalog)  # type: ignore[attr-defined]
    expected: dict[Any, str] = {}
    for e in _po_entries(PO_PATH):
        key = f"{e['msgctxt']}\x04{e['msgid']}" if "msgctxt" in e else e["msgid"]
        if not e["msgid"]:
            continue
        if "msgid_plural" in e:
            expected.update({(key, n): text for n, text in enumerate(e["msgstr"])})
        else:
            expected[key] = e["msgstr"][0]
    compiled.pop("", None)  # the header
    assert compiled == expected
