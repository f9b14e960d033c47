"""DANDELION_CRYPTO=national end to end, and `dandelion crypto migrate` there and back."""

import base64
import io
import logging
from datetime import timedelta

import openpyxl
import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from app import clock
from app.audit.models import AuditEvent
from app.auth.models import ThrottleEvent
from app.certificates.environment import RefusedToStart
from app.cli import app as cli
from app.completions import originals
from app.completions.models import CompletionBatch
from app.enrollments.models import Enrollment
from app.goals import tally
from app.main import create_app
from app.retention import crypto
from app.security import SM4_PREFIX, Keys, sm4_key
from app.trainees import service as trainees
from app.trainees.models import Trainee
from tests.completions.uploads import staff_upload
from tests.conftest import SECRET, environment_of
from tests.factories import (
    login,
    make_company,
    make_course,
    make_enrollment,
    make_university,
    make_user,
)
from tests.files import utf8_bom_csv

DONE = (clock.today() - timedelta(days=2)).isoformat()


def _sm4_open(token: str | bytes) -> bytes:
    sealed = (
        base64.urlsafe_b64decode(token.removeprefix(SM4_PREFIX))
        if isinstance(token, str)
        else token.removeprefix(SM4_PREFIX.encode())
    )
    nonce, body, tag = sealed[:12], sealed[12:-16], sealed[-16:]
    decryptor = Cipher(algorithms.SM4(sm4_key(SECRET)), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(b"dandelion/sm4-gcm/v1")
    return decryptor.update(body) + decryptor.finalize()


def _not_fernet(token: str | bytes) -> bool:
    try:
        Fernet(base64.urlsafe_b64encode(b"k" * 32)).decrypt(token)
    except InvalidToken:
        return True
    return False


def _migrate(settings, algorithm: str):
    env = environment_of(settings) | {"DANDELION_CRYPTO": algorithm}
    result = CliRunner().invoke(cli, ["crypto", "migrate"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _enroll(client, course, id_number: str, company, mobile="13800138000"):
    return client.post(
        "/api/v1/enrollments",
        json={
            "course_code": course.code,
            "name": "张三",
            "id_number": id_number,
            "mobile": mobile,
            "company_uscc": company.uscc,
            "consent": True,
        },
    )


def _report(client, batch) -> list[str]:
    """The rejected rows as sent (read back from the kept original), every cell."""
    response = client.get(f"/staff/uploads/{batch.id}/errors.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [str(cell.value) for row in sheet.iter_rows() for cell in row]


def _original(settings, session) -> bytes:
    batch = session.exec(select(CompletionBatch)).one()
    return originals.path_of(settings.data_dir, batch.sha256, batch.format).read_bytes()


def test_national_installation_seals_with_sm4_end_to_end(settings, app_with):
    national = app_with(crypto="national")  # a new installation takes the configured family
    with national.state.sessions() as session:
        assert crypto.recorded(session) == "national"
        university = make_university(session)
        course, other = make_course(session, university), make_course(session, university)
        company = make_company(session)
        _, id_number = make_enrollment(session, course, company=company)
    client = TestClient(national, base_url="http://testserver")
    # Enrolled again in another course through HTTP: found by its HMAC-SM3 hash.
    assert _enroll(client, other, id_number, company).status_code == 201
    assert _enroll(client, other, id_number, company).status_code == 409
    with national.state.sessions() as session:
        trainee = session.exec(select(Trainee)).one()
        assert _sm4_open(trainee.id_encrypted).decode() == id_number
        assert _not_fernet(trainee.id_encrypted)
        mobiles = session.exec(select(Enrollment.mobile_encrypted)).all()
        assert {_sm4_open(m).decode() for m in mobiles} == {"13800138000"}
        assert trainees.get_by_id_number(session, id_number) is not None
        # An upload: a completion saved, its original kept under SM4, its report readable.
        rows = [
            ["张三", id_number, course.code, DONE, "80"],
            ["李四", "bad", course.code, DONE, ""],
        ]
        page = staff_upload(client, session, university, "a.csv", utf8_bom_csv(rows))
        assert page.status_code == 200
        original = _original(settings, session)
        assert original.startswith(b"sm4:") and id_number.encode() in _sm4_open(original)
        batch = session.exec(select(CompletionBatch)).one()
    assert "bad" in _report(client, batch)


def test_migrate_to_national_and_back_on_a_populated_database(settings, session, client, app_with):
    university, company = make_university(session), make_company(session)
    course, later = make_course(session, university), make_course(session, university)
    people = [make_enrollment(session, course, company=company)[1] for _ in range(3)]
    rows = [["张三", people[0], course.code, DONE, "80"], ["李四", "bad", course.code, DONE, ""]]
    staff_upload(client, session, university, "a.csv", utf8_bom_csv(rows))
    session.add(ThrottleEvent(scope="login", key_hash="x" * 64))
    session.commit()
    counted = tally.counts(session)
    assert _original(settings, session).startswith(b"gAAAAA")

    output = _migrate(settings, "national")
    assert "trainee.id_encrypted: 3 re-encrypted" in output
    session.expire_all()
    assert crypto.recorded(session) == "national"
    for trainee in session.exec(select(Trainee)).all():
        assert _sm4_open(trainee.id_encrypted).decode() in people
    assert _sm4_open(_original(settings, session)).count(b"bad") == 1
    assert session.exec(select(ThrottleEvent)).all() == []
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "crypto.migrate")).one()
    assert all(p not in event.detail for p in people) and '"hashes": 3' in event.detail

    # The national app finds every trainee by ID number and reads the upload's original.
    national = app_with(crypto="national")
    with TestClient(national, base_url="http://testserver") as theirs:
        assert _enroll(theirs, later, people[1], company).status_code == 201
        with national.state.sessions() as s:
            assert len(s.exec(select(Trainee)).all()) == 3  # the same trainee, not a new one
            staff = make_university(s)  # another university's staff must not see the batch
            batch = s.exec(select(CompletionBatch)).one()
            login(theirs, make_user(s, university=staff))
            assert theirs.get(f"/staff/uploads/{batch.id}/errors.xlsx").status_code == 404
            theirs.cookies.clear()
            login(theirs, make_user(s, university=s.get(type(university), university.id)))
            assert "bad" in _report(theirs, batch)

    again = _migrate(settings, "national")  # nothing left to do: safe to run twice
    assert "trainee.id_encrypted: 0 re-encrypted" in again and "ID hashes recomputed: 0" in again

    _migrate(settings, "standard")
    session.expire_all()
    assert crypto.recorded(session) == "standard"
    assert all(not t.id_encrypted.startswith(SM4_PREFIX) for t in session.exec(select(Trainee)))
    assert _original(settings, session).startswith(b"gAAAAA")
    for id_number in people:
        assert trainees.get_by_id_number(session, id_number) is not None
    enrolled = tally.counts(session)
    assert tally.differences(session) == []
    # One more enrollment (people[1] in the later course), no new trainee, nothing else.
    assert enrolled == counted | {
        key: n + 1 for key, n in counted.items() if key[0] == "enrollments"
    }


def test_production_refuses_to_start_on_data_under_the_other_family(settings, session):
    make_enrollment(session, make_course(session, make_university(session)))
    production = settings.model_copy(update={"environment": "production", "crypto": "national"})
    with pytest.raises(RefusedToStart, match="dandelion crypto migrate"):
        create_app(production)


def test_development_warns_and_still_reads_both(settings, session, app_with, caplog):
    _, id_number = make_enrollment(session, make_course(session, make_university(session)))
    with caplog.at_level(logging.WARNING):
        national = app_with(crypto="national")
    assert "dandelion crypto migrate" in caplog.text
    with national.state.sessions() as s:
        assert crypto.recorded(s) == "standard"  # nothing migrated behind the operator's back
        trainee = s.exec(select(Trainee)).one()
        assert s.info["keys"].decrypt(trainee.id_encrypted) == id_number
    status = CliRunner().invoke(
        cli, ["crypto", "status"], env=environment_of(settings) | {"DANDELION_CRYPTO": "national"}
    )
    assert status.exit_code == 1 and "stored data: standard; configured: national" in status.output


def test_a_migration_killed_midway_is_finished_by_running_it_again(settings, session):
    """As a kill leaves it: one trainee's number re-encrypted and re-hashed, the rest not."""
    course = make_course(session, make_university(session))
    people = [make_enrollment(session, course)[1] for _ in range(3)]
    national = Keys(SECRET, crypto="national")
    first = trainees.get_by_id_number(session, people[0])
    assert first is not None
    first.id_encrypted, first.id_hash = national.encrypt(people[0]), national.lookup_hash(people[0])
    session.add(first)
    session.commit()

    output = _migrate(settings, "national")
    assert "trainee.id_encrypted: 2 re-encrypted" in output
    assert "ID hashes recomputed: 2" in output
    session.expire_all()
    for id_number in people:
        trainee = session.exec(
            select(Trainee).where(Trainee.id_hash == national.lookup_hash(id_number))
        ).one()
        assert _sm4_open(trainee.id_encrypted).decode() == id_number
