"""JSON from outside with a bound on its nesting: Python's parser recurses once per level, so a body of a few
kilobytes of brackets would end in RecursionError (a server error) instead of a refusal."""

import json
import re
from typing import Any

# An escape (which may hide a quote), a quote, or a bracket: all that decides how deep a document is nested.
_STRUCTURE = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


class JsonTooDeepError(ValueError):
    """A document nested deeper than allowed (a ValueError, like any other malformed JSON)."""


def json_nesting_exceeds(text: str, max_depth: int) -> bool:
    """Whether `text` opens more than `max_depth` arrays or objects inside one another (one pass, no parsing)."""
    depth = 0
    in_string = False
    for match in _STRUCTURE.finditer(text):
        mark = match.group()
        if mark == '"':
            in_string = not in_string
        elif in_string or mark[0] == "\\":
            continue
        elif mark in "[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def json_loads_bounded(text: str | bytes, *, max_depth: int, **kwargs: Any) -> Any:
    """`json.loads`, refusing documents nested deeper than `max_depth` with JsonTooDeepError."""
    decoded = text.decode() if isinstance(text, bytes) else text
    if json_nesting_exceeds(decoded, max_depth):
        raise JsonTooDeepError(f"JSON nested deeper than {max_depth} levels")
    return json.loads(decoded, **kwargs)
