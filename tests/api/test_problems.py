"""One error shape everywhere: RFC 7807 problem details with a stable code, fields named in validation errors."""

from typing import Any

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardholders.models import Card
from tests.api.conftest import HttpsApiClient

pytestmark = pytest.mark.django_db

SHAPE = {"type", "title", "status", "detail", "code"}


def _is_problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/problem+json"  # type: ignore[index]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert set(body) >= SHAPE
    assert (body["status"], body["code"]) == (status, code)
    assert body["type"] == f"https://portal.invalid/problems/{code}"
    return body


def test_validation_errors_name_each_field_by_its_path(app: HttpsApiClient, card: Card) -> None:
    response = app.post(
        reverse("api:my_pushes"),
        {"cards": ["not-a-uuid"], "platform": "PHONE"},
        format="json",
        headers={"Idempotency-Key": "p1"},
    )
    body = _is_problem(response, 400, "validation_failed")
    errors = {(e["field"], e["code"]) for e in body["errors"]}  # type: ignore[attr-defined]
    assert errors == {("cards.0", "invalid"), ("token_requestor", "required"), ("platform", "invalid_choice")}


def test_nested_list_errors_name_the_item(app: HttpsApiClient) -> None:
    response = app.post(
        reverse("api:my_push_result", args=["00000000-0000-0000-0000-000000000000"]),
        {"results": [{"receipt": "r", "result": "APPROVED"}, {"receipt": "r2", "result": "MAYBE"}]},
        format="json",
    )
    body = _is_problem(response, 400, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["results.1.result"]  # type: ignore[attr-defined]


def test_malformed_json_is_a_problem(app: HttpsApiClient) -> None:
    response = app.post(
        reverse("api:my_pushes"), "{not json", content_type="application/json", headers={"Idempotency-Key": "p2"}
    )
    _is_problem(response, 400, "malformed_request")


def test_missing_credentials_say_which_scheme(db: None) -> None:
    response = HttpsApiClient().get(reverse("api:program_cards"))
    _is_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_unknown_addresses_and_methods_under_the_api_are_problems(app: HttpsApiClient) -> None:
    _is_problem(app.get("/api/v1/nothing-here/"), 404, "not_found")
    _is_problem(app.get("/api/v2/me/cards/"), 404, "not_found")
    _is_problem(app.put(reverse("api:my_cards")), 405, "method_not_allowed")


def test_unsupported_media_type_is_a_problem(app: HttpsApiClient) -> None:
    response = app.post(reverse("api:my_pushes"), "a=b", content_type="text/plain", headers={"Idempotency-Key": "p3"})
    _is_problem(response, 415, "unsupported_media_type")


# --- Bodies the API never parses: too large, too deep -----------------------------------------------------------------


def _mint(manager: HttpsApiClient, body: bytes) -> Any:
    return manager.generic("POST", reverse("api:program_landing_links"), body.decode(), content_type="application/json")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(min_value=11, max_value=5_000), kind=st.sampled_from(["[", '{"a":']))
def test_a_body_nested_deeper_than_the_limit_is_a_400_at_any_depth_within_the_size_limit(
    manager: HttpsApiClient, gift_card: Card, depth: int, kind: str
) -> None:
    closing = "]" if kind == "[" else "}"
    body = f'{{"card": "{gift_card.public_id}", "purpose": "gift", "message": {kind * depth}1{closing * depth}}}'
    _is_problem(_mint(manager, body.encode()), 400, "malformed_request")


def test_a_body_nested_within_the_limit_is_parsed(manager: HttpsApiClient, gift_card: Card) -> None:
    body = f'{{"card": "{gift_card.public_id}", "purpose": "gift", "message": {"[" * 9}1{"]" * 9}}}'
    body_fields = _is_problem(_mint(manager, body.encode()), 400, "validation_failed")["errors"]
    assert [e["field"] for e in body_fields] == ["message"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [64 * 1024 + 1, 3 * 1024 * 1024])
def test_a_body_larger_than_the_limit_is_a_413(manager: HttpsApiClient, size: int) -> None:
    body = b'{"message": "' + b"x" * size + b'"}'
    _is_problem(_mint(manager, body), 413, "request_too_large")


def test_a_5_mb_receipt_in_a_result_report_is_a_413(app: HttpsApiClient) -> None:
    body = b'{"results": [{"receipt": "' + b"R" * 5_000_000 + b'", "result": "APPROVED"}]}'
    push = "00000000-0000-0000-0000-000000000000"
    url = reverse("api:my_push_result", args=[push])
    response = app.generic("POST", url, body.decode(), content_type="application/json")
    _is_problem(response, 413, "request_too_large")


def test_a_receipt_longer_than_mdes_issues_is_a_validation_error(app: HttpsApiClient) -> None:
    response = app.post(
        reverse("api:my_push_result", args=["00000000-0000-0000-0000-000000000000"]),
        {"results": [{"receipt": "R" * 129, "result": "APPROVED"}]},
        format="json",
    )
    body = _is_problem(response, 400, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("results.0.receipt", "max_length")]  # type: ignore[attr-defined]
