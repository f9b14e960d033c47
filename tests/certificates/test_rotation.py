"""Key rotation: a new signing key generation signs new certificates under a new key id, and
certificates signed with the old key still verify, on the rotated app and on one still running
the old generation (a rolling deploy): the signing_key table publishes every key ever used."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.certificates.models import SigningKey
from tests.certificates import issued
from tests.factories import login


@pytest.fixture
def rotated(app_with, client, session, completed):
    """Generation 1 issued both certificates; generation 2 then reissued 𠮷田's."""
    issued.issue(client, completed["course"])
    old = issued.by_holder(session)
    site = app_with(signing_key_generation=2)
    with TestClient(site) as staff:
        login(staff, completed["staff"])
        done = issued.reissue(staff, old["𠮷田"].serial, follow_redirects=True)
        new = issued.get(session, done.url.path.rsplit("/", 1)[-1])
        yield {"site": site, "staff": staff, "old": old["李䶮"], "new": new}


def _scan(browser, serial: str) -> dict:
    """Verify as a phone scanning the printed code would: the QR query from the PDF."""
    query = issued.qr_query(browser.get(f"/certificates/{serial}.pdf").content)
    return browser.get(f"/api/v1/certificates/{serial}", params=query).json()


def test_the_first_certificate_publishes_its_key(client, session, completed):
    assert session.exec(select(SigningKey)).all() == []
    issued.issue(client, completed["course"])
    session.expire_all()
    rows = session.exec(select(SigningKey)).all()
    cert = issued.by_holder(session)["李䶮"]
    assert [(r.key_id, r.retired_at) for r in rows] == [(cert.key_id, None)]
    listed = client.get("/api/v1/keys").json()["keys"]
    assert [k["key_id"] for k in listed] == [cert.key_id] and listed[0]["public_key"]


def test_a_new_generation_signs_with_a_new_key_and_old_certificates_still_verify(rotated, client):
    staff, old, new = rotated["staff"], rotated["old"], rotated["new"]
    assert new.key_id != old.key_id
    for browser in (staff, client):  # the rotated app, and one still on generation 1
        assert _scan(browser, old.serial)["verdict"] == "valid"
        assert _scan(browser, new.serial)["verdict"] == "valid"


def test_keys_lists_every_key_ever_used_with_the_old_one_retired(rotated, client, session):
    old, new = rotated["old"], rotated["new"]
    for browser in (rotated["staff"], client):
        listed = {k["key_id"]: k for k in browser.get("/api/v1/keys").json()["keys"]}
        assert set(listed) == {old.key_id, new.key_id}
        assert listed[old.key_id]["retired_at"] is not None
        assert listed[new.key_id]["retired_at"] is None
    rows = {r.key_id: r for r in session.exec(select(SigningKey))}
    assert rows[old.key_id].retired_at is not None and rows[new.key_id].retired_at is None


def test_a_certificate_claiming_an_unknown_key_does_not_verify(rotated, session):
    staff, new = rotated["staff"], rotated["new"]
    query = issued.qr_query(staff.get(f"/certificates/{new.serial}.pdf").content)
    forged = staff.get(f"/api/v1/certificates/{new.serial}", params={**query, "k": "0badc0de"})
    assert forged.status_code == 422 and forged.json()["state"] == "cannot_be_checked"
    new.key_id = "0badc0de"  # the record itself names a key nobody published
    session.add(new)
    session.commit()
    body = staff.get(f"/api/v1/certificates/{new.serial}").json()
    assert body["verdict"] == "record_signature_mismatch" and body["state"] == "cannot_be_checked"


def test_certificates_from_before_the_key_table_verify_after_a_rotation(
    app_with, client, session, completed
):
    """An installation whose certificates were signed before keys were published in a table."""
    issued.issue(client, completed["course"])
    old = issued.by_holder(session)
    for row in session.exec(select(SigningKey)):
        session.delete(row)
    session.commit()
    with TestClient(app_with(signing_key_generation=2)) as staff:
        login(staff, completed["staff"])
        assert _scan(staff, old["李䶮"].serial)["verdict"] == "valid"  # derived from the secret
        issued.reissue(staff, old["𠮷田"].serial)
    session.expire_all()
    rows = {r.key_id: r.retired_at for r in session.exec(select(SigningKey))}
    assert old["李䶮"].key_id in rows and rows[old["李䶮"].key_id] is not None
    assert len(rows) == 2 and sorted(v is None for v in rows.values()) == [False, True]
