"""Before issuing, the clerk sees who will receive a certificate and who is refused and why,
then confirms; a completion whose certificate was revoked is not issued again."""

from sqlmodel import select

from app.certificates import issuing
from app.certificates.models import Certificate
from app.jobs.models import Job
from tests.certificates import issued
from tests.factories import csrf_of, login, make_course, make_university, make_user
from tests.html import flash, page, texts
from tests.jobs.conftest import upload_completions

RARE = "王\U00031350"  # CJK Extension H: a valid name that no installed font can print


def _course_with(client, session, names):
    university = make_university(session, name="齐鲁工业大学")
    course = make_course(session, university, code="QLU-PRE-01", title="服装智能制造与MES")
    login(client, make_user(session, university=university))
    upload_completions(client, session, course, names)
    return course


def _preview(client, course):
    return client.get(f"/staff/courses/{course.code}/certificates/preview")


def test_the_preview_names_who_receives_and_who_is_refused_and_why(client, session):
    course = _course_with(client, session, ["张三", RARE, "阿依古丽·买买提"])
    shown = _preview(client, course)
    assert shown.status_code == 200
    assert texts(shown, "table.to-issue tbody td:first-child") == ["张三", "阿依古丽·买买提"]
    refused = texts(shown, "table.refused tbody tr")
    assert len(refused) == 1 and RARE in refused[0] and "U+31350" in refused[0]
    form = page(shown).select_one("#preview form")
    assert form is not None and form["action"] == f"/staff/courses/{course.code}/certificates"
    assert form.select_one("input[name=csrf_token]") is not None
    assert "确认颁发 2 份证书" in form.get_text()
    assert session.exec(select(Job)).first() is None  # looking issues nothing


def test_confirming_queues_the_job_the_preview_listed(client, session):
    course = _course_with(client, session, ["张三", "李四"])
    token = csrf_of(client, f"/staff/courses/{course.code}/certificates/preview")
    done = client.post(
        f"/staff/courses/{course.code}/certificates",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/jobs/")
    assert sorted(c.holder_name for c in session.exec(select(Certificate))) == ["张三", "李四"]
    # A post without the page's token issues nothing.
    refused = client.post(f"/staff/courses/{course.code}/certificates", data={})
    assert refused.status_code == 403


def test_nothing_pending_is_said_plainly_and_no_issue_button_is_offered(client, session):
    course = _course_with(client, session, ["张三"])
    issued.issue(client, course)
    shown = _preview(client, course)
    assert "本课程的每一条结业记录都已有结业证书" in shown.text
    assert page(shown).select_one("#preview form") is None
    assert page(shown).select_one("table.to-issue") is None


def test_only_unprintable_names_left_is_not_called_all_issued(client, session):
    course = _course_with(client, session, ["张三", RARE])
    issued.issue(client, course)
    shown = _preview(client, course)
    assert page(shown).select_one("#preview form") is None
    assert "都已有结业证书" not in shown.text and "U+31350" in shown.text


def test_a_revoked_completion_is_not_pending_and_not_issued_again(client, session):
    course = _course_with(client, session, ["张三", "李四"])
    issued.issue(client, course)
    cert = issued.by_holder(session)["张三"]
    issued.revoke(client, cert.serial, "结业记录录入有误")
    assert issuing.pending_completions(session, course) == []
    shown = _preview(client, course)
    assert page(shown).select_one("#preview form") is None
    assert "1 条结业记录的证书已撤销，不再重新颁发" in shown.text
    again = client.post(
        f"/staff/courses/{course.code}/certificates",
        data={"csrf_token": csrf_of(client, f"/staff/courses/{course.code}")},
        follow_redirects=False,
    )
    assert flash(client.get(again.headers["location"])) == "本课程的每一条结业记录都已有结业证书"
    holders = [c.holder_name for c in session.exec(select(Certificate))]
    assert sorted(holders) == ["张三", "李四"]  # no second certificate for the revoked one


def test_another_university_s_preview_is_not_found(client, session, staff_b):
    course = _course_with(client, session, ["张三"])
    assert staff_b.get(f"/staff/courses/{course.code}/certificates/preview").status_code == 404
