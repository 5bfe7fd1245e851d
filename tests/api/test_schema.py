"""The OpenAPI description: generated from the code, checked in, served, and the same in all three places."""

import yaml
from django.urls import reverse

from api.schema import CHECKED_IN, openapi_yaml
from tests.api.conftest import HttpsApiClient


def test_the_checked_in_schema_matches_the_code(db: None) -> None:
    assert CHECKED_IN.read_bytes() == openapi_yaml(), (
        "api/openapi.yaml is out of date with the code: run `make api-schema` "
        "(.venv/bin/python scripts/api_schema.py) and commit the result."
    )


def test_the_schema_is_served_at_a_stable_address(db: None) -> None:
    response = HttpsApiClient().get(reverse("api:schema"))
    assert response.status_code == 200
    assert yaml.safe_load(response.content) == yaml.safe_load(CHECKED_IN.read_bytes())


def test_every_error_answer_is_documented_as_a_problem(db: None) -> None:
    schema = yaml.safe_load(CHECKED_IN.read_bytes())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
