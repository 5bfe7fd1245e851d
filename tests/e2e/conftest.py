"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser) against a live server."""

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail

from cardholders.models import Cardholder
from provisioning import refresh
from provisioning.models import NetworkConfiguration, TokenRequestor
from tests import factories
from tests.factories import TEST_PASSWORD

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Collects CSP violations and errors for the assertions below (runs before any page script, outside the page's CSP).
WATCH_PAGE = """
window.__problems = [];
document.addEventListener('securitypolicyviolation', e => window.__problems.push(
  'CSP ' + e.violatedDirective + ' blocked ' + e.blockedURI));
window.addEventListener('error', e => window.__problems.push('error ' + e.message));
"""

# Playwright's sync API runs an event loop in this thread; the tests still use the ORM synchronously.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def plain_http_settings(settings: Any) -> Any:
    """Cookies without the Secure flag and the __Host- prefix, which browsers refuse over plain HTTP."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SESSION_COOKIE_NAME = "sessionid"
    settings.CSRF_COOKIE_NAME = "csrftoken"
    settings.LANGUAGE_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_NAME = "django_language"
    return settings


@pytest.fixture
def page(browser: Any, live_server: Any, plain_http_settings: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(WATCH_PAGE)
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.extend([message.text] if message.type == "error" else []))
    page.on("response", lambda r: console_errors.extend([f"HTTP {r.status} {r.url}"] if r.status >= 400 else []))
    page.console_errors = console_errors
    yield page
    context.close()


@pytest.fixture
def wallets_ready(
    sandbox_network_config: NetworkConfiguration, live_server: Any, settings: Any
) -> NetworkConfiguration:
    """The sandbox's token requestors refreshed and all offered; callbacks and landing links point here."""
    settings.PORTAL_BASE_URL = live_server.url
    sandbox_network_config.callback_base_url = live_server.url
    sandbox_network_config.save()
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)
    return sandbox_network_config


@pytest.fixture
def alice(wallets_ready: NetworkConfiguration) -> Cardholder:
    """A cardholder with two cards (Everyday Debit and Rewards) and wallets to put them in."""
    cardholder: Cardholder = factories.CardholderFactory.create()
    factories.CardFactory.create(cardholder=cardholder)
    factories.CardFactory.create(
        cardholder=cardholder, card_number=factories.TEST_CARD_NUMBERS[1], product_name="Rewards"
    )
    return cardholder


def page_problems(page: Any) -> list[str]:
    """CSP violations, script errors and console errors seen on the current page."""
    return list(page.evaluate("window.__problems || []")) + list(page.console_errors)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# The confirmation page after a wallet or merchant sent the cardholder back (its heading is the outcome).
OUTCOME_PAGE = re.compile(r"/push/[0-9a-f-]{36}/$")

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def accessibility_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.2 AA findings on the current page (target-size included, it is off by default)."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]]


def sign_in(page: Any, email: str, password: str = TEST_PASSWORD) -> None:
    """Fill in the sign-in form the page shows (opening it first if the page is elsewhere)."""
    if "/accounts/login/" not in page.url:
        page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


FOCUSED_AND_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const box = el.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const inViewport = box.width > 0 && box.height > 0 && y >= 0 && y <= innerHeight && x >= 0 && x <= innerWidth;
  const top = document.elementFromPoint(x, y);
  const label = el.labels && el.labels[0];
  const uncovered = !!top && (el === top || el.contains(top) || (label && (label === top || label.contains(top))));
  const name = (el.getAttribute('aria-label') || (label && label.innerText) || el.innerText || el.value || '').trim();
  return {name, visible: inViewport && uncovered, outline: getComputedStyle(el).outlineStyle};
}"""


def step_up_by_email(page: Any, before_the_code: Callable[[], object] | None = None) -> None:
    """On the step-up page: a code by e-mail, read from Django's outbox, typed and confirmed. `before_the_code`
    runs once the code field shows (a screenshot, an accessibility check)."""
    page.get_by_label(re.compile("E-mail to")).check()
    page.get_by_role("button", name="Send code").click()
    page.get_by_label(re.compile("The code we sent")).wait_for()
    if before_the_code is not None:
        before_the_code()
    code = re.search(r"\b(\d{8})\b", str(mail.outbox[-1].body))
    assert code
    page.get_by_label(re.compile("The code we sent")).fill(code.group(1))
    page.get_by_role("button", name="Confirm").click()


def tab_to(page: Any, name: str, limit: int = 40) -> None:
    """Press Tab until the focused element's accessible name contains `name`, checking every stop is visible."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_AND_VISIBLE)
        if focused is None:
            continue
        assert focused["visible"], f"focus stop {focused['name']!r} is hidden or covered"
        if name in focused["name"]:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def totp_now(secret: str) -> str:
    """The authenticator's current code, taken early enough in its 30-second period to still be valid when the
    browser submits it (a code read in the last seconds of a period would expire on the way)."""
    if time.time() % 30 > 25:
        time.sleep(30 - time.time() % 30 + 0.1)
    return str(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
