"""Headers for files the portal serves but whose content it did not write (uploaded card art, the network's
logos), and for its static files, which whitenoise answers before the portal's middleware runs."""

from typing import TYPE_CHECKING

from django.utils.http import content_disposition_header

if TYPE_CHECKING:
    from wsgiref.headers import Headers

    from django.http import HttpResponseBase

# A file opened on its own is a document: this one may run nothing, load nothing and reach no origin.
SANDBOX_POLICY = "default-src 'none'; sandbox"


def sandboxed_file_headers(response: "HttpResponseBase", *, filename: str, policy: str = SANDBOX_POLICY) -> None:
    """Mark `response` as a file to show, never a page of this origin (the site-wide CSP keeps a policy set here)."""
    response["Content-Disposition"] = content_disposition_header(False, filename) or "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = policy
    response["Cross-Origin-Resource-Policy"] = "same-origin"


def static_file_headers(headers: "Headers", path: str, url: str) -> None:
    """WHITENOISE_ADD_HEADERS_FUNCTION: the CSS, script and images still load as this site's subresources (a
    subresource's own policy does not apply to it); opened directly, a static file runs nothing."""
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Content-Security-Policy"] = SANDBOX_POLICY
