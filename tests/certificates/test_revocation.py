"""Revoking and reissuing certificates through HTTP: the staff page, the API, and what the
verification page, the downloads and the audit log say afterwards."""

import hashlib
import io

import pytest
from pypdf import PdfReader
from sqlmodel import select

from app.audit.models import AuditEvent
from app.auth import service as auth
from app.universities.models import University
from tests.certificates import issued
from tests.factories import csrf_of
from tests.html import field_errors, flash, page, text

REASON = "结业记录有误：该学员未完成全部课时"


@pytest.fixture
def certs(client, session, completed):
    client.cookies.set("dandelion_lang", "en")
    issued.issue(client, completed["course"])
    found = issued.by_holder(session)
    assert len(found) == 2
    return found


@pytest.fixture
def public(new_client):
    browser = new_client()
    browser.cookies.set("dandelion_lang", "en")
    return browser


def _token(session, university) -> dict:
    _, secret = auth.create_token(session, name="t", role="university", university_id=university.id)
    session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _token_for_course(session, cert) -> dict:
    return _token(session, session.get(University, cert.university_id))


def _pdf_text(content: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def test_staff_revoke_with_a_reason_and_everyone_is_told(client, public, session, certs, completed):
    cert = certs["李䶮"]
    before = client.get(f"/staff/certificates/{cert.serial}")
    assert before.status_code == 200 and "李*" in text(before, "dl.facts")
    done = issued.revoke(client, cert.serial, REASON, follow_redirects=True)
    assert done.status_code == 200 and "Certificate revoked" in flash(done)
    assert text(done, "dd.state") == "revoked" and REASON in text(done, "section.history")
    assert page(done).select_one("form[action$='/revoke']") is None  # nothing left to revoke
    record = issued.get(session, cert.serial)
    assert record.status == "revoked" and record.revoke_reason == REASON
    assert record.revoked_at is not None and record.revoked_by == completed["staff"].actor
    verify = public.get(f"/verify/{cert.serial}")
    assert "This certificate was revoked" in text(verify, "section.verdict h2")
    assert REASON in text(verify, "section.verdict")
    body = public.get(f"/api/v1/certificates/{cert.serial}").json()
    assert body["status"] == "revoked" and body["state"] == "no_longer_valid"
    assert body["revoked_reason"] == REASON and body["revoked_at"]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "certificate.revoke"))
    assert [e.object_id for e in events] == [str(cert.id)]


def test_a_revoked_pdf_is_not_handed_out_again_and_says_why(client, public, session, certs):
    cert = certs["李䶮"]
    original = client.get(f"/certificates/{cert.serial}.pdf").content
    issued.revoke(client, cert.serial, REASON)
    staff_download = client.get(f"/certificates/{cert.serial}.pdf")
    assert staff_download.status_code == 410
    assert staff_download.headers["content-type"].startswith("text/html")
    assert "can no longer be downloaded" in text(staff_download, "p.notice")
    assert REASON in text(staff_download, "section.verdict")
    api = public.get(
        f"/api/v1/certificates/{cert.serial}/pdf", headers=_token_for_course(session, cert)
    )
    assert api.status_code == 410 and REASON in api.json()["detail"]
    # The stored bytes are kept as they were issued.
    record = issued.get(session, cert.serial)
    assert hashlib.sha256(original).hexdigest() == record.pdf_sha256


def test_the_trainees_own_link_says_revoked_too(client, public, session, certs, completed):
    name, id_number = completed["people"][0]
    cert = certs[name]
    issued.revoke(client, cert.serial, REASON)
    found = public.post(
        "/certificates/find",
        data={
            "csrf_token": csrf_of(public, "/certificates/find"),
            "id_number": id_number,
            "mobile": "13912345678",
        },
    )
    assert found.status_code == 200
    # The list shows the certificate as revoked and offers no download.
    assert page(found).select("a[href*='.pdf']") == [] and "revoked" in text(found, "ul.certs")
    signed = _signed_link(public, cert.serial)
    response = public.get(signed)
    assert response.status_code == 410 and REASON in response.text


def _signed_link(browser, serial: str) -> str:
    """The trainee's download link as the look-up page would have given it before."""
    from itsdangerous import URLSafeTimedSerializer

    app = browser.app
    signer = URLSafeTimedSerializer(app.state.keys.link_key.hex(), salt="certificate-download")
    return f"/certificates/{serial}.pdf?t={signer.dumps(serial)}"


def test_a_reason_is_required_and_bounded(client, session, certs):
    serial = certs["李䶮"].serial
    empty = issued.revoke(client, serial, "   ")
    assert empty.status_code == 422 and "reason" in field_errors(empty)
    long = issued.revoke(client, serial, "理" * 201)
    assert long.status_code == 422 and "reason" in field_errors(long)
    assert "理" * 201 in page(long).select_one("textarea#f-reason").text  # kept as typed
    assert issued.get(session, serial).status == "issued"
    headers = _token_for_course(session, certs["李䶮"])
    api = client.post(f"/api/v1/certificates/{serial}/revoke", json={"reason": ""}, headers=headers)
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "reason"


def test_revoking_twice_is_a_clear_conflict(client, session, certs):
    serial = certs["李䶮"].serial
    page_before = csrf_of(client, f"/staff/certificates/{serial}")  # a second tab, opened earlier
    issued.revoke(client, serial, REASON)
    again = client.post(
        f"/staff/certificates/{serial}/revoke",
        data={"csrf_token": page_before, "reason": "再次撤销"},
    )
    assert again.status_code == 409 and "already revoked on" in text(again, "p.error")
    headers = _token_for_course(session, certs["李䶮"])
    api = client.post(
        f"/api/v1/certificates/{serial}/revoke", json={"reason": "x"}, headers=headers
    )
    assert api.status_code == 409 and "already revoked" in api.json()["detail"]
    assert issued.get(session, serial).revoke_reason == REASON


def test_another_universitys_staff_and_token_get_404(staff_b, session, certs, university_b):
    serial = certs["李䶮"].serial
    assert staff_b.get(f"/staff/certificates/{serial}").status_code == 404
    token = staff_b.csrf("/staff")
    for action in ("revoke", "reissue"):
        refused = staff_b.post(
            f"/staff/certificates/{serial}/{action}", data={"csrf_token": token, "reason": "x"}
        )
        assert refused.status_code == 404
    headers = _token(session, university_b)
    for action, body in (("revoke", {"reason": "x"}), ("reissue", None)):
        response = staff_b.post(
            f"/api/v1/certificates/{serial}/{action}", json=body, headers=headers
        )
        assert response.status_code == 404
    assert issued.get(session, serial).status == "issued"


def test_anonymous_is_sent_to_log_in_and_a_forged_post_is_refused(anonymous, client, certs):
    serial = certs["李䶮"].serial
    page_ = anonymous.get(f"/staff/certificates/{serial}", follow_redirects=False)
    assert page_.status_code == 303 and "/login" in page_.headers["location"]
    forged = client.post(f"/staff/certificates/{serial}/revoke", data={"reason": "x"})
    assert forged.status_code == 403


def test_an_administrator_may_revoke(admin, session, certs):
    serial = certs["𠮷田"].serial
    assert admin.get(f"/staff/certificates/{serial}").status_code == 200
    done = issued.revoke(admin, serial, "管理员核查后撤销", follow_redirects=True)
    assert done.status_code == 200 and issued.get(session, serial).status == "revoked"


def test_reissue_names_the_one_it_replaces_and_keeps_the_old_bytes(client, public, session, certs):
    old = certs["李䶮"]
    old_bytes = client.get(f"/certificates/{old.serial}.pdf").content
    done = issued.reissue(client, old.serial, follow_redirects=True)
    assert done.status_code == 200 and "Certificate reissued" in flash(done)
    new_serial = done.url.path.rsplit("/", 1)[-1]
    assert new_serial != old.serial
    new, old = issued.get(session, new_serial), issued.get(session, old.serial)
    assert new.supersedes_id == old.id and old.status == "superseded" and new.status == "issued"
    assert new.completion_id == old.completion_id
    # The old certificate says what replaced it, the new one what it replaces.
    old_page = public.get(f"/verify/{old.serial}")
    assert "replaced by a new one" in text(old_page, "section.verdict h2")
    link = page(old_page).select_one("p.withdrawn a")
    assert link["href"] == f"/verify/{new.serial}"
    new_page = public.get(f"/verify/{new.serial}")
    assert page(new_page).select_one("section.verdict")["data-state"] == "valid"
    assert f"/verify/{old.serial}" in [a["href"] for a in page(new_page).select("section a")]
    body = public.get(f"/api/v1/certificates/{old.serial}").json()
    assert body["superseded_by"] == new.serial and body["state"] == "no_longer_valid"
    assert public.get(f"/api/v1/certificates/{new.serial}").json()["supersedes"] == old.serial
    # Downloads: the old one is gone and names its replacement; the new one is its own PDF.
    gone = client.get(f"/certificates/{old.serial}.pdf")
    assert gone.status_code == 410 and f"/verify/{new.serial}" in gone.text
    fresh = client.get(f"/certificates/{new.serial}.pdf")
    assert hashlib.sha256(fresh.content).hexdigest() == new.pdf_sha256
    assert hashlib.sha256(old_bytes).hexdigest() == old.pdf_sha256
    data_dir = client.app.state.settings.data_dir
    assert (data_dir / old.pdf_path).read_bytes() == old_bytes


def test_a_name_correction_is_reissued_never_reprinted(admin, client, session, certs, completed):
    name, id_number = completed["people"][0]
    old = certs[name]
    old_bytes = client.get(f"/certificates/{old.serial}.pdf").content
    corrected = admin.post(
        "/admin/trainees/name",
        data={"csrf_token": admin.csrf("/admin"), "id_number": id_number, "name": "李俨"},
        follow_redirects=False,
    )
    assert corrected.status_code == 303
    offer = client.get(f"/staff/certificates/{old.serial}")
    assert "李俨" in text(offer, "p.notice")
    assert "corrected name" in text(offer, "form[action$='/reissue'] button")
    assert client.get(f"/certificates/{old.serial}.pdf").content == old_bytes  # untouched
    done = issued.reissue(client, old.serial, follow_redirects=True)
    new = issued.get(session, done.url.path.rsplit("/", 1)[-1])
    assert new.holder_name == "李俨"
    printed = _pdf_text(client.get(f"/certificates/{new.serial}.pdf").content)
    assert "李俨" in printed and "李䶮" not in printed
    data_dir = client.app.state.settings.data_dir
    assert (data_dir / issued.get(session, old.serial).pdf_path).read_bytes() == old_bytes
    assert "李俨" not in text(done, "body")  # the page masks the holder: 李*


def test_a_revoked_or_replaced_certificate_is_not_reissued(client, session, certs):
    revoked, replaced = certs["李䶮"], certs["𠮷田"]
    issued.revoke(client, revoked.serial, REASON)
    stale = csrf_of(client, f"/staff/certificates/{replaced.serial}")
    issued.reissue(client, replaced.serial)
    refused = client.post(
        f"/staff/certificates/{revoked.serial}/reissue",
        data={"csrf_token": csrf_of(client, f"/staff/certificates/{revoked.serial}")},
    )
    assert refused.status_code == 409
    assert "a revoked certificate is not reissued" in text(refused, "p.error")
    twice = client.post(
        f"/staff/certificates/{replaced.serial}/reissue", data={"csrf_token": stale}
    )
    assert twice.status_code == 409 and "already replaced by" in text(twice, "p.error")
    headers = _token_for_course(session, revoked)
    api = client.post(f"/api/v1/certificates/{revoked.serial}/reissue", headers=headers)
    assert api.status_code == 409 and "not reissued" in api.json()["detail"]
    revoke_replaced = client.post(
        f"/api/v1/certificates/{replaced.serial}/revoke", json={"reason": "x"}, headers=headers
    )
    assert revoke_replaced.status_code == 409
    statuses = sorted(c.status for c in issued.by_holder(session).values())
    assert len(issued.by_holder(session)) == 2  # by holder: the reissue replaced 𠮷田's
    assert statuses == ["issued", "revoked"]


def test_reissue_through_the_api(client, session, certs):
    old = certs["𠮷田"]
    headers = _token_for_course(session, old)
    response = client.post(f"/api/v1/certificates/{old.serial}/reissue", headers=headers)
    assert response.status_code == 201
    body = response.json()
    assert body["supersedes"] == old.serial and body["status"] == "issued"
    pdf = client.get(body["pdf"], headers=headers)
    assert pdf.status_code == 200 and "𠮷田" in _pdf_text(pdf.content)
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "certificate.reissue"))
    assert [e.object_id for e in events] == [str(issued.get(session, body["serial"]).id)]


def test_the_trainee_finds_the_reissue_to_download_and_the_old_one_marked(
    client, public, certs, completed
):
    name, id_number = completed["people"][0]
    done = issued.reissue(client, certs[name].serial, follow_redirects=True)
    new_serial = done.url.path.rsplit("/", 1)[-1]
    found = public.post(
        "/certificates/find",
        data={
            "csrf_token": csrf_of(public, "/certificates/find"),
            "id_number": id_number,
            "mobile": "13912345678",
        },
    )
    downloads = [a["href"] for a in page(found).select("ul.certs a[href*='.pdf']")]
    assert len(downloads) == 1 and downloads[0].startswith(f"/certificates/{new_serial}.pdf?t=")
    assert public.get(downloads[0]).status_code == 200
    assert "superseded" in text(found, "ul.certs")


def test_a_certificate_revoked_while_a_job_waits_is_not_issued_again(
    client, session, certs, settings
):
    from app import clock
    from app.certificates import issuing
    from app.jobs.registry import ItemRefused

    cert = certs["李䶮"]
    assert issued.revoke(client, cert.serial, REASON, follow_redirects=False).status_code == 303
    # The item of a job started before the revocation comes up now.
    with pytest.raises(ItemRefused) as refused:
        issuing.issue_one(
            session,
            cert.completion_id,
            public_url=settings.public_url,
            data_dir=settings.data_dir,
            today=clock.today(),
        )
    assert refused.value.message == issuing.REVOKED_MEANWHILE
    session.rollback()
    assert [c.status for c in issued.by_holder(session).values()] == ["revoked", "issued"]
