"""Where the MDES client may send requests (security check G6: outbound host allow-list, ASVS 13.2.4).

A base URL is allowed when its host is in `settings.MDES_ALLOWED_HOSTS[<environment>]` (https only), or, for a
configuration of the sandbox environment and only while `settings.MDES_ALLOW_LOCAL_SANDBOX` is true, when it is a
local sandbox on this machine (loopback address, `localhost` or `*.localhost`; plain HTTP allowed). The client
refuses anything else when it is built, and the system check reports it (provisioning/checks.py).
"""

import enum
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# The only environment whose configurations may point at a local sandbox: MTF and production never do.
LOCAL_SANDBOX_ENVIRONMENT = "sandbox"


def _normal(host: str) -> str:
    return host.lower().rstrip(".")


def is_local_sandbox_host(host: str) -> bool:
    """Loopback only. A bare name such as a compose service is not local: search domains may resolve it anywhere."""
    host = _normal(host)
    if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: always the loopback
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(environment: str) -> frozenset[str]:
    configured: Mapping[str, Sequence[str]] = settings.MDES_ALLOWED_HOSTS
    return frozenset(_normal(host) for host in configured.get(environment, ()))


class BaseUrlProblem(enum.Enum):
    LOCAL_SANDBOX_NOT_ALLOWED = "local sandbox not allowed"
    HOST_NOT_ALLOWED = "host not allowed"
    PLAIN_HTTP = "plain http"


@dataclass(frozen=True)
class BaseUrlRefusal:
    problem: BaseUrlProblem
    message: str


def base_url_refusal(base_url: str, environment: str) -> BaseUrlRefusal | None:
    """Why a configuration of `environment` must not call `base_url`; None when it may."""
    environment = str(environment)  # a NetworkConfiguration.Environment member names itself by its value
    try:
        parts = urlsplit(base_url)
        host = _normal(parts.hostname or "")
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return BaseUrlRefusal(BaseUrlProblem.HOST_NOT_ALLOWED, "The MDES base URL cannot be parsed")
    if environment == LOCAL_SANDBOX_ENVIRONMENT and is_local_sandbox_host(host):
        if settings.MDES_ALLOW_LOCAL_SANDBOX:
            return None
        return BaseUrlRefusal(
            BaseUrlProblem.LOCAL_SANDBOX_NOT_ALLOWED,
            f"The MDES base URL points at a local sandbox ({host}) and MDES_ALLOW_LOCAL_SANDBOX is off",
        )
    allowed = allowed_hosts(environment)
    if host not in allowed:
        return BaseUrlRefusal(
            BaseUrlProblem.HOST_NOT_ALLOWED,
            f"The MDES host {host!r} is not allowed for the {environment} environment "
            f"(MDES_ALLOWED_HOSTS[{environment!r}]: {', '.join(sorted(allowed)) or 'none'})",
        )
    if parts.scheme != "https":
        return BaseUrlRefusal(
            BaseUrlProblem.PLAIN_HTTP,
            "The MDES base URL must use https (plain HTTP only reaches a local sandbox)",
        )
    return None


def derived_customer_service_base_url(base_url: str) -> str:
    """The Customer Service API base URL beside a Token Connect base URL, by Mastercard's published pattern
    (mdes-beyond-the-push.md section 3): `<host>/mdes` -> `<host>/mdes/csapi/v2`, and the MTF's `<host>/mdes/mtf`
    -> `<host>/mdes/csapi/mtf/v2`. `v2` is the "static endpoint iteration number" of the `/{id}/...` paths."""
    base = base_url.rstrip("/")
    if base.endswith("/mtf"):
        return f"{base.removesuffix('/mtf')}/csapi/mtf/v2"
    return f"{base}/csapi/v2"
