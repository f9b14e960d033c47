import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.companies import validators
from app.companies.validators import InvalidUscc
from app.trainees.validators import PROVINCES

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Published codes, checked by hand with weights 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28:
# Huawei Technologies: 9 1 4 4 0 3 0 0 1 9 2 2 0 3 8 2 1 sum to 831; 831 mod 31 = 25; 31 - 25 = 6.
HUAWEI = "914403001922038216"
# Shenzhen Tencent Computer Systems: the sum is 966; 966 mod 31 = 5; 31 - 5 = 26, which is T.
TENCENT = "91440300708461136T"


def refusal(raw: str) -> str:
    with pytest.raises(InvalidUscc) as caught:
        validators.normalize_uscc(raw)
    assert str(caught.value) == caught.value.message
    return caught.value.message


@pytest.mark.parametrize("code", [HUAWEI, TENCENT])
def test_published_codes_are_accepted(code):
    assert validators.normalize_uscc(code) == code
    assert validators.uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize(
    "raw",
    [
        "91440300708461136t",
        " 9144 0300 7084 6113 6T ",
        "９１４４０３００７０８４６１１３６Ｔ",
        "９１４４０３００\u3000７０８４６１１３６ｔ",
    ],
)
def test_spaces_full_width_and_lower_case_are_normalised(raw):
    assert validators.normalize_uscc(raw) == TENCENT


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter the unified social credit code"),
        (" \u3000", "Enter the unified social credit code"),
        ("91440300708461136", "A unified social credit code has 18 characters"),
        ("91440300708461136T0", "A unified social credit code has 18 characters"),
        ("9144030O708461136T", "Use only digits and capital letters other than I, O, S, V and Z"),
        ("91440300708461136I", "Use only digits and capital letters other than I, O, S, V and Z"),
        ("91440300-708461136T", "Use only digits and capital letters other than I, O, S, V and Z"),
        ("91A40300708461136T", "Characters 3 to 8 (the region code) must be digits"),
        ("91440300708461136U", "The last character does not match the others; check for a typo"),
    ],
)
def test_refusals(raw, message):
    assert refusal(raw) == message


@pytest.mark.parametrize("region", ["000000", "990000", "160100", "810000"])
def test_region_code_must_name_a_province(region):
    first17 = "91" + region + "708461136"
    code = first17 + validators.uscc_check_char(first17)
    assert refusal(code) == "Characters 3 to 8 (the region code) must name a place in China"


def test_check_char_wants_17_alphabet_characters():
    with pytest.raises(ValueError):
        validators.uscc_check_char("9144030070846113I")


def test_fake_codes_are_valid():
    rng = random.Random(7)
    for _ in range(50):
        code = validators.fake_uscc(rng, region="370200")
        assert validators.normalize_uscc(code) == code
        assert code[2:8] == "370200"


@st.composite
def usccs(draw) -> str:
    head = draw(st.text(st.sampled_from(ALPHABET), min_size=2, max_size=2))
    province = draw(st.sampled_from(sorted(PROVINCES | {"10"})))
    region = f"{province}{draw(st.integers(0, 9999)):04d}"
    body = draw(st.text(st.sampled_from(ALPHABET), min_size=9, max_size=9))
    first17 = head + region + body
    return first17 + validators.uscc_check_char(first17)


def swapped(code: str, i: int, j: int) -> str:
    chars = list(code)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


@given(usccs())
def test_generated_codes_are_accepted(code):
    assert validators.normalize_uscc(code) == code


@given(usccs())
def test_every_single_substitution_is_caught(code):
    # Weights 3^i mod 31 are never 0 and values differ by less than 31, so the sum always moves.
    for position in range(18):
        for char in ALPHABET.replace(code[position], ""):
            typo = code[:position] + char + code[position + 1 :]
            assert validators.uscc_check_char(typo[:17]) != typo[17]
            refusal(typo)


@given(usccs())
def test_every_transposition_in_the_first_17_is_caught(code):
    # 3 has order 30 mod 31, so the 17 weights are all different.
    for i in range(17):
        for j in range(i + 1, 17):
            if code[i] != code[j]:
                typo = swapped(code, i, j)
                assert validators.uscc_check_char(typo[:17]) != typo[17]


@given(usccs())
def test_every_adjacent_transposition_is_caught(code):
    for i in range(17):
        if code[i] != code[i + 1]:
            refusal(swapped(code, i, i + 1))


def test_swapping_first_and_check_character_is_not_caught():
    # The first character and the check character both weigh 1: a limit of GB 32100 itself.
    typo = swapped(TENCENT, 0, 17)
    assert validators.uscc_check_char(typo[:17]) == typo[17]
