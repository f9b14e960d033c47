"""Rosters: a university enrolls trainees who signed up offline, with the same preview as
completions; trainees, companies and enrollments are made only once the clerk saves and
confirms the consent, and undoing takes them away again."""

import io
import random
from datetime import timedelta

import openpyxl
from sqlmodel import func, select

from app import clock
from app.certificates import issuing
from app.companies.models import Company
from app.companies.validators import fake_uscc
from app.completions.models import Completion, CompletionBatch
from app.courses.models import Course
from app.enrollments.models import Enrollment
from app.goals import service as goals
from app.security import keys_of
from app.trainees.models import Trainee
from tests import files
from tests.completions.uploads import press, staff_preview
from tests.factories import csrf_of, login, make_company, make_course, make_enrollment, make_user
from tests.factories import new_id_number as new_id
from tests.html import text

TODAY = clock.today()
DONE = (TODAY - timedelta(days=2)).isoformat()
HEADER = [
    "姓名",
    "身份证号",
    "手机号",
    "工作单位统一社会信用代码",
    "工作单位名称",
    "课程代码",
    "结业日期",
    "成绩",
]
rng = random.Random(8)


def _row(
    name, id_number, uscc, course="QLU-DIG-01", done="", score="", company="淄博新纺织有限公司"
):
    return [name, id_number, "13912345678", uscc, company, course, done, score]


def _count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def _seats(session, course: Course) -> int:
    session.expire_all()
    return session.get(Course, course.id).seats_taken


def _batch(session) -> CompletionBatch:
    session.expire_all()
    return session.exec(select(CompletionBatch).order_by(CompletionBatch.id.desc())).first()


def _counts(session, settings) -> dict[str, int]:
    session.expire_all()
    return {key: goal.count for key, goal in goals.count_all(session, settings).items()}


def _preview(client, session, campus, content: bytes, filename="名单.csv"):
    return staff_preview(client, session, campus["a"], filename, content, kind="roster")


def _save(client, page):
    return press(client, page, "save", consent="yes")


def test_a_gbk_roster_enrolls_trainees_only_when_saved_with_consent(
    client, session, settings, campus
):
    uscc, someone, other = fake_uscc(rng), new_id(), new_id()
    rows = [_row("赵六", someone, uscc, done=DONE, score="良好"), _row("孙七", other, uscc)]
    before = _counts(session, settings)
    trainees, companies = _count(session, Trainee), _count(session, Company)
    page = _preview(client, session, campus, files.gbk_csv(rows, HEADER))
    assert page.status_code == 200 and text(page, "#n-accepted") == "2"
    assert "赵*" in page.text and someone not in page.text
    assert 'id="f-consent"' in page.text
    # Nothing exists before saving: no trainee, company, enrollment or goal counted.
    assert (_count(session, Trainee), _count(session, Company)) == (trainees, companies)
    assert _counts(session, settings) == before
    refused = press(client, page, "save")  # the consent box left unticked
    assert refused.status_code == 422 and _count(session, Trainee) == trainees
    assert _batch(session).state == "preview"
    saved = _save(client, page)
    assert saved.status_code == 200 and _batch(session).state == "saved"
    keys = keys_of(session)
    made = session.exec(select(Trainee).where(Trainee.id_hash == keys.lookup_hash(someone))).one()
    assert made.name == "赵六" and keys.decrypt(made.id_encrypted) == someone
    company = session.exec(select(Company).where(Company.uscc == uscc)).one()
    assert company.name == "淄博新纺织有限公司"
    enrollment = session.exec(select(Enrollment).where(Enrollment.trainee_id == made.id)).one()
    assert enrollment.consent_channel == "offline" and enrollment.company_id == company.id
    assert keys.decrypt(enrollment.mobile_encrypted) == "13912345678"
    assert enrollment.mobile_masked == "139****5678" and enrollment.enrollment_no.startswith("BM")
    (completion,) = session.exec(select(Completion)).all()
    assert (completion.enrollment_id, completion.grade) == (enrollment.id, "良好")
    assert completion.completed_on.isoformat() == DONE
    assert _seats(session, campus["course"]) == 3 + 2
    after = _counts(session, settings)
    assert after["enrolled"] == before["enrolled"] + 2 and after["talents"] == before["talents"] + 1
    assert after["companies_joined"] == before["companies_joined"] + 1


def test_an_xlsx_roster_filled_in_from_the_template_uploads(client, session, settings, campus):
    login(client, make_user(session, university=campus["a"]))
    template = client.get("/staff/uploads/template/roster.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(template.content))
    sheet = workbook.worksheets[0]
    sheet.delete_rows(2)  # the example row, as its comment asks
    uscc = fake_uscc(rng)
    sheet.append(_row("钱八", new_id(), uscc))
    sheet.append(_row("李䶮", new_id(), uscc, done=DONE))
    out = io.BytesIO()
    workbook.save(out)
    page = _preview(client, session, campus, out.getvalue(), filename="名单.xlsx")
    assert page.status_code == 200 and text(page, "#n-accepted") == "2"
    assert text(page, "#n-rejected") == "0"
    _save(client, page)
    assert _count(session, Completion) == 1 and "李*" in page.text
    names = set(session.exec(select(Trainee.name)).all())
    assert {"钱八", "李䶮"} <= names  # no "?" where GBK would have lost the rare character


def test_a_name_that_differs_from_the_registered_one_is_a_conflict(client, session, campus):
    registered = campus["outsider"]  # 王五, enrolled at university B
    uscc = fake_uscc(rng)
    rows = [_row("王小五", registered, uscc), _row("王五", registered, uscc)]
    page = _preview(client, session, campus, files.utf8_bom_csv(rows, HEADER))
    assert text(page, "#n-conflicts") == "1" and text(page, "#n-accepted") == "1"
    assert "另一姓名" in page.text and "王*" in page.text
    _save(client, page)
    trainee = session.exec(
        select(Trainee).where(Trainee.id_hash == keys_of(session).lookup_hash(registered))
    ).one()
    assert trainee.name == "王五"  # never renamed; enrolled at A under the name it has
    assert (
        len(session.exec(select(Enrollment).where(Enrollment.trainee_id == trainee.id)).all()) == 2
    )


def test_bad_rows_are_errors_beside_their_field(client, session, campus):
    good = fake_uscc(rng)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")  # the check character mistyped
    rows = [
        _row("周九", new_id(), wrong),
        _row("吴十", new_id(), good, course="QDU-DIG-01"),  # university B's course
        ["郑一", new_id(), "12345", good, "某公司", "QLU-DIG-01", "", ""],
        _row("冯二", new_id(), fake_uscc(rng), company=""),  # a new company without its name
        _row("陈三", new_id(), good, score="85"),  # a score without its date
    ]
    page = _preview(client, session, campus, files.utf8_bom_csv(rows, HEADER))
    assert text(page, "#n-rejected") == "5" and text(page, "#n-accepted") == "0"
    problems = text(page, "#problems")
    for message in (
        "最后一位校验码不符",  # the USCC's check character
        "本校没有该代码的课程",  # university B's course, as an unknown code
        "请输入以 13 至 19 开头的 11 位手机号码",
        "系统中暂无该单位，请填写单位全称",
        "填写成绩须同时填写结业日期",
    ):
        assert message in problems
    assert 'id="save-button"' not in page.text


def test_the_rejected_rows_download_holds_the_rosters_own_columns(client, session, campus):
    header = HEADER[:6]  # no completion columns: a roster of enrollments only
    rows = [["何四", new_id(), "13912345678", "91370100MA0000000X", "某公司", "QLU-DIG-01"]]
    page = _preview(client, session, campus, files.gbk_csv(rows, header))
    assert text(page, "#n-rejected") == "1"
    errors = client.get(f"/staff/uploads/{_batch(session).id}/errors.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(errors.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == [*header, "行号", "原因"]
    assert [c.value for c in sheet[2]][:6] == rows[0]


def test_a_file_with_no_roster_column_names_the_expected_ones(client, session, campus):
    page = _preview(
        client, session, campus, files.utf8_bom_csv([["a", "b"]], ["foo", "bar"]), "x.csv"
    )
    assert page.status_code == 422
    for label in ("姓名", "身份证号", "手机号", "工作单位统一社会信用代码", "课程代码"):
        assert label in page.text
    assert _count(session, CompletionBatch) == 0


def test_capacity_is_taken_in_file_order_and_repeated_rows_count_once(client, session, campus):
    course = make_course(session, campus["a"], code="QLU-SMALL", capacity=4)
    make_enrollment(session, course)  # 1 of 4 taken
    uscc, twice = fake_uscc(rng), new_id()
    rows = [
        _row("甲", twice, uscc, course="QLU-SMALL"),
        _row("甲", twice, uscc, course="QLU-SMALL"),  # the same row twice: one seat
        _row("甲", twice, uscc, course="QLU-SMALL", done=DONE),  # the same pair, other data
        _row("乙", new_id(), uscc, course="QLU-SMALL"),
        _row("丙", new_id(), uscc, course="QLU-SMALL"),
        _row("丁", new_id(), uscc, course="QLU-SMALL"),
    ]
    page = _preview(client, session, campus, files.utf8_bom_csv(rows, HEADER))
    assert text(page, "#n-accepted") == "3" and text(page, "#n-unchanged") == "1"
    assert text(page, "#n-conflicts") == "1" and text(page, "#n-rejected") == "1"
    assert "这门课程已满" in text(page, "#problems")
    _save(client, page)
    assert _seats(session, course) == 4
    names = session.exec(
        select(Trainee.name).join(Enrollment).where(Enrollment.course_id == course.id)
    ).all()
    assert set(names) == {"张三", "甲", "乙", "丙"}  # 丁, the last row, found the course full


def test_the_same_roster_uploaded_twice_changes_nothing(client, session, settings, campus):
    uscc = fake_uscc(rng)
    rows = [_row("褚四", new_id(), uscc, done=DONE, score="90"), _row("卫五", new_id(), uscc)]
    _save(client, _preview(client, session, campus, files.gbk_csv(rows, HEADER)))
    after = _counts(session, settings), _count(session, Enrollment), _count(session, Trainee)
    again = _preview(client, session, campus, files.xlsx(rows, HEADER), filename="again.xlsx")
    assert text(again, "#n-unchanged") == "2" and text(again, "#n-accepted") == "0"
    assert 'id="nothing-to-save"' in again.text
    assert (
        _counts(session, settings),
        _count(session, Enrollment),
        _count(session, Trainee),
    ) == after


def test_enrolled_trainees_get_their_completion_as_a_completions_upload_would(
    client, session, campus
):
    ids, uscc = campus["ids"], fake_uscc(rng)
    rows = [
        _row("张三", ids[0], uscc, done=DONE, score="88"),  # enrolled: the completion is new
        _row("李䶮", ids[1], uscc),  # enrolled, no date: unchanged
        _row("蒋六", new_id(), uscc, done=DONE, score="不合格"),  # enrolled now, no completion
    ]
    page = _preview(client, session, campus, files.utf8_bom_csv(rows, HEADER), "a.csv")
    assert text(page, "#n-accepted") == "2" and text(page, "#n-unchanged") == "1"
    assert "不合格" in page.text  # said beside the row that enrolls
    _save(client, page)
    assert _count(session, Completion) == 1 and _count(session, Enrollment) == 4 + 1
    later = (TODAY - timedelta(days=1)).isoformat()
    rows[0] = _row("张三", ids[0], uscc, done=later, score="88")
    changed = _preview(client, session, campus, files.utf8_bom_csv(rows, HEADER), "b.csv")
    assert text(changed, "#n-updated") == "1" and f"<ins>{later}</ins>" in changed.text
    assert text(changed, "#n-failed") == "1"  # 蒋六's failing grade, now as for completions


def test_undo_takes_away_what_the_roster_made(client, session, settings, campus):
    known = make_company(session)
    new_uscc = fake_uscc(rng)
    rows = [
        _row("沈七", new_id(), new_uscc, done=DONE),
        _row("韩八", new_id(), known.uscc),
        _row("张三", campus["ids"][0], known.uscc, done=DONE, score="合格"),
    ]
    before = _counts(session, settings)
    trainees, enrollments = _count(session, Trainee), _count(session, Enrollment)
    saved = _save(client, _preview(client, session, campus, files.utf8_bom_csv(rows, HEADER)))
    assert _count(session, Trainee) == trainees + 2 and _count(session, Completion) == 2
    undone = press(client, saved, "undo")
    assert undone.status_code == 200 and _batch(session).state == "undone"
    assert (_count(session, Trainee), _count(session, Enrollment)) == (trainees, enrollments)
    assert _count(session, Completion) == 0
    assert session.exec(select(Company).where(Company.uscc == new_uscc)).first() is None
    assert session.get(Company, known.id) is not None  # it was there before
    assert _seats(session, campus["course"]) == 3
    assert _counts(session, settings) == before


def test_a_roster_with_a_certificate_cannot_be_undone(client, session, settings, campus):
    rows = [_row("杨九", new_id(), fake_uscc(rng), done=DONE)]
    saved = _save(client, _preview(client, session, campus, files.utf8_bom_csv(rows, HEADER)))
    (completion,) = issuing.pending_completions(session, campus["course"])
    issuing.issue_one(
        session, completion, public_url="http://t", data_dir=settings.data_dir, today=TODAY
    )
    session.commit()
    refused = press(client, saved, "undo")
    assert refused.status_code == 409 and "证书" in refused.text
    assert _batch(session).state == "saved" and _count(session, Completion) == 1


def test_a_later_completions_upload_is_undone_first(client, session, campus):
    someone = new_id()
    saved = _save(
        client,
        _preview(
            client,
            session,
            campus,
            files.utf8_bom_csv([_row("朱十", someone, fake_uscc(rng))], HEADER),
        ),
    )
    completions = staff_preview(
        client,
        session,
        campus["a"],
        "c.csv",
        files.utf8_bom_csv([["朱十", someone, "QLU-DIG-01", DONE, "80"]]),
    )
    press(client, completions, "save")
    refused = press(client, client.get(saved.url), "undo")
    assert refused.status_code == 409 and "先撤销" in refused.text
    assert _count(session, Completion) == 1


def test_a_preview_outrun_by_the_public_form_saves_nothing(client, session, campus):
    someone, uscc = new_id(), fake_uscc(rng)
    page = _preview(
        client, session, campus, files.utf8_bom_csv([_row("秦一", someone, uscc)], HEADER)
    )
    trainees = _count(session, Trainee)
    # Meanwhile the trainee enrolls online, in another course: registered under this number.
    make_enrollment(session, campus["other"], name="秦一", id_number=someone)
    stale = _save(client, page)
    assert stale.status_code == 409 and "重新预览" in stale.text
    assert _count(session, Trainee) == trainees + 1 and _batch(session).state == "preview"
    assert session.exec(select(Company).where(Company.uscc == uscc)).first() is None


def test_a_course_filled_since_the_preview_saves_nothing(client, session, campus):
    course = make_course(session, campus["a"], code="QLU-TWO", capacity=2)
    rows = [_row("尤二", new_id(), fake_uscc(rng), course="QLU-TWO")]
    page = _preview(client, session, campus, files.utf8_bom_csv(rows, HEADER))
    make_enrollment(session, course)
    make_enrollment(session, course)
    assert _save(client, page).status_code == 409
    assert _seats(session, course) == 2 and _batch(session).state == "preview"


def test_a_roster_saved_twice_or_by_another_university_changes_nothing(client, session, campus):
    page = _preview(
        client,
        session,
        campus,
        files.utf8_bom_csv([_row("许三", new_id(), fake_uscc(rng))], HEADER),
    )
    batch = _batch(session)
    client.cookies.clear()
    login(client, make_user(session, university=campus["b"]))
    token = csrf_of(client, "/staff/uploads")
    response = client.post(
        f"/staff/uploads/{batch.id}/save", data={"csrf_token": token, "consent": "yes"}
    )
    assert response.status_code == 404 and _batch(session).state == "preview"
    client.cookies.clear()
    login(client, make_user(session, university=campus["a"]))
    enrollments = _count(session, Enrollment)
    page = client.get(f"/staff/uploads/{batch.id}")
    assert _save(client, page).status_code == 200
    again = _save(client, page)
    assert "已保存过" in again.text and _count(session, Enrollment) == enrollments + 1
