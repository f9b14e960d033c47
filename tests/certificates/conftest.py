"""A course with completions ready for certificates, shared by the certificate tests."""

from datetime import timedelta

import pytest

from app import clock
from tests import files
from tests.completions.uploads import upload_and_save
from tests.factories import login, make_course, make_enrollment, make_university, make_user

DONE = (clock.today() - timedelta(days=1)).isoformat()


@pytest.fixture
def completed(client, session):
    """University A's course with two completions (one rare-character name), uploaded by staff."""
    a = make_university(session, name="齐鲁工业大学")
    course = make_course(session, a, code="QLU-CERT-01", title="服装智能制造与MES")
    people = [
        ("李䶮", make_enrollment(session, course, name="李䶮", mobile="13912345678")[1]),
        ("𠮷田", make_enrollment(session, course, name="𠮷田")[1]),
    ]
    staff = make_user(session, university=a)
    login(client, staff)
    rows = [[n, i, course.code, DONE, "90"] for n, i in people]
    upload_and_save(client, "a.xlsx", files.xlsx(rows))
    return {"a": a, "course": course, "people": people, "staff": staff}
