"""An upload and a certificate press at the same time: the record and the certificate agree."""

from datetime import date, timedelta

from sqlmodel import Session, select

from app.certificates import service as certificates
from app.certificates.models import Certificate
from app.completions import service
from app.completions.models import Completion
from tests.completions.uploads import staff_upload


def _csv(course, id_number, day) -> bytes:
    return f"身份证号,课程代码,结业日期\r\n{id_number},{course.code},{day.isoformat()}\r\n".encode()


def test_a_change_to_a_completion_certified_while_the_file_was_read_is_refused(
        client, session, settings, web_app, campus, monkeypatch):
    first, later = date.today() - timedelta(days=5), date.today() - timedelta(days=2)
    course, id_number = campus["course"], campus["ids"][0]
    assert staff_upload(client, session, campus["a"], "a.csv", _csv(course, id_number, first)
                        ).status_code == 200
    real_classify = service._classify

    def classify_while_certificates_are_issued(*args, **kwargs):
        plan = real_classify(*args, **kwargs)
        with Session(web_app.state.engine) as press:  # another request, its own connection
            certificates.issue_for_course(press, press.get(type(course), course.id), actor="t",
                                          public_url="http://t", data_dir=settings.data_dir,
                                          today=date.today())
            press.commit()
        return plan

    monkeypatch.setattr(service, "_classify", classify_while_certificates_are_issued)
    response = staff_upload(client, session, campus["a"], "b.csv", _csv(course, id_number, later))
    assert response.status_code == 409 and "上传" in response.text
    session.expire_all()
    completion = session.exec(select(Completion)).one()
    certificate = session.exec(select(Certificate)).one()
    assert completion.completed_on == certificate.completed_on == first
