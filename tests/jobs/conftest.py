"""A course with many completions, uploaded by its university's staff, ready to be issued."""

from datetime import timedelta

import pytest

from app import clock
from tests import files
from tests.completions.uploads import upload_and_save
from tests.factories import login, make_course, make_enrollment, make_university, make_user

DONE = (clock.today() - timedelta(days=1)).isoformat()


def upload_completions(client, session, course, names: list[str]) -> list[str]:
    """Enroll one trainee per name and upload their completions; returns the ID numbers."""
    people = [(name, make_enrollment(session, course, name=name)[1]) for name in names]
    rows = [[n, i, course.code, DONE, "90"] for n, i in people]
    assert "已保存" in upload_and_save(client, "a.xlsx", files.xlsx(rows)).text
    return [i for _, i in people]


@pytest.fixture
def course_of_staff(client, session):
    """University A's course and its logged-in staff member (on `client`)."""
    university = make_university(session, name="齐鲁工业大学")
    course = make_course(session, university, code="QLU-JOBS-01", title="服装智能制造与MES")
    staff = make_user(session, university=university)
    login(client, staff)
    return {"university": university, "course": course, "staff": staff}
