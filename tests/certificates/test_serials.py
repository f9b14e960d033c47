import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.certificates.serials import (
    RANDOM_ALPHABET,
    InvalidSerial,
    format_serial,
    new_serial,
    normalize_serial,
)

CHARS = string.digits + string.ascii_uppercase
LOOK_ALIKES = {"O": "0", "I": "1", "L": "1"}
serials = st.builds(new_serial, st.integers(2000, 2099), rng=st.randoms(use_true_random=False))


@given(serials)
def test_new_serial_normalizes_to_itself(serial):
    assert normalize_serial(serial) == serial
    assert normalize_serial(format_serial(serial)) == serial


@given(serials)
def test_new_serial_shape(serial):
    assert len(serial) == 13 and serial.startswith("DL")
    assert set(serial[4:]) <= set(RANDOM_ALPHABET)


@settings(max_examples=500)
@given(serials, st.integers(0, 12), st.sampled_from(CHARS))
def test_any_single_substitution_is_caught(serial, position, char):
    changed = serial[:position] + char + serial[position + 1 :]
    if changed == serial:
        return
    if position >= 2 and LOOK_ALIKES.get(char) == serial[position]:
        # A misread look-alike (O for 0, I or L for 1) reads back as what was printed.
        assert normalize_serial(changed) == serial
        return
    with pytest.raises(InvalidSerial):
        normalize_serial(changed)


@settings(max_examples=500)
@given(serials, st.integers(0, 11))
def test_any_adjacent_transposition_is_caught(serial, position):
    a, b = serial[position], serial[position + 1]
    if a == b:
        return
    swapped = serial[:position] + b + a + serial[position + 2 :]
    with pytest.raises(InvalidSerial):
        normalize_serial(swapped)


def test_normalize_accepts_what_people_type():
    serial = new_serial(2026, rng=random.Random(7))
    grouped = format_serial(serial)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in grouped.replace("-", ""))
    assert normalize_serial(grouped.lower()) == serial
    assert normalize_serial(" " + grouped.replace("-", " ") + "\u3000") == serial
    assert normalize_serial(full_width) == serial
    assert normalize_serial(grouped.replace("-", "—")) == serial


def test_format_groups_in_fours():
    serial = new_serial(2026, rng=random.Random(1))
    assert format_serial(serial) == f"{serial[:4]}-{serial[4:8]}-{serial[8:12]}-{serial[12]}"
    assert format_serial(serial).startswith("DL26-")


def test_wrong_format_and_wrong_check_have_distinct_messages():
    serial = new_serial(2026, rng=random.Random(3))
    wrong_check = serial[:-1] + next(c for c in RANDOM_ALPHABET if c != serial[-1])
    with pytest.raises(InvalidSerial) as shape_error:
        normalize_serial("XY26-1234")
    with pytest.raises(InvalidSerial) as check_error:
        normalize_serial(wrong_check)
    assert "check character" in str(check_error.value)
    assert "check character" not in str(shape_error.value)


def test_year_is_two_digits():
    assert new_serial(2105, rng=random.Random(0)).startswith("DL05")


class Scripted:
    """Stands in for the random generator: hands out the characters it was given."""

    def __init__(self, chars):
        self.chars = iter(chars)

    def choice(self, _alphabet):
        return next(self.chars)


def test_serials_whose_swaps_the_check_would_miss_are_redrawn():
    # MOD 37,36 cannot tell DL26BWQN9ACQ3 from DL26BWQNA9CQ3, so that draw is thrown away.
    assert normalize_serial("DL26BWQNA9CQ3") == "DL26BWQNA9CQ3"
    assert new_serial(2026, rng=Scripted("BWQN9ACQ" + "71HFE865")) == "DL2671HFE8655"


def test_serials_with_a_look_alike_check_character_are_redrawn():
    # The check character of DL2600000002 would be O, which readers take for 0.
    assert new_serial(2026, rng=Scripted("00000002" + "71HFE865")) == "DL2671HFE8655"
