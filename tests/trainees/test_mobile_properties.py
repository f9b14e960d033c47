"""Mobile numbers have no check digit, so what can be proven is structure: any one-character
change that breaks the 1[3-9]xxxxxxxxx shape is caught, and formatting noise never changes the number."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.trainees.validators import InvalidMobile, normalize_mobile

mobiles = st.builds(
    lambda second, rest: f"1{second}{rest}",
    st.sampled_from("3456789"),
    st.text("0123456789", min_size=9, max_size=9),
)
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@given(mobiles, st.sampled_from(["", "+86", "+86 ", "0086", "86-"]), st.booleans(), st.booleans())
def test_formatting_noise_round_trips(mobile, prefix, spaced, full_width):
    text = f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}" if spaced else mobile
    text = text.translate(FULL_WIDTH) if full_width else text
    assert normalize_mobile(prefix + text) == mobile


@given(mobiles, st.integers(0, 10), st.sampled_from("aXx#.中"))
def test_a_non_digit_anywhere_is_caught(mobile, position, char):
    with pytest.raises(InvalidMobile):
        normalize_mobile(mobile[:position] + char + mobile[position + 1 :])


@given(mobiles, st.sampled_from("012"))
def test_a_second_digit_outside_3_to_9_is_caught(mobile, digit):
    with pytest.raises(InvalidMobile):
        normalize_mobile(mobile[0] + digit + mobile[2:])


@given(mobiles, st.integers(0, 10), st.sampled_from("0123456789"))
def test_a_dropped_or_extra_digit_is_caught(mobile, position, digit):
    with pytest.raises(InvalidMobile):
        normalize_mobile(mobile[:position] + mobile[position + 1 :])
    with pytest.raises(InvalidMobile):
        normalize_mobile(mobile[:position] + digit + mobile[position:])


@given(mobiles, st.sampled_from("023456789"))
def test_a_first_digit_other_than_1_is_caught(mobile, digit):
    with pytest.raises(InvalidMobile):
        normalize_mobile(digit + mobile[1:])
