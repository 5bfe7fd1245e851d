"""The portal's own pages for requests it refuses."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.json_limits import json_nesting_exceeds
from tests.https_client import HttpsClient


@pytest.mark.django_db
def test_a_refused_form_gets_a_clear_page_in_the_portals_styles(cardholder: Any) -> None:
    client = HttpsClient(enforce_csrf_checks=True)
    client.force_login(cardholder.user)
    response = client.post("/push/", {"card": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "Please try that again" in page
    assert "<style" not in page  # nothing the CSP would block


# --- The CSP report sink takes browsers' reports and nothing else ---------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


def _report(body: bytes) -> Any:
    return HttpsClient().generic("POST", "/csp-report/", body, content_type="application/csp-report")


@settings(max_examples=60)
@given(document=json_values | st.builds(lambda value: {"csp-report": value}, json_values))
def test_any_json_but_a_report_object_is_a_400(document: Any) -> None:
    is_report = isinstance(document, dict) and isinstance(document.get("csp-report"), dict)
    expected = 204 if is_report and not json_nesting_exceeds(json.dumps(document), 4) else 400
    assert _report(json.dumps(document).encode()).status_code == expected


@pytest.mark.parametrize("body", [b"[" * 8000 + b"]" * 8000, b'{"csp-report": {"a": ' + b"[" * 3 + b"]" * 3 + b"}}"])
def test_a_report_nested_deeper_than_a_report_is_a_400(body: bytes) -> None:
    assert _report(body).status_code == 400


def test_a_report_larger_than_any_browser_sends_is_a_413() -> None:
    body = json.dumps({"csp-report": {"blocked-uri": "x" * 20_000}}).encode()
    assert _report(body).status_code == 413


def test_a_browsers_report_is_taken() -> None:
    report = {"csp-report": {"blocked-uri": "inline", "violated-directive": "script-src", "document-uri": "/"}}
    assert _report(json.dumps(report).encode()).status_code == 204
