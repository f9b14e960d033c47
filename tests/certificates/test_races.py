"""Issuing while something else writes: an upload changing a completion as it prints, a second
press issuing the same completions at the same moment."""

from datetime import timedelta

from sqlmodel import select

from app import clock
from app.certificates import issuing, pdf, renderer
from app.certificates.models import Certificate
from app.completions.models import Completion
from app.db import id_of
from app.jobs import runner
from app.jobs.models import Job


def _pdfs(settings) -> list[str]:
    return sorted(p.name for p in (settings.data_dir / "certificates").rglob("*.pdf"))


def test_a_completion_changed_while_printing_is_printed_again_as_it_is_now(
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
    first, _ = issuing.pending_completions(session, completed["course"])
    serial = issuing.issue_one(
        session, first, public_url="http://t", data_dir=settings.data_dir, today=clock.today()
    )
    session.commit()
    assert len(calls) == 2 and serial == calls[1]  # the stale print was not the one kept
    cert = session.exec(select(Certificate)).one()
    assert cert.completed_on == changed_on == session.get(Completion, first).completed_on
    assert _pdfs(settings) == [f"{serial}.pdf"]  # the stale print was discarded, not left on disk


def test_two_presses_at_once_give_one_certificate_per_completion_and_no_stray_pdf(
    session, new_session, settings, completed, monkeypatch
):
    """The second press's job runs whole while the first one's certificates print (a chunk
    is printed ahead, on the renderer processes): the first job finds them issued, keeps
    their serials and stores none of its own prints."""
    course = completed["course"]
    first = issuing.start(session, course, actor="user:1")
    second = issuing.start(session, course, actor="user:2")
    assert first is not None and second is not None
    session.commit()
    real_render, pressed = renderer.render_many, []

    def render_while_the_other_job_runs(views, *a, **kw):
        if not pressed:
            pressed.append(views[0].serial)
            runner.run(new_session, settings, id_of(second))
        return real_render(views, *a, **kw)

    monkeypatch.setattr(renderer, "render_many", render_while_the_other_job_runs)
    runner.run(new_session, settings, id_of(first))
    certs = session.exec(select(Certificate)).all()
    assert len(certs) == 2 and pressed[0] not in {c.serial for c in certs}
    for job in (first, second):
        job = session.get_one(Job, id_of(job))
        session.refresh(job)
        assert (job.state, job.done, job.failed) == ("done", 2, 0)
    assert _pdfs(settings) == sorted(f"{c.serial}.pdf" for c in certs)


def test_a_job_prints_its_chunk_ahead_on_the_renderers_not_one_by_one(
    session, new_session, settings, completed, monkeypatch
):
    job = issuing.start(session, completed["course"], actor="user:1")
    assert job is not None
    session.commit()

    def one_by_one(view, *a, **kw):
        raise AssertionError(f"{view.serial} was printed on its own")

    monkeypatch.setattr(pdf, "render_pdf", one_by_one)
    runner.run(new_session, settings, id_of(job))
    session.refresh(job)
    certs = session.exec(select(Certificate)).all()
    assert (job.state, job.done, job.failed, len(certs)) == ("done", 2, 0, 2)
    assert _pdfs(settings) == sorted(f"{c.serial}.pdf" for c in certs)
