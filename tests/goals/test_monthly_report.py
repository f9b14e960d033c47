"""The monthly report: one A4 page of PDF with the goals, the months and the cities as they stood
at the end of a month, for the alliance (/admin/goals/report.pdf) or one university's part
(/staff/goals/report.pdf), read back with pdftotext and pypdf.

The campaign: the period starts three months before the last complete month (M). 张三 of a
Zibo company completes at A in the month before M, 李四 of the same company on M's last
day, and 王五 of a Qingdao company at B on the first day of this month, after M's end: the
report for M counts the first two only, while the live dashboard counts all three."""

import io
import json
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pypdf
import pytest

from app import clock
from app.auth import service as auth
from app.goals import report, report_pdf, targets
from app.goals.models import GoalPlanUpdate
from tests.certificates.test_pdf import empty_fontconfig
from tests.conftest import environment_of
from tests.factories import make_company, make_completion, make_course, make_enrollment
from tests.html import field_errors, page, texts

TODAY = clock.today()
MONTH = report.default_month(TODAY)  # M: the last complete month
BEFORE = report.default_month(MONTH)  # the month before M
STARTS_ON = report.default_month(report.default_month(BEFORE))
EN = {"Accept-Language": "en"}


def pdftotext(data: bytes, *options: str) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(
        ["pdftotext", *options, "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode()


def pages(data: bytes) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def row(text: str, label: str) -> list[str]:
    """The figures printed after label on its table row: pdftotext -layout keeps a row on one
    line (beside the map's tiles, whose counts are on lines of their own)."""
    found = []
    for line in text.splitlines():
        for match in re.finditer(rf"{re.escape(label)}((?:\s+[\d.]+%?)+)", line):
            found.append(match.group(1).split())
    assert len(found) == 1, f"{label!r} has {len(found)} rows of figures in:\n{text}"
    return found[0]


@pytest.fixture
def campaign(session, settings, university_a, university_b):
    plan = GoalPlanUpdate(
        universities=50,
        companies=500,
        talents=5000,
        starts_on=STARTS_ON,
        ends_on=STARTS_ON + timedelta(days=700),
    )
    targets.update(session, plan, settings=settings, actor="test")
    university_a.city_code, university_b.city_code = "3701", "3702"
    session.add_all([university_a, university_b])
    session.commit()
    course_a = make_course(session, university_a, starts_on=STARTS_ON, code="A-01")
    course_b = make_course(session, university_b, starts_on=STARTS_ON, code="B-01")
    zibo = make_company(session, name="淄博针织服饰有限公司", city_code="3703")
    qingdao = make_company(session, name="青岛家纺有限公司", city_code="3702")
    zhang, _ = make_enrollment(session, course_a, name="张三", company=zibo)
    li, _ = make_enrollment(session, course_a, name="李四", company=zibo)
    wang, _ = make_enrollment(session, course_b, name="王五", company=qingdao)
    make_completion(session, zhang, course_a, completed_on=BEFORE + timedelta(days=9))
    make_completion(session, li, course_a, completed_on=report.month_end(MONTH))
    # After the month's end: in the live counters, not in the report.
    make_completion(session, wang, course_b, completed_on=TODAY.replace(day=1))
    session.commit()
    return {"a": university_a, "b": university_b}


def _pdf(persona, path: str, month: date | str | None = MONTH, headers=None) -> bytes:
    query = (
        {} if month is None else {"month": month if isinstance(month, str) else f"{month:%Y-%m}"}
    )
    response = persona.get(path, params=query, headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return response.content


def test_the_alliances_report_counts_what_was_completed_by_the_months_end(admin, campaign):
    assert [t.split(" / ")[0] for t in texts(admin.get("/admin/goals"), ".goal-count")] == [
        "2",
        "2",
        "3",
    ]  # live: 王五 too
    data = _pdf(admin, "/admin/goals/report.pdf")
    [only] = pages(data)
    text = pdftotext(data, "-layout")
    assert "山东省纺织服装产业联盟" in text and f"{MONTH.year}年{MONTH.month}月" in text
    assert f"制表时间 {TODAY.isoformat()}" in text.replace("：", " ")
    # Each goal at the month's end, against its target: 王五 completed after it.
    assert row(text, "联合高校")[:3] == ["1", "50", "2.0%"]
    assert row(text, "赋能企业")[:3] == ["1", "500", "0.2%"]
    assert row(text, "培养数字人才")[:3] == ["2", "5000", "0.0%"]
    for definition in ("至少有一条结业记录的高校", "每人只计一次"):
        assert definition in only
    assert "进度落后" in text  # two in three months of a 5,000 target
    # The 16 cities, each with its count: Zibo's company and its two trainees, Qingdao's none.
    for city in ("济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安", "威海"):
        assert city in text
    for city in ("日照", "临沂", "德州", "聊城", "滨州", "菏泽"):
        assert city in text
    assert row(text, "淄博")[-3:] == ["0", "1", "2"]
    assert row(text, "青岛")[-3:] == ["0", "0", "0"]
    assert row(text, "济南")[-3:] == ["1", "0", "0"]
    assert "截至月末" in text  # it says the figures are as of the month's end


def test_an_earlier_month_counts_less(admin, campaign):
    text = pdftotext(_pdf(admin, "/admin/goals/report.pdf", BEFORE), "-layout")
    assert row(text, "培养数字人才")[:1] == ["1"]
    assert row(text, "淄博")[-3:] == ["0", "1", "1"]


def test_the_default_month_is_the_last_complete_one(admin, campaign):
    response = admin.get("/admin/goals/report.pdf")
    assert response.status_code == 200
    assert f"goals-report-{MONTH:%Y-%m}.pdf" in response.headers["content-disposition"]
    # The dashboard's form offers it.
    field = page(admin.get("/admin/goals")).select_one("form#report input[name=month]")
    assert field["value"] == f"{MONTH:%Y-%m}" and field["type"] == "month"


def test_the_report_is_one_small_page_that_loads_nothing(admin, campaign):
    data = _pdf(admin, "/admin/goals/report.pdf")
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    width, height = (float(v) for v in reader.pages[0].mediabox[2:])
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4
    fonts = {
        str(font["/BaseFont"])
        for font in reader.pages[0]["/Resources"]["/Font"].values()
        if "/BaseFont" in font.get_object()
    }
    # Subsets (ABCDEF+...) of the certificates' common copies, the charts' text too: never a
    # whole Noto face, nor a fallback font.
    assert fonts and all(
        re.fullmatch(r"/[A-Z]{6}\+Noto-Serif-CJK-SC-Common(-Bold)?", f) for f in fonts
    ), fonts
    assert len(data) < 400_000, len(data)
    assert b"/URI" not in data  # no links out


def test_the_report_in_english(admin, campaign):
    response = admin.get("/admin/goals/report.pdf", params={"month": f"{MONTH:%Y-%m}"}, headers=EN)
    text = pdftotext(response.content, "-layout")
    assert "Shandong textile and apparel industry alliance" in text
    assert MONTH.strftime("%B %Y") in text  # Babel's month names
    assert row(text, "Digital talents cultivated")[:3] == ["2", "5000", "0.0%"]
    assert "Trainees with at least one completion" in text
    assert row(text, "Zibo")[-3:] == ["0", "1", "2"]
    assert "Qingdao" in text and "Heze" in text
    assert "as of the end of the month" in text
    disposition = response.headers["content-disposition"]
    assert f"filename*=UTF-8''{quote(f'Goals monthly report {MONTH:%Y-%m}.pdf')}" in disposition


def test_the_file_name_follows_rfc_6266_in_chinese(admin, campaign):
    response = admin.get("/admin/goals/report.pdf")
    disposition = response.headers["content-disposition"]
    chinese = f"目标进度月报 {MONTH:%Y-%m}.pdf"
    assert disposition == (
        f'attachment; filename="goals-report-{MONTH:%Y-%m}.pdf"; '
        f"filename*=UTF-8''{quote(chinese, safe='')}"
    )
    disposition.encode("latin-1")  # a header value: no raw Chinese in it


def test_a_universitys_staff_get_their_own_part(staff_a, campaign):
    response = staff_a.get("/staff/goals/report.pdf", params={"month": f"{MONTH:%Y-%m}"})
    assert response.status_code == 200
    text = pdftotext(response.content, "-layout")
    assert campaign["a"].name in text
    assert row(text, "淄博")[-2:] == ["1", "2"]
    assert row(text, "青岛")[-2:] == ["0", "0"]
    assert len(pages(response.content)) == 1
    disposition = response.headers["content-disposition"]
    assert quote(f"{campaign['a'].name} 目标进度月报", safe="") in disposition
    assert f'filename="goals-report-{MONTH:%Y-%m}-{campaign["a"].code}.pdf"' in disposition


def test_another_universitys_staff_see_none_of_it(staff_b, campaign):
    # B's completion is after the month's end: its part of the month is empty.
    text = pdftotext(_pdf(staff_b, "/staff/goals/report.pdf"), "-layout")
    assert campaign["b"].name in text and campaign["a"].name not in text
    assert row(text, "淄博")[-2:] == ["0", "0"]
    assert row(text, "青岛")[-2:] == ["0", "0"]
    # 王五's month, this one, has not ended: refused.
    this_month = f"{TODAY:%Y-%m}"
    refused = staff_b.get("/staff/goals/report.pdf", params={"month": this_month})
    assert refused.status_code == 422
    assert this_month in field_errors(refused)["month"]


def test_staff_cannot_have_the_alliances_report(staff_a, anonymous, campaign):
    assert staff_a.get("/admin/goals/report.pdf").status_code == 403
    response = anonymous.get("/staff/goals/report.pdf", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    "month, reason",
    [
        ("2026-13", "年-月"),
        ("november", "年-月"),
        ("", "年-月"),
        ("2026-00", "年-月"),
        ("3026-01", "年-月"),
        (f"{TODAY.year + 1}-{TODAY.month:02d}", "尚未结束"),
        (f"{STARTS_ON - timedelta(days=1):%Y-%m}", "任务周期"),
    ],
)
def test_a_bad_month_is_named_beside_the_field(admin, campaign, month, reason):
    response = admin.get("/admin/goals/report.pdf", params={"month": month})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert reason in field_errors(response)["month"]
    field = page(response).select_one("form#report input[name=month]")
    assert field["value"] == month  # what was typed, kept


def test_a_bad_month_in_english(staff_a, campaign):
    response = staff_a.get("/staff/goals/report.pdf", params={"month": "2026-13"}, headers=EN)
    assert response.status_code == 422
    assert "such as" in field_errors(response)["month"]


def test_a_month_typed_the_chinese_way_is_read(admin, campaign):
    typed = f"{MONTH.year}年{MONTH.month}月".translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    assert _pdf(admin, "/admin/goals/report.pdf", typed).startswith(b"%PDF-")


def test_the_api_twin(client, session, campaign):
    _, admin_token = auth.create_token(session, name="a", role="admin", university_id=None)
    _, b_token = auth.create_token(
        session, name="b", role="university", university_id=campaign["b"].id
    )
    session.commit()
    as_admin = {"Authorization": f"Bearer {admin_token}"}
    response = client.get(
        "/api/v1/goals/report.pdf", params={"month": f"{MONTH:%Y-%m}"}, headers=as_admin
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert row(pdftotext(response.content, "-layout"), "培养数字人才")[:1] == ["2"]
    as_b = {"Authorization": f"Bearer {b_token}"}
    text = pdftotext(client.get("/api/v1/goals/report.pdf", headers=as_b).content, "-layout")
    assert campaign["b"].name in text
    bad = client.get("/api/v1/goals/report.pdf", params={"month": "2026-13"}, headers=as_admin)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "month"
    assert client.get("/api/v1/goals/report.pdf").status_code == 401


def test_a_long_name_and_companies_outside_shandong_still_fit_one_page(staff_a, session, campaign):
    university = campaign["a"]
    university.name = "山东省纺织服装职业技术学院继续教育与数字化培训学院（联合办学）"
    session.add(university)
    session.commit()
    elsewhere = make_company(session, name="外省某纺织有限公司", city_code=None)
    course = make_course(session, university, starts_on=STARTS_ON)
    enrollment, _ = make_enrollment(session, course, name="赵六", company=elsewhere)
    make_completion(session, enrollment, course, completed_on=MONTH)
    session.commit()
    english = _pdf(staff_a, "/staff/goals/report.pdf", headers=EN)
    assert len(pages(english)) == 1
    chinese = _pdf(staff_a, "/staff/goals/report.pdf")
    assert len(pages(chinese)) == 1
    text = pdftotext(chinese, "-layout")
    assert university.name in text
    assert row(text, "省外及其他")[-2:] == ["1", "1"]


def test_the_printer_loads_nothing_from_outside(caplog):
    html = (
        '<link rel="stylesheet" href="file:///etc/passwd">'
        '<img src="http://127.0.0.1:9/tracker.png"><p>李四</p>'
    )
    data = report_pdf.render(html)
    assert "李四" in pages(data)[0]
    refused = [r.getMessage() for r in caplog.records if "may not load" in r.getMessage()]
    assert len(refused) == 2, [r.getMessage() for r in caplog.records]


PRINT_WITHOUT_FONTS = """
import json, os
from fastapi.testclient import TestClient
from app.config import Settings
from app.main import create_app

application = create_app(Settings())
with TestClient(application) as client:
    response = client.get(
        "/api/v1/goals/report.pdf", headers={"Authorization": "Bearer " + os.environ["TOKEN"]}
    )
print(json.dumps([response.status_code, response.json()], ensure_ascii=False))
"""


def test_a_machine_without_the_fonts_answers_503_naming_the_package(
    settings, session, campaign, tmp_path
):
    """Printing in a child process whose fontconfig sees no font (a process that has printed
    keeps its fonts loaded): 503, naming the Debian package, in Chinese by default."""
    _, token = auth.create_token(session, name="a", role="admin", university_id=None)
    session.commit()
    done = subprocess.run(
        [sys.executable, "-c", PRINT_WITHOUT_FONTS],
        env={
            **environment_of(settings),
            "FONTCONFIG_FILE": empty_fontconfig(tmp_path),
            "TOKEN": token,
        },
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    status, body = json.loads(done.stdout.splitlines()[-1])
    assert status == 503
    assert "fonts-noto-cjk" in body["detail"] and "管理员" in body["detail"]
