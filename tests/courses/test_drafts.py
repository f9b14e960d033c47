"""A draft course is not yet public: its address answers like a missing course, but to its own
university's staff (who preview it) and administrators."""

import pytest

from tests.factories import make_course


@pytest.fixture
def draft(session, university_a):
    return make_course(session, university_a, title="草稿课程预览", is_draft=True)


@pytest.mark.parametrize(
    "path", ["/courses/{code}", "/courses/{code}/qr.svg", "/courses/{code}/qr.png"]
)
def test_a_stranger_cannot_open_a_draft(anonymous, staff_b, draft, path):
    for visitor in (anonymous, staff_b):
        assert visitor.get(path.format(code=draft.code)).status_code == 404


def test_its_staff_and_administrators_preview_it(staff_a, admin, draft):
    for visitor in (staff_a, admin):
        page = visitor.get(f"/courses/{draft.code}")
        assert page.status_code == 200 and "草稿课程预览" in page.text


def test_nobody_enrolls_in_a_draft_by_its_code(client, draft):
    body = {
        "course_code": draft.code,
        "name": "张三",
        "id_number": "11010519491231002X",
        "mobile": "13800138000",
        "company_name": "某某纺织有限公司",
        "consent": True,
    }
    answer = client.post("/api/v1/enrollments", json=body)
    # Answered like a code that does not exist: the answer must not tell that a draft has it.
    assert answer.status_code == 404, answer.text
    missing = client.post("/api/v1/enrollments", json={**body, "course_code": "NO-SUCH-1"})
    assert answer.json() == missing.json()
