"""What a Chinese university's 结业证书 carries, read back from the PDF: the seal over the issuer,
the signatory line, the issue date under the issuer and an English line that is wholly English."""

import io
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import replace
from datetime import timedelta

import pypdf
import pytest
from PIL import Image
from sqlmodel import col, select

from app import clock
from app.auth import service as auth
from app.certificates.models import Certificate
from app.certificates.pdf import render_pdf
from tests import files
from tests.certificates.test_pdf import BASE_VIEW
from tests.completions.uploads import upload_and_save
from tests.factories import make_enrollment
from tests.universities import images

DONE = clock.today() - timedelta(days=1)
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)')


def _needs(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (poppler-utils)")


def _text(pdf: bytes) -> str:
    _needs("pdftotext")
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(done.stdout.decode().split())


def _words(pdf: bytes) -> dict[str, tuple[float, float, float, float]]:
    """Each printed word with its box in points (x0, y0, x1, y1), y growing downwards."""
    _needs("pdftotext")
    done = subprocess.run(
        ["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True
    )
    found = WORD.findall(done.stdout.decode())
    return {w: (float(x0), float(y0), float(x1), float(y1)) for x0, y0, x1, y1, w in found}


def _english_line(pdf: bytes) -> str:
    match = re.search(r"has completed the training course .*? on \d{1,2} \w+ \d{4}\.", _text(pdf))
    assert match, _text(pdf)
    return match.group(0)


def _images(pdf: bytes) -> list[Image.Image]:
    """The page's images but the QR code (a grey-scale PNG, where a seal is RGBA)."""
    images = [i.image for i in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].images]
    return [image for image in images if image.mode != "L"]


def _red_share(pdf: bytes, box: tuple[float, float, float, float]) -> float:
    """The share of seal-red pixels inside a box of the page, rendered at 72 dpi (1 px = 1 pt)."""
    _needs("pdftoppm")
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            ["pdftoppm", "-png", "-r", "72", "-singlefile", "-", f"{folder}/page"],
            input=pdf,
            check=True,
        )
        page = Image.open(f"{folder}/page.png").convert("RGB")
    region = page.crop(tuple(round(v) for v in box))
    rgb = region.tobytes()
    red = sum(
        1 for i in range(0, len(rgb), 3) if rgb[i] > 170 and rgb[i + 1] < 120 and rgb[i + 2] < 120
    )
    return red / (region.width * region.height)


def _settings(staff, **fields):
    path = f"/universities/{staff.university.code}/certificate"
    seal = fields.pop("seal", None)
    response = staff.post(
        path,
        data={"csrf_token": staff.csrf(path), **fields},
        files={"seal": ("seal.png", seal, "image/png")} if seal else None,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def _course(staff, code: str, **fields) -> str:
    today = clock.today()
    data = {
        "code": code,
        "title": "纺织服装企业数字化转型实务",
        "hours": "32",
        "capacity": "50",
        "starts_on": (today - timedelta(days=30)).isoformat(),
        "ends_on": (today + timedelta(days=30)).isoformat(),
        "contact_phone": "0531-89631234",
        **fields,
    }
    response = staff.post(
        "/staff/courses/new",
        data={"csrf_token": staff.csrf("/staff/courses/new"), **data},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return code


def _issued(staff, session, code: str, names: list[str]) -> list[Certificate]:
    """Enroll these people, upload their completions and issue, as the staff member would."""
    from app.courses import service as courses

    course = courses.get_by_code(session, code)
    people = [(n, make_enrollment(session, course, name=n)[1]) for n in names]
    rows = [[n, i, code, DONE.isoformat(), "90"] for n, i in people]
    upload_and_save(staff, "done.xlsx", files.xlsx(rows), token=staff.csrf("/staff/uploads"))
    staff.post(
        f"/staff/courses/{code}/certificates",
        data={"csrf_token": staff.csrf(f"/staff/courses/{code}")},
    )
    session.expire_all()
    certs = session.exec(
        select(Certificate)
        .where(Certificate.course_code == code, col(Certificate.holder_name).in_(names))
        .order_by(col(Certificate.id))
    ).all()
    assert len(certs) == len(names)
    return list(certs)


def _pdf(staff, cert: Certificate) -> bytes:
    response = staff.get(f"/certificates/{cert.serial}.pdf")
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def test_the_seal_the_signatory_and_the_english_line_reach_the_pdf(staff_a, session):
    _settings(
        staff_a,
        seal=images.seal_png(800),
        name_en="Shandong University of Technology",
        signatory_title="院长",
        signatory_name="张某某",
    )
    code = _course(staff_a, "SDUT-DESIGN-01", title_en="Digital Transformation in Textiles")
    [cert] = _issued(staff_a, session, code, ["王小明"])
    pdf = _pdf(staff_a, cert)
    text = _text(pdf)
    assert "院长 张某某" in text
    assert _english_line(pdf) == (
        f"has completed the training course “Digital Transformation in Textiles” ({code}, "
        f"32 hours) at Shandong University of Technology on {DONE.day} "
        f"{DONE.strftime('%B')} {DONE.year}."
    )
    # The issue date stands under the issuer's name, centred with it, in Chinese numerals.
    words = _words(pdf)
    name = words["山东理工大学"]
    [date] = [
        box
        for word, box in words.items()
        if re.fullmatch("[〇一二三四五六七八九十]+年.+月.+日", word)
    ]
    assert date[1] > name[3]
    assert abs((date[0] + date[2]) / 2 - (name[0] + name[2]) / 2) < 3
    # The seal: one image of the redrawn PNG, stamped in red over the name.
    [seal] = _images(pdf)
    assert seal.size == (480, 480) and seal.mode == "RGBA"
    assert _red_share(pdf, name) > 0.03  # about 0.1 with this seal; 0 without one


def test_without_a_seal_nothing_red_covers_the_issuer(staff_a, session):
    code = _course(staff_a, "SDUT-DESIGN-02")
    [cert] = _issued(staff_a, session, code, ["王小明"])
    pdf = _pdf(staff_a, cert)
    assert _images(pdf) == []
    assert _red_share(pdf, _words(pdf)["山东理工大学"]) < 0.01
    assert "签发人" not in _text(pdf)  # no signatory: no empty signature line either


def test_a_course_names_its_own_signatory(staff_a, session):
    _settings(staff_a, signatory_title="院长", signatory_name="张某某")
    code = _course(staff_a, "SDUT-DESIGN-03", signatory_title="中心主任", signatory_name="李某")
    [cert] = _issued(staff_a, session, code, ["王小明"])
    text = _text(_pdf(staff_a, cert))
    assert "中心主任 李某" in text and "张某某" not in text


def test_a_new_seal_leaves_issued_certificates_as_they_were(staff_a, session, settings):
    _settings(staff_a, seal=images.seal_png(400))
    code = _course(staff_a, "SDUT-DESIGN-04")
    [first] = _issued(staff_a, session, code, ["王小明"])
    before = _pdf(staff_a, first)
    _settings(staff_a, seal=images.seal_png(400, name="山东理工大学培训中心"))
    [second] = _issued(staff_a, session, code, ["李小红"])
    assert _pdf(staff_a, first) == before  # the stored bytes, not a new rendering
    [old_seal], [new_seal] = _images(before), _images(_pdf(staff_a, second))
    assert old_seal.tobytes() != new_seal.tobytes()


ENGLISH = {
    "both": ("Shandong University", "Digital Transformation"),
    "university only": ("Shandong University", None),
    "course only": (None, "Digital Transformation"),
    "neither": (None, None),
}


@pytest.mark.parametrize("university_en, course_en", ENGLISH.values(), ids=ENGLISH.keys())
def test_the_english_line_is_wholly_english(university_en, course_en):
    view = replace(BASE_VIEW, university_name_en=university_en, course_title_en=course_en)
    line = _english_line(render_pdf(view))
    assert not [c for c in line if unicodedata.east_asian_width(c) in "WF"], line
    assert ("“Digital Transformation”" in line) == bool(course_en)
    assert (" at Shandong University " in line) == bool(university_en)
    assert "SDU-2026-017" in line and "32 hours" in line and "1 May 2026" in line


def test_the_course_form_and_the_api_take_an_english_title(staff_a, client, session):
    page = staff_a.post(
        "/staff/courses/new",
        data={
            "csrf_token": staff_a.csrf("/staff/courses/new"),
            "code": "SDUT-DESIGN-05",
            "title": "数字化设计",
            "hours": "16",
            "capacity": "10",
            "starts_on": "2026-09-01",
            "ends_on": "2026-09-30",
            "title_en": "数字化设计",
            "signatory_title": "主任",
        },
    )
    assert page.status_code == 422
    assert "中文" in page.text and "签发人姓名" in page.text
    _, token = auth.create_token(
        session, name="a", role="university", university_id=staff_a.university.id
    )
    session.commit()
    body = {
        "code": "SDUT-DESIGN-06",
        "title": "数字化设计",
        "hours": "16",
        "capacity": 10,
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-30",
        "confirm_hidden": True,  # past dates: the university knows the catalog will not show it
    }
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post(
        "/api/v1/courses", json={**body, "title_en": "Digital Design"}, headers=headers
    )
    assert created.status_code == 201 and created.json()["title_en"] == "Digital Design"
    refused = client.post(
        "/api/v1/courses",
        json={**body, "code": "SDUT-DESIGN-07", "title_en": "数字化设计"},
        headers=headers,
    )
    assert refused.status_code == 422 and "title_en" in refused.text


def test_an_existing_course_gets_its_english_title_later(staff_a, staff_b, session):
    code = _course(staff_a, "SDUT-DESIGN-08")
    path = f"/staff/courses/{code}/certificate"
    assert staff_b.get(path).status_code == 404
    refused = staff_a.post(path, data={"csrf_token": staff_a.csrf(path), "title_en": "数字化"})
    assert refused.status_code == 422 and "中文" in refused.text
    saved = staff_a.post(
        path,
        data={"csrf_token": staff_a.csrf(path), "title_en": "Digital Design"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    [cert] = _issued(staff_a, session, code, ["王小明"])
    assert "“Digital Design”" in _english_line(_pdf(staff_a, cert))
