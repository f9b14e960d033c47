"""What an upload writes, refuses and leaves behind: one transaction whatever happens meanwhile
(a certificate press, another upload), orphaned originals, names."""

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event
from sqlmodel import select

from app import clock
from app.audit.models import AuditEvent
from app.certificates import issuing
from app.certificates.models import Certificate
from app.completions import originals
from app.completions import service as completions
from app.completions.models import Completion, CompletionBatch
from app.courses.models import Course
from app.security import keys_of
from tests.completions.uploads import staff_upload
from tests.html import text


def _csv(course, id_number, day) -> bytes:
    return _rows(course, [(id_number, day)])


def _rows(course, rows) -> bytes:
    lines = [f"{number},{course.code},{day.isoformat()}\r\n" for number, day in rows]
    return ("身份证号,课程代码,结业日期\r\n" + "".join(lines)).encode()


@contextmanager
def _meanwhile(engine, action):
    """Runs action once, just before a preview is claimed for saving: after the file was read,
    classified and shown, before anything of it is written. A real statement, seen through
    SQLAlchemy's public events; what action does, it does through its own connection."""
    done = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE completion_batch SET state") and not done:
            done.append(statement)
            action()

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield done
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _nothing_of_it_was_written(session, batches: int) -> None:
    """Only the earlier batches were saved; the refused one is still a preview."""
    saved = session.exec(select(CompletionBatch).where(CompletionBatch.state == "saved"))
    assert len(saved.all()) == batches
    previews = session.exec(select(CompletionBatch).where(CompletionBatch.state == "preview"))
    assert len(previews.all()) == 1
    uploads = session.exec(select(AuditEvent).where(AuditEvent.action == "completion.upload"))
    assert len(uploads.all()) == batches


def test_an_upload_refused_late_because_certificates_were_issued_meanwhile_writes_nothing(
    client, session, settings, web_app, campus
):
    first, later = clock.today() - timedelta(days=5), clock.today() - timedelta(days=2)
    course, (certified, newcomer, _) = campus["course"], campus["ids"]
    assert (
        staff_upload(
            client, session, campus["a"], "a.csv", _csv(course, certified, first)
        ).status_code
        == 200
    )

    def press():  # another request, its own connection
        with web_app.state.sessions() as other:
            for completion in issuing.pending_completions(other, other.get_one(Course, course.id)):
                issuing.issue_one(
                    other,
                    completion,
                    public_url="http://t",
                    data_dir=settings.data_dir,
                    today=clock.today(),
                )
            other.commit()

    # The newcomer's completion is inserted, then the certified one is changed and refused.
    content = _rows(course, [(newcomer, later), (certified, later)])
    with _meanwhile(web_app.state.engine, press) as pressed:
        response = staff_upload(client, session, campus["a"], "b.csv", content)
    assert pressed and response.status_code == 409 and "上传" in response.text
    session.expire_all()
    completion = session.exec(select(Completion)).one()  # the newcomer's is gone with the rest
    certificate = session.exec(select(Certificate)).one()
    assert completion.completed_on == certificate.completed_on == first
    _nothing_of_it_was_written(session, batches=1)


def test_of_two_uploads_at_once_with_the_same_new_row_the_later_writes_nothing(
    client, session, web_app, campus
):
    done = clock.today() - timedelta(days=2)
    course, (one, both, _) = campus["course"], campus["ids"]

    def rival():  # another university staff member's upload, committed first
        with web_app.state.sessions() as other:
            completions.import_file(
                other,
                completions.Upload(
                    university=other.get(type(campus["a"]), campus["a"].id),
                    filename="rival.csv",
                    data=_csv(course, both, done),
                ),
                data_dir=web_app.state.settings.data_dir,
                today=clock.today(),
            )
            other.commit()

    content = _rows(course, [(one, done), (both, done)])
    with _meanwhile(web_app.state.engine, rival) as raced:
        response = staff_upload(client, session, campus["a"], "b.csv", content)
    assert raced and response.status_code == 409 and "重新预览" in response.text
    session.expire_all()
    rows = session.exec(select(Completion)).all()
    assert len(rows) == 1 and rows[0].batch_id is not None  # the rival's, and only that
    _nothing_of_it_was_written(session, batches=1)
    again = staff_upload(client, session, campus["a"], "b.csv", content)  # as the message says
    assert text(again, "#n-accepted") == "1" and text(again, "#n-unchanged") == "1"


def test_originals_no_upload_names_are_swept(client, session, settings, campus):
    import os
    import time

    kept = staff_upload(
        client,
        session,
        campus["a"],
        "a.csv",
        _csv(campus["course"], campus["ids"][0], clock.today()),
    )
    assert kept.status_code == 200
    folder = settings.data_dir / "uploads"
    batch_file = next(folder.rglob("*.enc"))
    orphan = folder / "ab" / ("ab" * 32 + ".csv.enc")  # kept, then the upload was refused
    partial = folder / "ab" / "tmp1234.partial"  # a process killed while writing
    young = folder / "cd" / ("cd" * 32 + ".csv.enc")  # another instance, about to commit
    for path in (orphan, partial, young):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"encrypted rows")
    yesterday = time.time() - 86400
    for path in (orphan, partial, batch_file):
        os.utime(path, (yesterday, yesterday))
    assert originals.sweep_orphans(session, settings.data_dir) == 2
    assert batch_file.exists() and young.exists()
    assert not orphan.exists() and not partial.exists()


def test_a_byte_order_mark_inside_a_header_cell_is_not_part_of_its_name(client, session, campus):
    course, id_number = campus["course"], campus["ids"][0]
    content = (
        f"身份证号,课程代码\ufeff,结业日期\r\n{id_number},{course.code},"
        f"{clock.today().isoformat()}\r\n"
    ).encode()
    response = staff_upload(client, session, campus["a"], "a.csv", content)
    assert response.status_code == 200 and session.exec(select(Completion)).one()


def test_an_upload_name_with_a_right_to_left_override_is_stored_without_it(client, session, campus):
    staff_upload(
        client,
        session,
        campus["a"],
        "\u202egpj.csv",
        _csv(campus["course"], campus["ids"][0], clock.today()),
    )
    assert session.exec(select(CompletionBatch)).one().filename == "gpj.csv"


def test_a_reused_original_is_kept_through_a_sweep(session, settings):
    """Left by a refused upload, then the same file again: a sweep before its batch commits
    must not take the file the batch is about to name."""
    import hashlib
    import os
    import time

    content = b"id_number,course_code,completed_on\r\n"
    sha = hashlib.sha256(content).hexdigest()
    originals.keep(settings.data_dir, sha, "csv", content, keys=keys_of(session))
    original = next((settings.data_dir / "uploads").rglob("*.enc"))
    yesterday = time.time() - 86400
    os.utime(original, (yesterday, yesterday))
    originals.keep(settings.data_dir, sha, "csv", content, keys=keys_of(session))  # again
    assert originals.sweep_orphans(session, settings.data_dir) == 0 and original.exists()


def test_the_report_survives_the_loss_of_its_original(client, session, settings, campus):
    staff_upload(
        client, session, campus["a"], "a.csv", _csv(campus["course"], "not-an-id", clock.today())
    )
    next((settings.data_dir / "uploads").rglob("*.enc")).unlink()  # a retention rule, say
    batch = session.exec(select(CompletionBatch)).first()
    assert client.get(f"/staff/uploads/{batch.id}/errors.xlsx").status_code == 200
