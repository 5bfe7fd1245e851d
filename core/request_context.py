"""The id and client address of the request being served, for log records and audit events (per thread or task)."""

from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str) -> None:
    _request_id.set(value)


_client_ip: ContextVar[str | None] = ContextVar("client_ip", default=None)


def current_client_ip() -> str | None:
    """The client address of the request being served, so that services deep in a call record it too."""
    return _client_ip.get()


def set_client_ip(value: str | None) -> None:
    _client_ip.set(value)
