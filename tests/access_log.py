"""runserver's access log (the `django.server` logger), for requests made with Django's test client."""

from typing import Any

from django.core.servers.basehttp import WSGIRequestHandler


def log_access_line(request_line: str, status: int = 200) -> None:
    """Log `request_line` ("GET /path?query HTTP/1.1") exactly as runserver's request handler does."""
    handler: Any = WSGIRequestHandler.__new__(WSGIRequestHandler)  # no socket: only its logging is used
    handler.request = object()
    handler.log_date_time_string = lambda: "01/Dec/2026 12:00:00"
    handler.log_message('"%s" %s %s', request_line, str(status), "0")


def log_access_of(response: Any) -> None:
    """The access-log line of a test client's `response`."""
    request = response.request
    query = request.get("QUERY_STRING", "")
    path = request["PATH_INFO"] + (f"?{query}" if query else "")
    log_access_line(f"{request['REQUEST_METHOD']} {path} HTTP/1.1", response.status_code)
