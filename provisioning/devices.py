"""Which push method suits the cardholder's device (ANDROID on Android, IOS on iOS, otherwise WEB), and where a
push form may send the browser: the CSP form-action sources and the redirect itself."""

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.http import HttpResponse, HttpResponseRedirect

from provisioning.mdes.push_methods import BROWSER_SCHEMES, CspSource, PushUriRefusedError, push_uri_source
from provisioning.models import DeviceEnvironment, TokenRequestor

_ANDROID = re.compile(r"\bAndroid\b")
_IOS = re.compile(r"\b(iPhone|iPad|iPod)\b")


def device_environment(user_agent: str) -> str:
    """Web-to-app pushes are same-device, so the native URI is used only on that platform."""
    if _ANDROID.search(user_agent):
        return DeviceEnvironment.ANDROID
    if _IOS.search(user_agent):
        return DeviceEnvironment.IOS
    return DeviceEnvironment.WEB


def usable_push_method_types(device: str) -> tuple[str, ...]:
    """Push method types usable on `device`, best first: its own app, then the web."""
    if device == DeviceEnvironment.WEB:
        return (DeviceEnvironment.WEB,)
    return (device, DeviceEnvironment.WEB)


def push_method_origins(requestors: Iterable[TokenRequestor], device: str) -> list[CspSource]:
    """The sources a push form on `device` may end up at: browsers apply CSP form-action to its redirect too.

    Stored push methods are checked again: rows written before the refresh checked them must not widen the policy.
    """
    types = set(usable_push_method_types(device))
    sources = set()
    for requestor in requestors:
        for method in requestor.push_methods:
            if method.get("type") in types and isinstance(method.get("uri"), str):
                try:
                    sources.add(push_uri_source(method["type"], method["uri"]))
                except PushUriRefusedError:
                    continue
    return sorted(sources)


def csp_allow_form_action(response: HttpResponse, sources: Iterable[CspSource]) -> None:
    """Widen the response's form-action by `sources`, which only push_uri_source makes (never raw network data)."""
    allowed = list(sources)
    if not all(isinstance(source, CspSource) for source in allowed):
        raise TypeError("form-action takes only CspSource values from push_uri_source")
    response._csp_update = {"form-action": allowed}  # type: ignore[attr-defined]


class TokenRequestorRedirect(HttpResponseRedirect):
    """The redirect to a push URI services.push_start accepted: https, or (Android) the wallet app's own scheme."""

    def __init__(self, redirect_to: str) -> None:
        scheme = urlsplit(redirect_to).scheme
        if scheme not in BROWSER_SCHEMES:
            self.allowed_schemes = [*self.allowed_schemes, scheme]
        super().__init__(redirect_to)
