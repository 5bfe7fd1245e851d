"""The shape of an RFC 7807 problem (application/problem+json), for the API and for requests refused before it."""

from typing import Any

CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://portal.invalid/problems/"  # a URI reference that names the code; it is not fetched


def problem_body(*, status_code: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": TYPE_BASE + code, "title": title, "status": status_code, "detail": detail, "code": code, **extra}
