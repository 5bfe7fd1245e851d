"""Which push method suits the cardholder's device: ANDROID on Android, IOS on iOS, otherwise WEB."""

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

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


def push_method_origins(requestors: Iterable[TokenRequestor], device: str) -> list[str]:
    """The origins a push form on `device` may end up at: browsers apply CSP form-action to its redirect too."""
    types = set(usable_push_method_types(device))
    origins = set()
    for requestor in requestors:
        for method in requestor.push_methods:
            if method.get("type") in types:
                parts = urlsplit(method["uri"])
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)
