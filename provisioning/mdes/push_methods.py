"""Which push method URIs from MDES the portal may send a browser to, and the one CSP source each needs.

A push URI ends up in a Location header and, as a source of the wallet pages' CSP `form-action` (browsers apply
it to the form's redirect), in a policy header, so it is checked where it enters: at refresh and again at push.
- WEB, IOS and any new type: https; plain http only to a local sandbox while `MDES_ALLOW_LOCAL_SANDBOX` is on.
- ANDROID also: the app's own lowercase scheme (`demopay://…`), never one a browser acts on itself
  (javascript:, data:, file:, …). iOS requestors must not use custom schemes.
- 11 to 128 characters (PushMethod.uri in the specification), only characters of RFC 3986 (no whitespace, control
  or non-ASCII characters, no quotes), no user information, a DNS name or IPv4 address and an optional port.
Only the serialised origin (`scheme://host[:port]`), or `scheme:` for an app's own scheme, ever reaches a policy:
a `CspSource` is a single well-formed source, and `push_uri_source` is where they come from.
"""

import ipaddress
import re

from django.conf import settings

from provisioning.mdes.hosts import is_local_sandbox_host

URI_MIN_LENGTH, URI_MAX_LENGTH = 11, 128
ANDROID = "ANDROID"
# Schemes a browser gives a meaning itself (scripts, documents, files, other transports): never an app's own.
BROWSER_SCHEMES = frozenset(
    {"javascript", "data", "vbscript", "file", "blob", "about", "filesystem", "http", "https", "ws", "wss"}
)
_DEFAULT_PORTS = {"https": 443, "http": 80}
# RFC 3986: unreserved, reserved and percent characters; anything else has no business in a URI.
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_APP_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT = re.compile(r"[0-9]{1,5}")
_ORIGIN_SOURCE = re.compile(r"https?://[a-z0-9.-]+(?::[0-9]{1,5})?")


class CspSource(str):
    """One CSP source: a serialised http(s) origin or an app's own `scheme:`, checked on construction."""

    __slots__ = ()

    def __new__(cls, value: str) -> "CspSource":
        scheme = value.removesuffix(":")
        app_scheme = scheme != value and bool(_APP_SCHEME.fullmatch(scheme)) and scheme not in BROWSER_SCHEMES
        if not (app_scheme or _ORIGIN_SOURCE.fullmatch(value)):
            raise ValueError(f"{value!r} is not a single origin or app scheme")
        return super().__new__(cls, value)


class PushUriRefusedError(ValueError):
    """Why a push method URI is not allowed. The message never quotes the URI (callers decide how to show it)."""


def _is_host(host: str) -> bool:
    labels = host.split(".")
    if len(host) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        return False
    if labels[-1].isdigit():  # browsers read a numeric last label as an IPv4 address
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
    return True


def _origin(scheme: str, netloc: str) -> str:
    if "@" in netloc:
        raise PushUriRefusedError("carries user information")
    host, _, port = netloc.partition(":")
    host = host.lower()
    if not _is_host(host):
        raise PushUriRefusedError("has no valid host name (a DNS name or IPv4 address)")
    if port and not (_PORT.fullmatch(port) and 1 <= int(port) <= 65535):
        raise PushUriRefusedError("has an invalid port")
    if scheme == "http" and not (settings.MDES_ALLOW_LOCAL_SANDBOX and is_local_sandbox_host(host)):
        raise PushUriRefusedError("uses plain http, allowed only to a local sandbox")
    return f"{scheme}://{host}" if not port or int(port) == _DEFAULT_PORTS[scheme] else f"{scheme}://{host}:{port}"


def push_uri_source(method_type: str, uri: str) -> CspSource:
    """The CSP source of `uri` as a push method of `method_type`; PushUriRefusedError when it is not allowed."""
    if not URI_MIN_LENGTH <= len(uri) <= URI_MAX_LENGTH:
        raise PushUriRefusedError(f"is not {URI_MIN_LENGTH} to {URI_MAX_LENGTH} characters long")
    if not _URI_CHARACTERS.fullmatch(uri):
        raise PushUriRefusedError("has characters no URI holds (whitespace, quotes, control or non-ASCII characters)")
    scheme, colon, rest = uri.partition(":")
    if not colon:
        raise PushUriRefusedError("has no scheme")
    authority = rest[2:].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0] if rest.startswith("//") else ""
    if scheme.lower() in _DEFAULT_PORTS:
        return CspSource(_origin(scheme.lower(), authority))
    if method_type == ANDROID and _APP_SCHEME.fullmatch(scheme) and scheme not in BROWSER_SCHEMES:
        if "@" in authority:
            raise PushUriRefusedError("carries user information")
        return CspSource(f"{scheme}:")
    raise PushUriRefusedError("uses a scheme not allowed for this type of push method")
