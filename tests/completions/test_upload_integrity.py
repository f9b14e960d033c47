"""What an upload writes, refuses and leaves behind: races with a certificate press, orphans, names."""

from datetime import timedelta

from sqlmodel import select

from app import clock
from app.certificates import service as certificates
from app.certificates.models import Certificate
from app.completions import originals, service
from app.completions.models import Completion, CompletionBatch
from app.security import keys_of
from tests.completions.uploads import staff_upload


def _csv(course, id_number, day) -> bytes:
    return f"身份证号,课程代码,结业日期\r\n{id_number},{course.code},{day.isoformat()}\r\n".encode()


def test_a_change_to_a_completion_certified_while_the_file_was_read_is_refused(
        client, session, settings, web_app, campus, monkeypatch):
    first, later = clock.today() - timedelta(days=5), clock.today() - timedelta(days=2)
    course, id_number = campus["course"], campus["ids"][0]
    assert staff_upload(client, session, campus["a"], "a.csv", _csv(course, id_number, first)
                        ).status_code == 200
    real_classify = service._classify

    def classify_while_certificates_are_issued(*args, **kwargs):
        plan = real_classify(*args, **kwargs)
        with web_app.state.sessions() as press:  # another request, its own connection
            certificates.issue_for_course(press, press.get(type(course), course.id), actor="t",
                                          public_url="http://t", data_dir=settings.data_dir,
                                          today=clock.today())
            press.commit()
        return plan

    monkeypatch.setattr(service, "_classify", classify_while_certificates_are_issued)
    response = staff_upload(client, session, campus["a"], "b.csv", _csv(course, id_number, later))
    assert response.status_code == 409 and "上传" in response.text
    session.expire_all()
    completion = session.exec(select(Completion)).one()
    certificate = session.exec(select(Certificate)).one()
    assert completion.completed_on == certificate.completed_on == first


def test_originals_no_upload_names_are_swept(client, session, settings, campus):
    import os
    import time

    kept = staff_upload(client, session, campus["a"], "a.csv",
                        _csv(campus["course"], campus["ids"][0], clock.today()))
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
    content = (f"身份证号,课程代码\ufeff,结业日期\r\n{id_number},{course.code},"
               f"{clock.today().isoformat()}\r\n").encode()
    response = staff_upload(client, session, campus["a"], "a.csv", content)
    assert response.status_code == 200 and session.exec(select(Completion)).one()


def test_an_upload_name_with_a_right_to_left_override_is_stored_without_it(client, session,
                                                                          campus):
    staff_upload(client, session, campus["a"], "\u202egpj.csv",
                 _csv(campus["course"], campus["ids"][0], clock.today()))
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
    staff_upload(client, session, campus["a"], "a.csv",
                 _csv(campus["course"], "not-an-id", clock.today()))
    next((settings.data_dir / "uploads").rglob("*.enc")).unlink()  # a retention rule, say
    batch = session.exec(select(CompletionBatch)).first()
    assert client.get(f"/staff/uploads/{batch.id}/errors.xlsx").status_code == 200
