"""Plain factories: make_x(session, **overrides), committed, for tests and benchmarks."""

import random
import re
import time
from datetime import timedelta

import pyotp
from sqlmodel import Session

from app import clock
from app.auth import service as auth
from app.auth import totp
from app.companies.models import Company
from app.companies.validators import fake_uscc
from app.courses.models import Course
from app.enrollments import service as enrollments
from app.enrollments.models import EnrollmentCreate
from app.goals import tally
from app.trainees.validators import fake_id_number
from app.universities.models import University

PASSWORD = "correct horse battery"
rng = random.Random(20261128)


def make_university(session: Session, **overrides) -> University:
    n = rng.randrange(10**6)
    university = University(
        **{"code": f"U{n}", "name": f"山东第{n}大学", "city_code": "3701", **overrides}
    )
    session.add(university)
    session.commit()
    return university


def make_course(session: Session, university: University, **overrides) -> Course:
    today = clock.today()
    course = Course(
        **{
            "code": f"C{rng.randrange(10**8)}",
            "title": "纺织服装数字化设计",
            "hours": 32,
            "capacity": 50,
            "starts_on": today - timedelta(days=30),
            "ends_on": today + timedelta(days=30),
            "university_id": university.id,
            "city_code": university.city_code,  # taught where the university is, unless given
            **overrides,
        }
    )
    session.add(course)
    session.commit()
    return course


def make_company(session: Session, **overrides) -> Company:
    company = Company(
        **{"uscc": fake_uscc(rng), "name": "山东某纺织有限公司", "city_code": "3701", **overrides}
    )
    session.add(company)
    session.commit()
    return company


def make_user(
    session: Session,
    *,
    role: str = "staff",
    university: University | None = None,
    email: str | None = None,
    second_factor: bool = False,
):
    """An account with the tests' password; privileged ones (and, asked, staff) with a second
    factor whose secret login() knows (TOTP_SECRETS)."""
    email = email or f"{role}{rng.randrange(10**8)}@example.edu.cn"
    user = auth.create_user(
        session,
        email=email,
        password=PASSWORD,
        role=role,
        university_id=university.id if university else None,
        actor="test",
    )
    if user.is_privileged or second_factor:  # privileged accounts must have one
        TOTP_SECRETS[user.email] = secret = totp.new_secret()
        totp.store_secret(session, user, secret)
    session.commit()
    return user


def new_id_number(**kw) -> str:
    return fake_id_number(rng, **kw)


def make_enrollment(
    session: Session,
    course: Course,
    *,
    name: str = "张三",
    id_number: str | None = None,
    company: Company | None = None,
    mobile: str = "13800138000",
):
    company = company or make_company(session)
    data = EnrollmentCreate(
        course_code=course.code,
        name=name,
        id_number=id_number or new_id_number(),
        mobile=mobile,
        company_uscc=company.uscc,
        consent=True,
    )
    enrollment = enrollments.enroll(session, data, channel="web", today=clock.today())
    session.commit()
    return enrollment, data.id_number


def csrf_of(client, path: str = "/login") -> str:
    """Load a page the way a browser does and read its CSRF token from the form."""
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


# The second-factor secrets of the accounts the tests made or enrolled, by email.
TOTP_SECRETS: dict[str, str] = {}
_last_steps: dict[str, int] = {}


def totp_code(user_or_email) -> str:
    """A code the account's authenticator app would show now, never one this process gave
    before for it (the server accepts a code once, and one step either side of now)."""
    email = getattr(user_or_email, "email", user_or_email)
    totp = pyotp.TOTP(TOTP_SECRETS[email])
    now = time.time()
    step = max(int(now) // totp.interval, _last_steps.get(email, 0) + 1)
    while step > int(time.time()) // totp.interval + 1:  # a third login within 30 seconds
        time.sleep(1)
    _last_steps[email] = step
    return totp.at(step * totp.interval)


def login(client, user, password: str = PASSWORD) -> None:
    """Log in as a browser does: the password, then the second factor's code when the account
    has one, or its enrolment when the account must have one and has none."""
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    if response.headers["location"] == "/login/code":
        response = client.post(
            "/login/code",
            data={"code": totp_code(user), "csrf_token": csrf_of(client, "/login/code")},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    if response.headers["location"] == "/account/second-factor":
        enrol_second_factor(client, user.email)


def enrol_second_factor(client, email: str) -> list[str]:
    """Set up the second factor on its page as a person with an authenticator app does: the
    key read from the page, a first code typed; returns the recovery codes shown."""
    page = client.get("/account/second-factor")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text)
    setup = re.search(r'name="setup" value="([^"]+)"', page.text)
    assert secret and setup, "no second-factor enrolment on the page"
    TOTP_SECRETS[email] = secret.group(1)
    response = client.post(
        "/account/second-factor",
        data={
            "setup": setup.group(1),
            "code": totp_code(email),
            "csrf_token": csrf_of(client, "/account/second-factor"),
        },
    )
    assert response.status_code == 201, response.text
    return re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", response.text)


def make_completion(session: Session, enrollment, course: Course, **fields):
    """A completion recorded as the app records one: counted toward the goals."""
    from app.completions.models import Completion

    completion = Completion(
        enrollment_id=enrollment.id,
        course_id=course.id,
        university_id=course.university_id,
        trainee_id=enrollment.trainee_id,
        company_id=enrollment.company_id,
        completed_on=fields.pop("completed_on", course.starts_on),
        hours=course.hours,
        **fields,
    )
    session.add(completion)
    session.flush()
    tally.completions_added(session, Completion.id == completion.id)
    return completion


def withdraw(session: Session, enrollment) -> None:
    """An enrollment withdrawn (the product has no page for it yet): no longer counted."""
    from app.enrollments.models import Enrollment

    tally.enrollments_removed(session, Enrollment.id == enrollment.id)
    enrollment.status = "withdrawn"
    session.add(enrollment)
    session.flush()


def make_listed_company(session: Session, **overrides) -> Company:
    """A company the public form lists: a university has recorded a completion of its staff."""
    company = make_company(session, **overrides)
    course = make_course(session, make_university(session))
    enrollment, _ = make_enrollment(session, course, company=company)
    make_completion(session, enrollment, course)
    session.commit()
    return company


def enroll_by_employer_name(session: Session, course: Course, name: str = "某某纺织厂"):
    """A trainee enrolled as the public form does with an employer not listed: by name alone,
    so the company is unconfirmed. Committed."""
    data = EnrollmentCreate(
        course_code=course.code,
        name="张三",
        id_number=new_id_number(),
        mobile="13800138000",
        company_name=name,
        consent=True,
    )
    enrollment = enrollments.enroll(session, data, channel="web", today=clock.today())
    session.commit()
    return enrollment
