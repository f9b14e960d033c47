import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.enrollments import service
from app.enrollments.models import Enrollment
from tests.factories import make_company, make_course, make_university, new_id_number


def test_contact_details_are_sealed_with_the_installations_own_keys(app_with, session):
    course = make_course(session, make_university(session))
    company = make_company(session)
    other = app_with(secret_key="another-installation-with-a-long-secret-0123456789")
    with TestClient(other, base_url="http://testserver") as client:
        assert (
            client.post(
                "/api/v1/enrollments",
                json={
                    "course_code": course.code,
                    "name": "李䶮",
                    "id_number": new_id_number(),
                    "mobile": "138 0013 8000",
                    "company_uscc": company.uscc,
                    "consent": True,
                },
            ).status_code
            == 201
        )
    with other.state.sessions() as theirs:
        assert service.mobile_of(theirs, theirs.exec(select(Enrollment)).one()) == "13800138000"
    with pytest.raises(RuntimeError):  # this test's own installation has other keys
        service.mobile_of(session, session.exec(select(Enrollment)).one())
