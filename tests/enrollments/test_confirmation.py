"""After enrolling: what happens next, on the page, in the API's answer, on paper and as a picture."""

import io
from datetime import date

from PIL import Image
from sqlmodel import select

from app.enrollments.models import Enrollment
from tests.certificates.test_pdf import empty_fontconfig
from tests.factories import make_company, make_course, make_university, new_id_number
from tests.html import page, text


def _details(session, **overrides):
    return make_course(
        session,
        make_university(session, name="齐鲁工业大学"),
        starts_on=date(2030, 3, 2),
        ends_on=date(2030, 3, 20),
        mode="mixed",
        venue="济南市长清区大学路3501号 实训楼 204",
        contact_name="王老师",
        contact_phone="0531-89631234",
        contact_email="px@qlu.edu.cn",
        **overrides,
    )


def _body(course, company, **overrides) -> dict:
    return {
        "course_code": course.code,
        "name": "李䶮",
        "id_number": new_id_number(),
        "mobile": "13800138000",
        "company_uscc": company.uscc,
        "consent": True,
        **overrides,
    }


def test_the_api_answers_what_happens_next(client, session):
    course = _details(session)
    answer = client.post("/api/v1/enrollments", json=_body(course, make_company(session)))
    assert answer.status_code == 201
    body = answer.json()
    number = body["enrollment_no"]
    assert session.exec(select(Enrollment).where(Enrollment.enrollment_no == number)).one()
    assert body["starts_on"] == "2030-03-02" and body["ends_on"] == "2030-03-20"
    assert body["mode"] == "mixed" and body["venue"] == "济南市长清区大学路3501号 实训楼 204"
    assert body["contact"] == {"name": "王老师", "phone": "0531-89631234", "email": "px@qlu.edu.cn"}
    assert body["university"] == "齐鲁工业大学" and body["course_code"] == course.code
    assert body["confirmation_url"] == f"http://testserver/enrollments/{number}"
    assert body["image_url"] == f"http://testserver/enrollments/{number}.png"
    # The link opens the confirmation page: the same facts.
    shown = client.get(body["confirmation_url"].removeprefix("http://testserver"))
    assert shown.status_code == 200 and text(shown, "#enrollment-no") == number


def test_the_page_says_when_where_and_whom_to_ask(client, session):
    course = _details(session)
    number = client.post("/api/v1/enrollments", json=_body(course, make_company(session))).json()[
        "enrollment_no"
    ]
    shown = client.get(f"/enrollments/{number}")
    assert text(shown, "#starts-on") == "2030-03-02"
    assert text(shown, "#venue") == "济南市长清区大学路3501号 实训楼 204"
    assert text(shown, "#mode") == "线上线下结合"
    contact = page(shown).select_one("#contact")
    assert "王老师" in contact.get_text()
    assert contact.select_one('a[href="tel:0531-89631234"]')
    assert contact.select_one('a[href="mailto:px@qlu.edu.cn"]')
    assert "李*" in shown.text and "李䶮" not in shown.text  # the holder masked, as before
    assert page(shown).select_one("#save-image")["href"] == f"/enrollments/{number}.png"


def test_the_page_prints_without_inline_script_or_style(client, session):
    course = _details(session)
    number = client.post("/api/v1/enrollments", json=_body(course, make_company(session))).json()[
        "enrollment_no"
    ]
    shown = client.get(f"/enrollments/{number}")
    soup = page(shown)
    scripts = soup.select("script")
    assert scripts and all(s.get("src", "").startswith("/static/") for s in scripts)
    assert all(not s.string for s in scripts) and not soup.select("style, [style], [onclick]")
    assert soup.select_one("button.print-page")
    sheets = [link["href"] for link in soup.select('link[rel="stylesheet"]')]
    assert "/static/confirmation.css" in sheets
    assert "@media print" in client.get("/static/confirmation.css").text
    assert "window.print" in client.get("/static/print.js").text
    assert "script-src 'self'" in shown.headers["content-security-policy"]


def test_a_course_without_contact_names_the_university(client, session):
    course = make_course(session, make_university(session, name="青岛大学"))
    number = client.post("/api/v1/enrollments", json=_body(course, make_company(session))).json()[
        "enrollment_no"
    ]
    shown = client.get(f"/enrollments/{number}")
    assert text(shown, "#contact") == "青岛大学"
    assert not page(shown).select("#venue")


def test_the_confirmation_is_saved_as_a_picture(client, session):
    course = _details(session)
    number = client.post("/api/v1/enrollments", json=_body(course, make_company(session))).json()[
        "enrollment_no"
    ]
    picture = client.get(f"/enrollments/{number}.png")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(picture.content)) as image:
        assert image.format == "PNG" and image.width == 720 and image.height > 400
        # Something is drawn: more than the white page.
        assert len(image.convert("L").getcolors(256) or []) > 2


def test_no_picture_of_an_unknown_number(client, session):
    assert client.get("/enrollments/BM26ABCDEFGH.png").status_code == 404


def test_without_the_font_the_picture_is_a_503_naming_the_package(
    client, session, tmp_path, monkeypatch
):
    course = _details(session)
    number = client.post("/api/v1/enrollments", json=_body(course, make_company(session))).json()[
        "enrollment_no"
    ]
    monkeypatch.setenv("FONTCONFIG_FILE", empty_fontconfig(tmp_path))
    picture = client.get(f"/enrollments/{number}.png")
    assert picture.status_code == 503
    assert "fonts-noto-cjk" in picture.text and "Noto Sans CJK SC" in picture.text
    assert client.get(f"/enrollments/{number}").status_code == 200  # the page still prints
