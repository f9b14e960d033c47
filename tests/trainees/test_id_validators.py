import random
import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import clock
from app.text import masked
from app.trainees import validators
from app.trainees.validators import InvalidIdNumber, InvalidMobile, InvalidName

# Written out here rather than imported, so the test checks the module's list.
PROVINCES = [f"{n}" for n in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37)]
PROVINCES += [f"{n}" for n in (41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71)]
MAINLAND = [p for p in PROVINCES if p != "71"]  # issuers of foreigners' permanent residence IDs

# The GB 11643-1999 example, checked by hand: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
# on 1 1 0 1 0 5 1 9 4 9 1 2 3 1 0 0 2 sum to 167; 167 mod 11 = 2, and 2 maps to X.
STANDARD_EXAMPLE = "11010519491231002X"


def with_check(first17: str) -> str:
    return first17 + validators.id_check_char(first17)


def refusal(raw: str, **kwargs) -> str:
    with pytest.raises(InvalidIdNumber) as caught:
        validators.parse_id_number(raw, **kwargs)
    assert str(caught.value) == caught.value.message
    return caught.value.message


# --- ID numbers: accepted --------------------------------------------------------------


def test_standard_example_is_accepted():
    parsed = validators.parse_id_number(STANDARD_EXAMPLE)
    assert parsed == validators.IdNumber(STANDARD_EXAMPLE, "resident", date(1949, 12, 31))


def test_second_standard_example_has_check_char_4():
    # 4 4 0 5 2 4 1 8 8 0 0 1 0 1 0 0 1 weighted sum to 195; 195 mod 11 = 8, and 8 maps to 4.
    assert validators.id_check_char("44052418800101001") == "4"


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５\u3000１９４９１２３１\u3000００２ｘ",
        "\ufeff11010519491231002X\u200b",
    ],
)
def test_spaces_full_width_and_lowercase_x_are_normalised(raw):
    assert validators.parse_id_number(raw).number == STANDARD_EXAMPLE


def test_15_digit_number_is_converted_on_request():
    parsed = validators.parse_id_number("110105491231002", allow_15=True)
    assert parsed.number == STANDARD_EXAMPLE
    assert parsed.converted_from_15
    assert parsed.birth_date == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("first17", "kind"),
    [
        ("91184019850312001", "foreign_permanent"),
        ("81000019900101123", "hk_macao_taiwan"),
        ("82000019900101123", "hk_macao_taiwan"),
        ("83000019900101123", "hk_macao_taiwan"),
        ("71000019900101123", "resident"),
        ("37010219900101123", "resident"),
    ],
)
def test_kinds(first17, kind):
    parsed = validators.parse_id_number(with_check(first17))
    assert (parsed.kind, parsed.warnings) == (kind, ())


def test_unknown_county_is_only_a_warning():
    parsed = validators.parse_id_number(with_check("37000219900101123"))
    assert parsed.warnings == ("Unknown county code",)


# --- ID numbers: refused ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter the ID number"),
        (" \u3000 ", "Enter the ID number"),
        ("1101051949123100", "An ID number has 18 characters"),
        ("11010519491231002X1", "Use only digits, and X only as the last character"),
        ("1101051949123100X2", "Use only digits, and X only as the last character"),
        ("11010519491231002Y", "Use only digits, and X only as the last character"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "Use only digits, and X only as the last character"),
        ("110105194912310021", "The ID number's last character does not match; check for a typo"),
        ("110105491231002", "Use the 18-digit ID number; 15-digit numbers are no longer accepted"),
    ],
)
def test_refusals(raw, message):
    assert refusal(raw) == message


@pytest.mark.parametrize(
    "first17",
    ["11010519490230002", "11010519491301002", "11010500000101002", "11010520990101002",
     "11010518991231002"],
)  # fmt: skip
def test_impossible_birth_dates_are_refused(first17):
    assert refusal(with_check(first17)) == "The ID number holds an impossible birth date"


def test_birth_before_1900_is_refused_even_with_a_right_check_char():
    assert refusal("440524188001010014") == "The ID number holds an impossible birth date"


@pytest.mark.parametrize("prefix", ["10", "16", "20", "39", "60", "66", "70", "72", "80", "84"])
def test_unknown_provinces_are_refused(prefix):
    message = refusal(with_check(prefix + "010519491231002"))
    assert message == "The ID number starts with an unknown region code"


@pytest.mark.parametrize("province", ["00", "10", "16", "39", "71", "81", "99"])
def test_foreign_permanent_ids_carry_a_mainland_province_code(province):
    message = refusal(with_check(f"9{province}84019850312001"))
    assert message == "The ID number starts with an unknown region code"


def test_masking_keeps_three_and_four():
    assert masked("37010219900101002X") == "370***********002X"


def test_fake_numbers_are_valid():
    rng = random.Random(7)
    number = validators.fake_id_number(rng, region="370203", birth=date(2001, 2, 3))
    assert number.startswith("37020320010203")
    for _ in range(50):
        assert validators.parse_id_number(validators.fake_id_number(rng)).kind == "resident"


# --- ID numbers: properties of the check character -------------------------------------


@st.composite
def id_numbers(draw) -> str:
    region = draw(
        st.one_of(
            st.builds("{}{:04d}".format, st.sampled_from(PROVINCES), st.integers(0, 9999)),
            st.sampled_from(["810000", "820000", "830000"]),
            st.builds("9{}{:03d}".format, st.sampled_from(MAINLAND), st.integers(0, 999)),
        )
    )
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=clock.today()))
    return with_check(f"{region}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}")


def swapped(number: str, i: int, j: int) -> str:
    chars = list(number)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


@given(id_numbers())
def test_generated_numbers_are_accepted(number):
    assert validators.parse_id_number(number).number == number


@given(id_numbers())
def test_every_single_substitution_is_caught(number):
    for position in range(18):
        allowed = "0123456789X" if position == 17 else "0123456789"
        for char in allowed.replace(number[position], ""):
            typo = number[:position] + char + number[position + 1 :]
            assert validators.id_check_char(typo[:17]) != typo[17]
            refusal(typo)


@given(id_numbers())
def test_every_adjacent_transposition_is_caught(number):
    # Adjacent weights differ by a factor of 2, so a swap changes the sum by (a - b) * w != 0
    # mod 11; the swap with the check character changes it by (a - c), with X being 10.
    for i in range(17):
        if number[i] != number[i + 1]:
            refusal(swapped(number, i, i + 1))


@given(id_numbers())
def test_transpositions_not_ten_apart_are_caught(number):
    for i in range(17):
        for j in range(i + 1, 17):
            typo = swapped(number, i, j)
            if number[i] != number[j] and j - i != 10:
                assert validators.id_check_char(typo[:17]) != typo[17]


def test_transposition_ten_apart_is_not_caught():
    # 2^10 = 1 mod 11: positions ten apart share a weight, a limit of MOD 11-2 itself.
    typo = swapped(STANDARD_EXAMPLE, 1, 11)
    assert typo != STANDARD_EXAMPLE
    assert validators.id_check_char(typo[:17]) == typo[17]


# --- Mobile numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        " 138 1234 5678 ",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "(+86) 13812345678",
        "+8613812345678",
        "008613812345678",
        "8613812345678",
        "１３８１２３４５６７８",
        "＋８６\u3000１３８－１２３４－５６７８",
    ],
)
def test_mobiles_are_normalised(raw):
    assert validators.normalize_mobile(raw) == "13812345678"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter the mobile number"),
        (" - ", "Enter the mobile number"),
        ("+44 7700 900123", "Only mainland China mobile numbers (+86) are accepted"),
        ("00447700900123", "Only mainland China mobile numbers (+86) are accepted"),
        ("1381234567a", "A mobile number contains only digits"),
        ("138.1234.5678", "A mobile number contains only digits"),
        ("1381234567", "Enter an 11-digit mobile number starting with 13 to 19"),
        ("138123456789", "Enter an 11-digit mobile number starting with 13 to 19"),
        ("12812345678", "Enter an 11-digit mobile number starting with 13 to 19"),
        ("+8623812345678", "Enter an 11-digit mobile number starting with 13 to 19"),
    ],
)
def test_mobile_refusals(raw, message):
    with pytest.raises(InvalidMobile) as caught:
        validators.normalize_mobile(raw)
    assert str(caught.value) == message


def test_mobile_mask():
    assert masked("13812345678") == "138****5678"


# --- Names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("刘䶮", "刘䶮"),  # U+4DAE, Extension A
        ("𠮷", "𠮷"),  # U+20BB7, Extension B
        ("王\U00031350", "王\U00031350"),  # Extension H, newer than Python's unicodedata
        ("王二小", "王二小"),  # numeral ideographs are ideographs, not digits
        ("  张 三 ", "张三"),
        ("  John   Smith ", "John Smith"),
        ("Ｊｏｈｎ Ｓｍｉｔｈ", "John Smith"),
        ("O’Brien", "O'Brien"),
        ("Jean-Luc Picard", "Jean-Luc Picard"),
        ("J. R. R. Tolkien", "J. R. R. Tolkien"),
        ("Jose\u0301 Garci\u0301a", "Jos\u00e9 Garc\u00eda"),
        ("Nguye\u0302\u0303n", "Nguy\u1ec5n"),
        ("\uf900", "\u8c48"),  # a compatibility ideograph, replaced by its unified twin (NFC)
        ("\ufa0e", "\ufa0e"),  # a "compatibility" ideograph that is really unified
    ],
)
def test_names_are_normalised(raw, name):
    assert validators.normalize_name(raw) == name
    assert unicodedata.is_normalized("NFC", name)


@pytest.mark.parametrize("dot", "\u00b7\u30fb\u2022\uff0e\u2027\u22c5\u2219\uff65\u0387")
@pytest.mark.parametrize("spacing", ["", " "])
def test_minority_name_dots_become_middle_dot(dot, spacing):
    raw = f"阿依古丽{spacing}{dot}{spacing}买买提"
    assert validators.normalize_name(raw) == "阿依古丽·买买提"


def test_length_counts_code_points():
    assert validators.normalize_name("𠮷" * 50) == "𠮷" * 50
    with pytest.raises(InvalidName, match="^A name has at most 50 characters$"):
        validators.normalize_name("张" * 51)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter the name"),
        (" \u3000 ", "Enter the name"),
        ("·", "Enter the name"),
        ("张三1", "A name cannot contain digits"),
        ("张三１", "A name cannot contain digits"),
        ("Henry Ⅷ", "A name cannot contain digits"),
        ("张三😀", "The name contains a character that is not allowed"),
        ("张\t三", "The name contains a character that is not allowed"),
        ("张三\u200b", "The name contains a character that is not allowed"),
        ("\u0301John", "The name contains a character that is not allowed"),
        ("Bobby'); DROP", "The name contains a character that is not allowed"),
        ("Иван", "The name contains a character that is not allowed"),
    ],
)
def test_name_refusals(raw, message):
    with pytest.raises(InvalidName) as caught:
        validators.normalize_name(raw)
    assert str(caught.value) == message


ideographs = st.one_of(
    st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),
    st.characters(min_codepoint=0x30000, max_codepoint=0x323AF),
)


@given(st.text(ideographs, min_size=1, max_size=50))
def test_any_unified_ideographs_are_a_name(name):
    assert validators.normalize_name(name) == name


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("王小明", "王*明"),
        ("欧阳娜娜", "欧**娜"),
        ("John Smith", "J*** S****"),
        ("阿依古丽·买买提", "阿***·买**"),
        ("𠮷", "*"),
    ],
)
def test_name_mask(name, masked):
    assert validators.mask_name(name) == masked
