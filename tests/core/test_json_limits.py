"""JSON from outside is refused beyond a nesting depth, told apart from brackets and quotes inside strings."""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.json_limits import JsonTooDeepError, json_loads_bounded, json_nesting_exceeds

tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\ab'), max_size=8)
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3),
    max_leaves=20,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    return 0


@given(document=documents, limit=st.integers(min_value=0, max_value=6))
def test_the_depth_is_the_documents_whatever_its_strings_hold(document: Any, limit: int) -> None:
    assert json_nesting_exceeds(json.dumps(document), limit) == (_depth(document) > limit)


@given(depth=st.integers(min_value=11, max_value=200_000), opening=st.sampled_from(["[", '{"a":']))
def test_a_document_deeper_than_the_limit_is_refused_without_recursing(depth: int, opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    with pytest.raises(JsonTooDeepError):
        json_loads_bounded(opening * depth + "1" + closing * depth, max_depth=10)


def test_a_document_within_the_limit_is_parsed() -> None:
    assert json_loads_bounded(b'{"a": [[1, "]]]"]]}', max_depth=3) == {"a": [[1, "]]]"]]}
