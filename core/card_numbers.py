"""What the portal may show or log of a card number, and how to recognise one.

Policy (PCI DSS 3.4.1): at most the first six and the last four digits are ever displayed.
"""

import re

# 13 to 19 digits, optionally grouped by single spaces or dashes, not inside a longer run of digits.
_CANDIDATE = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")


def luhn_valid(digits: str) -> bool:
    """True when `digits` (only 0-9) passes the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def is_card_number(value: str) -> bool:
    """A 13-19 digit string that passes the Luhn check."""
    return value.isascii() and value.isdigit() and 13 <= len(value) <= 19 and luhn_valid(value)


def mask_card_number(card_number: str) -> str:
    """First six and last four digits, the rest replaced by '•' (e.g. '555555••••••4444')."""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    if len(digits) < 13:
        return "•" * len(digits)
    return f"{digits[:6]}{'•' * (len(digits) - 10)}{digits[-4:]}"


def mask_card_numbers_in(text: str) -> str:
    """Replace every Luhn-valid 13-19 digit run in free text by its mask (defence in depth for logs)."""

    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", match.group())
        return mask_card_number(digits) if luhn_valid(digits) else match.group()

    return _CANDIDATE.sub(replace, text)
