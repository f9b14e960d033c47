import pytest

from tests.factories import make_course, make_enrollment, make_university


@pytest.fixture
def campus(session):
    """University A with a course and three enrolled trainees; university B with its own course."""
    a, b = make_university(session, name="齐鲁工业大学"), make_university(session)
    course = make_course(session, a, code="QLU-DIG-01")
    other = make_course(session, b, code="QDU-DIG-01")
    people = [make_enrollment(session, course, name=n)[1] for n in ("张三", "李䶮", "欧阳娜娜")]
    outsider = make_enrollment(session, other, name="王五")[1]
    return {"a": a, "b": b, "course": course, "other": other, "ids": people, "outsider": outsider}
