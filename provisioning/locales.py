"""The locale a push sends to the network and the wallet (`signatureData.locale`, `ll_CC`): the cardholder's own.

The cardholder's stored preference names a language (the portal speaks it) but its region is only a default
(`en_US` for everyone who never chose); the browser's Accept-Language says where the person is. So the browser's
first language-and-region in the cardholder's language wins (an en-GB browser sends `en_GB`), then the stored
preference, then the network configuration's default.
"""

import re

_LANGUAGE_RANGE = re.compile(r"^([A-Za-z]{2})[-_]([A-Za-z]{2})$")
_LOCALE = re.compile(r"^[a-z]{2}_[A-Z]{2}$")
_MAX_RANGES = 16  # a header is read only this far


def _browser_locales(accept_language: str) -> list[str]:
    """The header's language-and-region ranges as ll_CC, by quality then order (q=0 means "not this")."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:_MAX_RANGES]):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        match = _LANGUAGE_RANGE.match(tag.strip())
        if match and quality > 0:
            weighted.append((-quality, position, f"{match[1].lower()}_{match[2].upper()}"))
    return [locale for _, _, locale in sorted(weighted)]


def network_locale(*, accept_language: str, preferred: str | None, fallback: str) -> str:
    """`ll_CC` for the push: see the module docstring. `preferred`: the cardholder's stored locale, if any."""
    browser = _browser_locales(accept_language)
    if preferred and _LOCALE.match(preferred):
        language = preferred[:2]
        return next((locale for locale in browser if locale.startswith(f"{language}_")), preferred)
    return browser[0] if browser else fallback
