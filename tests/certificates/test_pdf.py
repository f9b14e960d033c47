import io
import re
import shutil
import subprocess
import tomllib
from dataclasses import fields, replace
from datetime import date
from decimal import Decimal

import pypdf
import pytest
import weasyprint.text.ffi

from app.certificates import pdf
from app.certificates.pdf import (
    CertificateView,
    UnprintableText,
    font_problems,
    render_pdf,
    unprintable_chars,
)
from app.certificates.serials import format_serial

ID_NUMBER = "37010219900307002X"
ID_LIKE = re.compile(r"\d{17}[\dXx]")
BASE_VIEW = CertificateView(
    serial="DL2671HFE8655",
    holder_name="李䶮",
    course_title="纺织服装企业数字化转型实务",
    course_code="SDU-2026-017",
    university_name="山东大学",
    university_name_en="Shandong University",
    course_title_en="Digital Transformation for Textile and Apparel Companies",
    hours=Decimal("32.0"),
    completed_on=date(2026, 5, 1),
    issued_on=date(2026, 5, 10),
    verify_url="https://dandelion.example/verify/DL2671HFE8655?k=k1&sig=" + "Q" * 86,
)
NAMES = ["李䶮", "𠮷思远"]


@pytest.fixture(scope="module", params=NAMES)
def printed(request):
    view = replace(BASE_VIEW, holder_name=request.param)
    data = render_pdf(view)
    print(f"\n{request.param}: {len(data):,} bytes")
    return view, data


def pypdf_text(data: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()


def pdftotext(data: bytes, *options: str) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(
        ["pdftotext", *options, "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode()


@pytest.mark.parametrize(
    "extract",
    [pypdf_text, pdftotext, lambda data: pdftotext(data, "-layout")],
    ids=["pypdf", "pdftotext", "pdftotext-layout"],
)
def test_name_course_and_serial_read_back_exactly(printed, extract):
    view, data = printed
    lines = [line.strip() for line in extract(data).splitlines()]
    assert view.holder_name in lines  # the name is a line of its own, character for character
    assert f"《{view.course_title}》" in lines
    assert format_serial(view.serial) in " ".join(lines)


def test_dates_hours_and_verify_address_are_printed(printed):
    text = " ".join(pdftotext(printed[1]).split())  # lines wrap wherever the layout chose
    assert "2026年5月1日" in text and "1 May 2026" in text
    # The issue date stands under the issuer as certificates write it, in Chinese numerals.
    assert "二〇二六年五月十日" in text and "10 May 2026" in text
    assert "共计 32 学时" in text and "32 hours" in text
    assert "扫码验证 / Scan to verify" in text
    # The signature in the query is for the QR scanner; the address people can type is printed.
    assert "dandelion.example/verify/DL2671HFE8655" in text
    assert "sig=" not in text


def test_the_qr_code_scans_to_the_verify_url(printed, tmp_path):
    if not (shutil.which("pdftoppm") and shutil.which("zbarimg")):
        pytest.skip("needs pdftoppm (poppler-utils) and zbarimg (zbar-tools)")
    view, data = printed
    (tmp_path / "certificate.pdf").write_bytes(data)
    # 150 dpi: about what a phone camera sees of a printed page.
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", "certificate.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    scanned = subprocess.run(
        ["zbarimg", "--raw", "-q", "page.png"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert scanned.stdout.strip() == view.verify_url


def test_one_a4_landscape_page(printed):
    pages = pypdf.PdfReader(io.BytesIO(printed[1])).pages
    assert len(pages) == 1
    box = pages[0].mediabox
    assert float(box.width) == pytest.approx(842, abs=1)
    assert float(box.height) == pytest.approx(595, abs=1)


def fonts_of(data: bytes) -> dict[str, str]:
    """Each embedded font's family (subset tag dropped) and the characters it draws, read
    from its ToUnicode map."""
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    drawn: dict[str, str] = {}
    for ref in page["/Resources"]["/Font"].values():
        font = ref.get_object()
        family = str(font["/BaseFont"]).split("+", 1)[-1]
        cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
        targets = re.findall(r"<[0-9a-fA-F]{4}> <([0-9a-fA-F]+)>", cmap)
        drawn[family] = drawn.get(family, "") + "".join(
            bytes.fromhex(t).decode("utf-16-be") for t in targets
        )
    return drawn


def test_fonts_are_embedded_as_subsets_and_the_file_is_small(printed):
    page = pypdf.PdfReader(io.BytesIO(printed[1])).pages[0]
    names = [font.get_object()["/BaseFont"] for font in page["/Resources"]["/Font"].values()]
    assert names
    assert all(re.fullmatch(r"/?[A-Z]{6}\+.+", name) for name in names), names
    assert len(printed[1]) < 1_000_000


def test_a_common_name_prints_from_the_pre_subset_copy_alone():
    data = render_pdf(replace(BASE_VIEW, holder_name="王建国", course_title="服装智能制造"))
    drawn = fonts_of(data)
    # Regular and bold of the common copy; the full family (65,535 glyphs) is not embedded.
    assert set(drawn) == {"Noto-Serif-CJK-SC-Common", "Noto-Serif-CJK-SC-Common-Bold"}, drawn
    assert "王建国" in drawn["Noto-Serif-CJK-SC-Common-Bold"]


@pytest.mark.parametrize(
    ("name", "rare", "copy"),
    [("王玥", "玥", "Rare"), ("李䶮", "䶮", "Rare"), ("𠮷田", "𠮷", "Astral")],
)
def test_rare_characters_print_from_their_own_copy_not_the_full_family(name, rare, copy):
    data = render_pdf(replace(BASE_VIEW, holder_name=name))
    drawn = fonts_of(data)
    # The name is bold: the bold face of the copy for its plane draws the rare character,
    # and the full family (65,535 glyphs, room for all of them kept) is not embedded at all.
    assert rare in drawn[f"Noto-Serif-CJK-SC-{copy}-Bold"], drawn
    assert all("-SC-" in family for family in drawn), drawn
    # The rest of the name comes from the common copy.
    assert set(name.replace(rare, "")) <= set(drawn["Noto-Serif-CJK-SC-Common-Bold"])
    assert rare not in "".join(v for k, v in drawn.items() if "Common" in k)
    assert len(data) < 150 * 1024  # issue 7's goal; 𠮷 from the full face made it 174 KiB


def test_long_fields_still_fit_on_one_page():
    view = replace(
        BASE_VIEW,
        holder_name="阿卜杜热合曼·买买提艾力·阿不都克力木",
        course_title="纺织服装企业数字化转型与智能制造实务暨工业互联网平台应用及数据分析能力提升高级研修班",
        course_title_en="Advanced Workshop on Digital Transformation, Smart Manufacturing, "
        "Industrial Internet Platforms and Data Analysis for Textile and Apparel Companies",
    )
    data = render_pdf(view)
    assert len(pypdf.PdfReader(io.BytesIO(data)).pages) == 1
    assert view.holder_name in pdftotext(data)


def test_the_id_number_is_never_printed(printed):
    assert not any("id" in f.name.split("_") for f in fields(CertificateView))
    for text in (pypdf_text(printed[1]), pdftotext(printed[1])):
        assert ID_NUMBER not in text
        assert not ID_LIKE.search(text.replace(" ", ""))


def test_rare_name_characters_are_printable():
    assert unprintable_chars("张三䶮𠮷") == []
    assert unprintable_chars("阿依古丽·买买提 José Müller") == []


def test_private_use_and_unassigned_characters_are_unprintable():
    assert unprintable_chars("李\ue000四\u0378 \ue000") == ["\ue000", "\u0378"]


def test_render_refuses_a_name_the_fonts_cannot_print():
    with pytest.raises(UnprintableText) as refused:
        render_pdf(replace(BASE_VIEW, holder_name="李\ue000"))
    assert refused.value.chars == ["\ue000"]
    assert "U+E000" in str(refused.value)
    assert "U+E000" in refused.value.params["chars"]


def test_every_printed_field_is_checked():
    with pytest.raises(UnprintableText):
        render_pdf(replace(BASE_VIEW, university_name_en="Shandong \U0010ffff University"))


def test_css_font_lists_name_every_design_family():
    # unprintable_chars trusts design.toml; the stylesheet must fall back through the same
    # fonts, each family's copies first (a copy alone lacks the other planes' characters).
    folder = pdf.DESIGNS_DIR / "classic"
    fonts = tomllib.loads((folder / "design.toml").read_text())["fonts"]
    expected = [name for f in fonts for name in [*f.get("copies", {}).values(), f["family"]]]
    css = (folder / "certificate.css").read_text()
    stacks = re.findall(r"font-family:\s*([^;]+);", css)
    assert stacks
    for stack in stacks:
        names = [name.strip().strip("\"'") for name in stack.split(",")]
        assert sorted(names) == sorted(expected)
        for font in fonts:
            order = [*font.get("copies", {}).values(), font["family"]]
            assert [names.index(name) for name in order] == sorted(names.index(n) for n in order)


def test_no_font_problems_on_this_machine():
    assert font_problems() == []
    pdf.require()  # and so nothing to refuse


def test_prepare_warms_this_process():
    pdf.prepare()  # builds the common copies if this machine has none yet
    data = render_pdf(replace(BASE_VIEW, holder_name="王建国"))
    assert "王建国" in pypdf_text(data)


def empty_fontconfig(folder) -> str:
    """A fontconfig configuration whose only font folder is empty: a machine without fonts."""
    (folder / "fonts").mkdir()
    config = folder / "fonts.conf"
    config.write_text(
        f"<?xml version='1.0'?><fontconfig><dir>{folder / 'fonts'}</dir>"
        f"<cachedir>{folder / 'cache'}</cachedir></fontconfig>"
    )
    return str(config)


def test_font_problems_name_the_missing_fonts_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("FONTCONFIG_FILE", empty_fontconfig(tmp_path))
    problems = [str(p) for p in font_problems()]
    assert len(problems) == 2, problems
    assert "Noto Serif CJK SC" in problems[0] and "fonts-noto-cjk" in problems[0]
    assert "Noto Sans CJK SC" in problems[1] and "fonts-noto-cjk" in problems[1]


def test_font_problems_name_harfbuzz_subsettings_debian_package(monkeypatch):
    # As WeasyPrint sees a machine without the library: it would subset with fontTools.
    monkeypatch.setattr(weasyprint.text.ffi, "harfbuzz_subset", None)
    [problem] = font_problems()
    assert "libharfbuzz-subset0" in str(problem)
    assert problem.params == {"package": "libharfbuzz-subset0"}
