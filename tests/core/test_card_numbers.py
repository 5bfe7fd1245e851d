"""A1: what may be shown of a card number is at most its first six and last four digits."""

from hypothesis import given, settings
from hypothesis import strategies as st

from core.card_numbers import is_card_number, luhn_valid, mask_card_number, mask_card_numbers_in


def _with_luhn_digit(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable: one check digit always fits")


card_numbers = st.integers(min_value=12, max_value=18).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n).map(_with_luhn_digit)
)


@settings(max_examples=600)
@given(card_numbers)
def test_mask_shows_at_most_first_six_and_last_four(number: str) -> None:
    masked = mask_card_number(number)
    assert masked != number
    assert masked[:6] == number[:6]
    assert masked[-4:] == number[-4:]
    assert set(masked[6:-4]) == {"•"}
    assert sum(ch.isdigit() for ch in masked) == 10


@settings(max_examples=600)
@given(card_numbers, st.sampled_from(["", " ", "-"]))
def test_masking_free_text_leaves_no_full_number(number: str, separator: str) -> None:
    grouped = separator.join(number[i : i + 4] for i in range(0, len(number), 4))
    text = f"charge for card {grouped} failed"
    scrubbed = mask_card_numbers_in(text)
    assert number not in scrubbed.replace(" ", "").replace("-", "")
    assert number[-4:] in scrubbed


def test_numbers_failing_luhn_are_not_card_numbers() -> None:
    assert is_card_number("5555555555554444")
    assert not is_card_number("5555555555554445")
    assert not is_card_number("555555555555")  # 12 digits
    assert not is_card_number("٥٥٥٥٥٥٥٥٥٥٥٥٤٤٤٤")  # non-ASCII digits
    assert mask_card_numbers_in("order 1234567890123 shipped") == "order 1234567890123 shipped"
