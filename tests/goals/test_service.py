"""The goals count distinct entities: a second course or a re-upload never inflates them."""

from datetime import timedelta

from app import clock
from app.completions import service as completions
from app.goals import service as goals
from tests import files
from tests.factories import make_company, make_course, make_enrollment, make_university

DONE = (clock.today() - timedelta(days=1)).isoformat()


def _upload(session, settings, university, rows):
    completions.import_file(
        session,
        completions.Upload(university=university, filename="a.csv", data=files.utf8_bom_csv(rows)),
        data_dir=settings.data_dir,
        today=clock.today(),
    )
    session.commit()


def test_distinct_universities_companies_and_talents(session, settings):
    a, b = make_university(session), make_university(session)
    course_a1, course_a2 = make_course(session, a), make_course(session, a)
    course_b = make_course(session, b)
    company_x, company_y = make_company(session), make_company(session)
    _, zhang = make_enrollment(session, course_a1, name="张三", company=company_x)
    make_enrollment(session, course_a2, name="张三", id_number=zhang, company=company_x)
    _, li = make_enrollment(session, course_a1, name="李四", company=company_x)
    make_enrollment(session, course_b, name="王五", company=company_y)  # enrolled, never completes

    rows = [
        ["张三", zhang, course_a1.code, DONE, ""],
        ["张三", zhang, course_a2.code, DONE, ""],
        ["李四", li, course_a1.code, DONE, ""],
    ]
    _upload(session, settings, a, rows)
    _upload(session, settings, a, rows)  # the same file again
    counts = goals.count_all(session, settings)
    assert counts["universities"].count == 1  # B has no completion yet
    assert counts["companies"].count == 1  # Y's only employee has not completed
    assert counts["talents"].count == 2  # 张三 completed two courses: one talent
    assert counts["enrolled"].count == 3
    assert counts["universities_joined"].count == 2 and counts["companies_joined"].count == 2
    assert counts["talents"].target == 5000 and counts["talents"].percent == 100 * 2 / 5000


def test_verify_catches_records_changed_behind_the_app_and_rebuild_repairs(session, settings):
    from sqlalchemy import delete
    from sqlmodel import select

    from app.completions.models import Completion
    from tests.conftest import run_cli

    university = make_university(session, city_code="3703")
    course = make_course(session, university)
    _, zhang = make_enrollment(session, course, name="张三")
    _, li = make_enrollment(session, course, name="李四")
    _upload(
        session,
        settings,
        university,
        [["张三", zhang, course.code, DONE, ""], ["李四", li, course.code, DONE, ""]],
    )
    assert goals.verify(session, settings) == []
    first = session.exec(select(Completion).order_by(Completion.id)).first()
    session.execute(delete(Completion).where(Completion.id == first.id))  # not through the app
    session.commit()
    problems = goals.verify(session, settings)
    assert "talents province: counted 2, recount 1" in problems
    assert f"completions university:{university.id}: counted 2, recount 1" in problems
    result = run_cli(settings, ["goals", "verify"])
    assert result.exit_code == 1 and "talents province: counted 2, recount 1" in result.output

    rebuilt = run_cli(settings, ["goals", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert goals.verify(session, settings) == []
    assert goals.count_all(session, settings)["talents"].count == 1


def test_cli_goals_verify(settings, session):
    from tests.conftest import run_cli

    result = run_cli(settings, ["goals", "verify"])
    assert result.exit_code == 0 and "agree" in result.output


def test_by_city_counts_universities_and_companies_where_they_are(session, settings, client):
    jinan_university = make_university(session, city_code="3701")
    course = make_course(session, jinan_university)
    qingdao_company = make_company(session, city_code="3702")
    _, zhang = make_enrollment(session, course, name="张三", company=qingdao_company)
    make_enrollment(session, course, name="李四", company=qingdao_company)  # never completes
    _upload(session, settings, jinan_university, [["张三", zhang, course.code, DONE, ""]])
    rows = {r.code: r for r in goals.by_city(session)}
    assert (rows["3701"].universities, rows["3701"].companies, rows["3701"].talents) == (1, 0, 0)
    assert (rows["3702"].universities, rows["3702"].companies, rows["3702"].talents) == (0, 1, 1)
    assert len(rows) == 16
    api = {r["city_code"]: r for r in client.get("/api/v1/goals/cities").json()}
    assert api["3702"]["talents"] == 1 and api["3702"]["city"] == "青岛"
    assert "按城市统计" in client.get("/").text
