from sqlalchemy import distinct, func
from sqlmodel import Session, SQLModel, select

from app import demo
from app.auth import service as auth
from app.certificates import service as certificates
from app.certificates.models import Certificate
from app.completions.models import Completion
from app.courses.models import Course
from app.trainees.models import Trainee
from app.universities.models import University


def _counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.exec(select(func.count()).select_from(table)).one()
        for table in SQLModel.metadata.sorted_tables
    }


def _files(settings) -> list[str]:
    return sorted(str(p.relative_to(settings.data_dir)) for p in settings.data_dir.rglob("*"))


# Each load prints a few certificates (about 0.4 s each), so one test checks the whole load.
def test_demo_loads_through_the_services(settings, session):
    summary = demo.load(session, settings, trainees=60)

    counts = _counts(session)
    assert (counts["university"], counts["company"], counts["course"]) == (6, 30, 15)
    assert counts["trainee"] == 60
    assert counts["enrollment"] >= 60
    assert counts["completion_batch"] == 6
    assert 0.4 * counts["enrollment"] < counts["completion"] < counts["enrollment"]
    assert counts["user"] == 9  # the three duties and six universities' staff
    assert "admin@dandelion.local / dandelion-admin" in summary and "staff@dzu.edu.cn" in summary
    assert "\n" not in summary

    issued = session.exec(select(Certificate)).all()
    assert len(issued) >= 3
    # The first course of each of the first three universities, where it has completions.
    first_courses = [
        session.exec(select(Course).where(Course.university_id == u.id).order_by(Course.id)).first()
        for u in session.exec(select(University).order_by(University.id).limit(3))
    ]
    completed = {
        c.id
        for c in first_courses
        if session.exec(select(Completion).where(Completion.course_id == c.id)).first()
    }
    assert len(completed) >= 2 and {c.course_id for c in issued} == completed
    for cert in issued:
        assert certificates.pdf_bytes(cert, settings.data_dir).startswith(b"%PDF")

    names = set(session.exec(select(Trainee.name)))
    assert {"李䶮", "𠮷田", "王𠮷", "阿依古丽·买买提"} <= names
    qlu = session.exec(select(University).where(University.code == "QLU")).one()
    staff = auth.authenticate(session, "staff@qlu.edu.cn", demo.STAFF_PASSWORD)
    assert staff is not None and staff.university_id == qlu.id
    assert auth.authenticate(session, *demo.ADMIN).is_admin


def test_loading_twice_changes_nothing(settings, session):
    demo.load(session, settings, trainees=60)
    before, files = _counts(session), _files(settings)

    summary = demo.load(session, settings, trainees=60)

    assert "nothing changed" in summary
    assert _counts(session) == before
    assert _files(settings) == files


def test_goals_api_counts_the_demo(client, settings, session):
    demo.load(session, settings, trainees=60)

    body = client.get("/api/v1/goals").json()

    talents = session.exec(select(func.count(distinct(Completion.trainee_id)))).one()
    assert body["universities"]["count"] == 6
    assert body["companies"]["count"] > 0
    assert body["talents"]["count"] == talents > 0
    assert body["enrolled"]["count"] == 60
