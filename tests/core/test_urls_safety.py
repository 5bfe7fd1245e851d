"""E3 and A6: no open redirect through `next`, and no URL carries a card number, receipt or code."""

from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import given, settings
from hypothesis import strategies as st

from core.urls_safety import safe_next

HOSTILE = [
    "//evil.example",
    "\\\\evil.example",
    "/\\evil.example",
    "https:evil.example",
    "https://evil.example/path",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    " //evil.example",
    "\t//evil.example",
    "/\n/evil.example",
    "/\t/evil.example",
    "/ /evil.example",
    "//\uff45\uff56\uff49\uff4c.example",  # full-width letters some parsers fold to ASCII
    "http:/evil.example",
]


def _next(value: str) -> str:
    return safe_next(RequestFactory().get("/", secure=True), value)


def test_hostile_next_values_go_home() -> None:
    for value in HOSTILE:
        assert _next(value) == "/", value


@settings(max_examples=500)
@given(st.text(max_size=60))
def test_any_next_value_stays_on_this_site(value: str) -> None:
    target = _next(value)
    assert target.startswith("/")
    assert not target.startswith(("//", "/\\"))


def test_our_own_paths_are_kept() -> None:
    assert _next("/wallets/?card=1") == "/wallets/?card=1"


def _patterns(resolver: URLResolver, prefix: str = "") -> list[str]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            found += _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return found


def test_no_url_pattern_carries_card_numbers_receipts_or_codes() -> None:
    patterns = " ".join(_patterns(get_resolver())).lower()
    for word in ("pan", "card_number", "cardnumber", "receipt", "otp", "cvc", "cvv"):
        assert f"<{word}" not in patterns, word
        assert f"<str:{word}" not in patterns, word
