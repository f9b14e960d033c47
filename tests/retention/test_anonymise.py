from sqlmodel import select

from app import clock
from app.enrollments import service as enrollments
from app.enrollments.models import Enrollment, EnrollmentCreate
from app.retention.anonymise import anonymise_contacts
from tests.factories import (
    make_company,
    make_course,
    make_enrollment,
    make_university,
    new_id_number,
)


def test_contact_details_go_and_the_enrollment_stays(session):
    course = make_course(session, make_university(session))
    company = make_company(session)
    kept, _ = make_enrollment(session, course, company=company, mobile="13900139000")
    data = EnrollmentCreate(
        course_code=course.code,
        name="王五",
        id_number=new_id_number(),
        mobile="13800138000",
        email="wang@example.com",
        company_uscc=company.uscc,
        consent=True,
    )
    gone = enrollments.enroll(session, data, channel="web", today=clock.today())
    session.commit()

    assert anonymise_contacts(session, [gone.id, gone.id]) == 1
    session.commit()

    row = session.exec(select(Enrollment).where(Enrollment.id == gone.id)).one()
    assert row.mobile_masked == "" and row.email_encrypted is None
    assert enrollments.mobile_of(session, row) == ""  # still readable: matches no mobile
    assert row.status == "enrolled" and row.trainee_id == gone.trainee_id
    other = session.exec(select(Enrollment).where(Enrollment.id == kept.id)).one()
    assert enrollments.mobile_of(session, other) == "13900139000"
    # Again: nothing left to erase.
    assert anonymise_contacts(session, [gone.id]) == 0
