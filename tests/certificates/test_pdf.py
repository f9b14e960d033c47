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


def test_fonts_are_embedded_as_subsets_and_the_file_is_small(printed):
    page = pypdf.PdfReader(io.BytesIO(printed[1])).pages[0]
    names = [font.get_object()["/BaseFont"] for font in page["/Resources"]["/Font"].values()]
    assert names
    assert all(re.fullmatch(r"/?[A-Z]{6}\+.+", name) for name in names), names
    assert len(printed[1]) < 1_000_000


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
    # unprintable_chars trusts design.toml; the stylesheet must fall back through the same fonts.
    folder = pdf.DESIGNS_DIR / "classic"
    families = {f["family"] for f in tomllib.loads((folder / "design.toml").read_text())["fonts"]}
    css = (folder / "certificate.css").read_text()
    stacks = re.findall(r"font-family:\s*([^;]+);", css)
    assert stacks
    for stack in stacks:
        assert {name.strip().strip("\"'") for name in stack.split(",")} == families


def test_no_font_problems_on_this_machine():
    assert font_problems() == []


def test_font_problems_name_the_debian_packages(tmp_path, monkeypatch):
    design = tmp_path / "fontless"
    design.mkdir()
    (design / "design.toml").write_text(
        'name = "Fontless"\n[[fonts]]\nfamily = "Noto Serif CJK SC"\n'
        'package = "fonts-noto-cjk"\nfiles = ["/nonexistent/NotoSerifCJK-Regular.ttc"]\n'
    )
    monkeypatch.setattr(pdf, "DESIGNS_DIR", tmp_path)
    monkeypatch.setattr(pdf.ctypes.util, "find_library", lambda name: None)
    problems = font_problems("fontless")
    assert any("libharfbuzz-subset0" in p for p in problems)
    assert any("fonts-noto-cjk" in p and "Noto Serif CJK SC" in p for p in problems)


def test_font_problems_catch_a_family_the_file_does_not_hold(tmp_path, monkeypatch):
    design = tmp_path / "misnamed"
    design.mkdir()
    (design / "design.toml").write_text(
        '[[fonts]]\nfamily = "Noto Serif CJK XX"\n'
        'files = ["/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"]\n'
    )
    monkeypatch.setattr(pdf, "DESIGNS_DIR", tmp_path)
    [problem] = font_problems("misnamed")
    assert "Noto Serif CJK XX" in problem
