"""A completion changed by an upload while its certificate prints is never issued stale."""

from datetime import timedelta

from sqlmodel import select

from app import clock
from app.certificates import pdf, service
from app.certificates.models import Certificate
from app.completions.models import Completion


def test_a_completion_changed_while_printing_is_left_for_the_next_press(
    session, settings, web_app, completed, monkeypatch
):
    changed_on = clock.today() - timedelta(days=3)
    real_render = pdf.render_pdf
    calls = []

    def render_while_an_upload_changes_a_date(view):
        calls.append(view.serial)
        if len(calls) == 1:  # another request (its own connection) commits while we print
            with web_app.state.sessions() as upload:
                first = upload.exec(select(Completion).order_by(Completion.id)).first()
                first.completed_on = changed_on
                upload.add(first)
                upload.commit()
        return real_render(view)

    monkeypatch.setattr(pdf, "render_pdf", render_while_an_upload_changes_a_date)
    result = service.issue_for_course(
        session,
        completed["course"],
        actor="t",
        public_url="http://t",
        data_dir=settings.data_dir,
        today=clock.today(),
    )
    session.commit()
    assert (len(result.issued), result.waiting) == (1, 1)
    certificates = session.exec(select(Certificate)).all()
    for cert in certificates:
        assert cert.completed_on == session.get(Completion, cert.completion_id).completed_on
    pdfs = list((settings.data_dir / "certificates").rglob("*.pdf"))
    assert len(pdfs) == 1  # the stale print was discarded, not left on disk

    monkeypatch.setattr(pdf, "render_pdf", real_render)
    again = service.issue_for_course(
        session,
        completed["course"],
        actor="t",
        public_url="http://t",
        data_dir=settings.data_dir,
        today=clock.today(),
    )
    session.commit()
    assert len(again.issued) == 1 and again.issued[0].completed_on == changed_on
