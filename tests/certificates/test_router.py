"""Issuing, downloading, finding and verifying certificates through HTTP; PDFs read back."""

import hashlib
import io
import re

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import select

from app import clock
from app.auth import service as auth
from app.certificates.models import Certificate
from tests.factories import csrf_of, login, make_course, make_university, make_user
from tests.html import field_errors


def _issue(client, course):
    return client.post(
        f"/staff/courses/{course.code}/certificates",
        data={"csrf_token": csrf_of(client, f"/staff/courses/{course.code}")},
        follow_redirects=True,
    )


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_staff_issue_then_download_the_same_bytes(client, session, completed):
    assert _issue(client, completed["course"]).status_code == 200
    certs = session.exec(select(Certificate)).all()
    assert len(certs) == 2
    cert = next(c for c in certs if c.holder_name == "李䶮")
    first = client.get(f"/certificates/{cert.serial}.pdf")
    assert first.headers["content-type"] == "application/pdf"
    text = _text(first.content)
    assert "李䶮" in text and cert.serial in text.replace("-", "") and "服装智能制造与MES" in text
    assert completed["people"][0][1] not in text  # never the ID number
    assert first.content == client.get(f"/certificates/{cert.serial}.pdf").content
    assert hashlib.sha256(first.content).hexdigest() == cert.pdf_sha256
    # Issuing again issues nothing new.
    _issue(client, completed["course"])
    assert len(session.exec(select(Certificate)).all()) == 2


def test_verify_page_shows_status_and_masked_name(client, new_client, session, completed):
    _issue(client, completed["course"])
    cert = session.exec(select(Certificate).where(Certificate.holder_name == "李䶮")).one()
    public = new_client()
    page = public.get(f"/verify/{cert.serial}")
    assert page.status_code == 200 and "李*" in page.text and "李䶮" not in page.text
    assert "齐鲁工业大学" in page.text and "verdict ok" in page.text
    body = public.get(f"/api/v1/certificates/{cert.serial}").json()
    assert body["status"] == "issued" and body["holder"] == "李*"
    assert body["university"] == "齐鲁工业大学" and body["course"] == "服装智能制造与MES"


def test_mistyped_serial_is_caught_by_its_check_character(client, session, completed):
    _issue(client, completed["course"])
    serial = session.exec(select(Certificate)).first().serial
    wrong = serial[:5] + ("2" if serial[5] != "2" else "3") + serial[6:]
    page = client.get(f"/verify/{wrong}")
    assert page.status_code == 404 and 'class="error"' in page.text
    api = client.get(f"/api/v1/certificates/{wrong}")
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "serial"
    not_a_serial = client.get("/api/v1/certificates/DL26ZZZZZZZZ0")  # too short to be one
    assert not_a_serial.status_code == 422


def test_trainee_finds_and_downloads_own_certificate(client, new_client, session, completed):
    _issue(client, completed["course"])
    trainee = new_client()
    name, id_number = completed["people"][0]
    page = trainee.post(
        "/certificates/find",
        data={
            "csrf_token": csrf_of(trainee, "/certificates/find"),
            "id_number": id_number.lower(),
            "mobile": "+86 139 1234 5678",
        },
    )
    assert page.status_code == 200 and id_number not in page.text
    link = re.search(
        r'href="(?:http://testserver)?(/certificates/[^"]+\.pdf\?t=[^"]+)"', page.text
    ).group(1)
    pdf = trainee.get(link.replace("&amp;", "&"))
    assert pdf.status_code == 200 and name in _text(pdf.content)
    # Without the signed link, a stranger gets nothing.
    serial = link.split("/")[2].split(".pdf")[0]
    assert new_client().get(f"/certificates/{serial}.pdf").status_code == 403


def test_wrong_mobile_finds_nothing(client, new_client, session, completed):
    _issue(client, completed["course"])
    trainee = new_client()
    page = trainee.post(
        "/certificates/find",
        data={
            "csrf_token": csrf_of(trainee, "/certificates/find"),
            "id_number": completed["people"][0][1],
            "mobile": "13700000000",
        },
    )
    assert page.status_code == 422 and ".pdf?t=" not in page.text


def test_other_university_cannot_issue_or_download(client, new_client, session, completed):
    _issue(client, completed["course"])
    cert = session.exec(select(Certificate)).first()
    other = new_client()
    login(other, make_user(session, university=make_university(session)))
    assert other.get(f"/certificates/{cert.serial}.pdf").status_code == 403
    code = completed["course"].code
    assert other.get(f"/staff/courses/{code}/certificates/preview").status_code == 404


def test_api_issue_and_pdf_scoped_to_the_issuing_university(client, session, completed):
    _, token_a = auth.create_token(
        session, name="a", role="university", university_id=completed["a"].id
    )
    _, token_b = auth.create_token(
        session, name="b", role="university", university_id=make_university(session).id
    )
    _, admin = auth.create_token(session, name="admin", role="admin")
    session.commit()
    code = completed["course"].code
    denied = client.post(
        f"/api/v1/courses/{code}/certificates", headers={"Authorization": f"Bearer {token_b}"}
    )
    assert denied.status_code == 404
    queued = client.post(
        f"/api/v1/courses/{code}/certificates", headers={"Authorization": f"Bearer {token_a}"}
    )
    assert queued.status_code == 202  # a job; in tests it has run by the time this answers
    job = client.get(queued.headers["location"], headers={"Authorization": f"Bearer {token_a}"})
    assert (job.json()["state"], job.json()["done"]) == ("done", 2)
    issued = [c.serial for c in session.exec(select(Certificate))]
    assert len(issued) == 2
    for token, expected in ((token_a, 200), (admin, 200), (token_b, 404)):
        response = client.get(
            f"/api/v1/certificates/{issued[0]}/pdf", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == expected
    assert client.get(f"/api/v1/certificates/{issued[0]}/pdf").status_code == 401


def test_signature_verifies_with_the_published_key(client, session, completed):
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from app.certificates.service import canonical_fields

    _issue(client, completed["course"])
    cert = session.exec(select(Certificate)).first()
    published = client.get("/api/v1/keys").json()["keys"][0]
    assert published["key_id"] == cert.key_id
    key = Ed25519PublicKey.from_public_bytes(
        base64.urlsafe_b64decode(published["public_key"] + "=")
    )
    key.verify(base64.urlsafe_b64decode(cert.signature + "=="), canonical_fields(cert).encode())


def test_guessing_mobiles_for_one_id_number_is_throttled(
    client, new_client, web_app, session, completed
):
    _issue(client, completed["course"])
    guesser = new_client()
    id_number = completed["people"][0][1]

    def look(mobile):
        return guesser.post(
            "/certificates/find",
            data={
                "csrf_token": csrf_of(guesser, "/certificates/find"),
                "id_number": id_number,
                "mobile": mobile,
            },
        )

    for n in range(10):
        assert look(f"137000000{n:02d}").status_code == 422
    # Once the limit is reached even the right mobile is refused: the answer tells nothing.
    assert look("13912345678").status_code == 429
    # ... from that address only: one address cannot lock the holder out of their certificates.
    holder = TestClient(web_app, base_url="http://testserver", client=("192.0.2.78", 5000))
    assert (
        holder.post(
            "/certificates/find",
            data={
                "csrf_token": csrf_of(holder, "/certificates/find"),
                "id_number": id_number,
                "mobile": "13912345678",
            },
        ).status_code
        != 429
    )


def test_knowing_an_id_number_does_not_give_away_its_certificates(
    client, new_client, session, completed
):
    _issue(client, completed["course"])
    name, id_number = completed["people"][0]
    other_course = make_course(session, make_university(session))
    attacker = new_client()

    def enroll(as_name):
        return attacker.post(
            f"/courses/{other_course.code}/enroll",
            data={
                "csrf_token": csrf_of(attacker),
                "name": as_name,
                "id_number": id_number,
                "mobile": "13911112222",
                "company_uscc": completed_company_uscc(session),
                "consent": "yes",
            },
        )

    renamed = enroll("Mallory")
    assert renamed.status_code == 422 and "name" in field_errors(renamed)
    assert enroll(name).status_code == 200  # the real name, but the attacker's own mobile
    found = attacker.post(
        "/certificates/find",
        data={
            "csrf_token": csrf_of(attacker, "/certificates/find"),
            "id_number": id_number,
            "mobile": "13911112222",
        },
    )
    assert ".pdf?t=" not in found.text
    owner = new_client()
    mine = owner.post(
        "/certificates/find",
        data={
            "csrf_token": csrf_of(owner, "/certificates/find"),
            "id_number": id_number,
            "mobile": "13912345678",
        },
    )
    assert ".pdf?t=" in mine.text
    # The attacker's enrollment earned nothing, and the certificates still name their holders.
    held = session.exec(select(Certificate.holder_name, Certificate.course_id)).all()
    assert sorted(held) == sorted((n, completed["course"].id) for n, _ in completed["people"])


def completed_company_uscc(session):
    from app.companies.models import Company

    return session.exec(select(Company)).first().uscc


def test_a_press_issues_every_pending_certificate_and_a_second_says_none_is_left(
    client, session, settings, completed
):
    from app.certificates import issuing

    first, _ = issuing.pending_completions(session, completed["course"])
    args = dict(public_url="http://t", data_dir=settings.data_dir, today=clock.today())
    issuing.issue_one(session, first, **args)
    session.commit()
    page = _issue(client, completed["course"])  # a job for the one left
    assert "正在颁发 1 份结业证书" in page.text
    assert len(session.exec(select(Certificate)).all()) == 2
    again = _issue(client, completed["course"])
    assert "本课程的每一条结业记录都已有结业证书" in again.text and "已颁发 0" not in again.text
    assert len(session.exec(select(Certificate)).all()) == 2
