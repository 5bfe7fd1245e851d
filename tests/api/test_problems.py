"""One error shape everywhere: RFC 7807 problem details with a stable code, fields named in validation errors."""

import pytest
from django.urls import reverse

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
