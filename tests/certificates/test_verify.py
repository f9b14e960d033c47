"""The verification page and its JSON twin: what a scanned QR code, or a typed serial, is told."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from app.certificates import serials, service
from app.certificates.models import Certificate
from tests.factories import csrf_of

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
NOT_AS_SCANNED = "Not valid as scanned: contact the issuer"


@pytest.fixture
def certs(client, session, completed):
    client.post(
        f"/staff/courses/{completed['course'].code}/certificates",
        data={"csrf_token": csrf_of(client, f"/staff/courses/{completed['course'].code}")},
    )
    found = {c.holder_name: c for c in session.exec(select(Certificate))}
    assert len(found) == 2
    return found


@pytest.fixture
def public(new_client):
    browser = new_client()
    browser.cookies.set("dandelion_lang", "en")
    return browser


def _qr(cert: Certificate) -> dict:
    """The query a printed QR code carries, as the issuing code builds it."""
    url = (
        service.verify_url("http://testserver", cert.serial)
        + f"?k={cert.key_id}&s={cert.signature}"
    )
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _verdict(page) -> str:
    return re.search(r'class="card verdict (\w+)"', page.text).group(1)


def _assert_not_valid_as_scanned(page):
    assert page.status_code == 422
    assert "verdict ok" not in page.text and "Valid certificate" not in page.text
    # Said first: before the record's details and before the serial form.
    assert page.text.index(NOT_AS_SCANNED) < page.text.index('id="f-serial"')
    assert _verdict(page) == "bad"


def test_the_printed_qr_code_is_valid(public, certs):
    cert = certs["李䶮"]
    page = public.get(f"/verify/{cert.serial}", params=_qr(cert))
    assert page.status_code == 200 and _verdict(page) == "ok"
    assert "Valid certificate" in page.text and "李*" in page.text
    body = public.get(f"/api/v1/certificates/{cert.serial}", params=_qr(cert))
    assert body.status_code == 200 and body.json()["verdict"] == "valid"


def _flipped(s: str) -> str:
    return s[:10] + next(c for c in B64 if c != s[10]) + s[11:]


def _spare_bits(s: str) -> str:
    # 64 bytes take 86 characters, leaving 4 unused bits in the last one: a lenient decoder
    # reads this different text as the same signature.
    return s[:-1] + B64[B64.index(s[-1]) ^ 1]


@pytest.mark.parametrize(
    "tamper",
    [
        _flipped,
        _spare_bits,
        lambda s: s[:-4],
        lambda s: s + "==",
        lambda s: s[:40] + "!" + s[40:],
        lambda s: "",
        lambda s: "A" * 20_000,
        lambda s: s[:43] + "签" + s[44:],
    ],
    ids=["flipped", "spare-bits", "truncated", "padded", "junk", "empty", "very-long", "non-ascii"],
)
def test_a_tampered_signature_is_not_valid_as_scanned(public, certs, tamper):
    cert = certs["李䶮"]
    query = {**_qr(cert), "s": tamper(cert.signature)}
    assert query["s"] != cert.signature
    _assert_not_valid_as_scanned(public.get(f"/verify/{cert.serial}", params=query))
    api = public.get(f"/api/v1/certificates/{cert.serial}", params=query)
    assert api.status_code == 422 and api.json()["verdict"] == "not_valid_as_scanned"
    assert api.json()["errors"][0]["field"] == "s"


def test_another_certificates_signature_is_not_valid_as_scanned(public, certs):
    mine, other = certs["李䶮"], certs["𠮷田"]
    query = {"k": mine.key_id, "s": other.signature}
    _assert_not_valid_as_scanned(public.get(f"/verify/{mine.serial}", params=query))
    assert public.get(f"/api/v1/certificates/{mine.serial}", params=query).status_code == 422


@pytest.mark.parametrize(
    "key_id", ["deadbeef", "", "0" * 5000, None], ids=["unknown", "empty", "very-long", "missing"]
)
def test_a_key_id_that_names_no_published_key_is_not_valid_as_scanned(public, certs, key_id):
    cert = certs["李䶮"]
    query = {"s": cert.signature} | ({} if key_id is None else {"k": key_id})
    _assert_not_valid_as_scanned(public.get(f"/verify/{cert.serial}", params=query))
    assert (
        public.get(f"/api/v1/certificates/{cert.serial}", params=query).json()["verdict"]
        == "not_valid_as_scanned"
    )


@pytest.mark.parametrize("repeat", ["k", "s"])
def test_repeated_query_parameters_are_not_valid_as_scanned(public, certs, repeat):
    # A genuine code names one key and one signature; which of two would count is a guess.
    cert = certs["李䶮"]
    query = list(_qr(cert).items()) + [(repeat, _qr(cert)[repeat])]
    _assert_not_valid_as_scanned(public.get(f"/verify/{cert.serial}", params=query))


def test_a_revoked_certificate_scanned_with_its_own_signature_says_revoked(public, session, certs):
    cert = certs["李䶮"]
    cert.status, cert.revoke_reason = "revoked", "结业记录有误"
    session.add(cert)
    session.commit()
    page = public.get(f"/verify/{cert.serial}", params=_qr(cert))
    assert _verdict(page) == "bad" and "verdict ok" not in page.text
    assert "This certificate was revoked" in page.text and "结业记录有误" in page.text
    assert page.text.index("This certificate was revoked") < page.text.index('id="f-serial"')
    assert (
        public.get(f"/api/v1/certificates/{cert.serial}", params=_qr(cert)).json()["verdict"]
        == "revoked"
    )


def test_a_typed_serial_shows_the_record_and_says_what_that_proves(public, certs):
    cert = certs["李䶮"]
    page = public.get(f"/verify/{cert.serial}")
    assert page.status_code == 200 and _verdict(page) == "ok"
    # Typing a serial proves a certificate with that serial exists, not that the paper is it.
    assert "On record: issued, not revoked" in page.text and "Valid certificate" not in page.text
    assert "match the paper" in page.text
    assert public.get(f"/api/v1/certificates/{cert.serial}").json()["verdict"] == "on_record"
    same = public.get("/verify", params={"serial": cert.serial.lower()})
    assert "On record: issued, not revoked" in same.text


def test_a_record_naming_an_unpublished_key_does_not_verify(public, session, certs, web_app):
    cert = certs["李䶮"]
    assert service.verify_signature(cert, web_app.state.keys)
    cert.key_id = "00000000"
    session.add(cert)
    session.commit()
    assert not service.verify_signature(cert, web_app.state.keys)
    page = public.get(f"/verify/{cert.serial}")
    assert _verdict(page) == "bad" and "verdict ok" not in page.text
    _assert_not_valid_as_scanned(public.get(f"/verify/{cert.serial}", params=_qr(cert)))


@pytest.mark.parametrize("scanned", [False, True])
def test_a_serial_with_a_good_check_character_that_was_never_issued(public, certs, scanned):
    serial = serials.new_serial(2026)
    cert = certs["李䶮"]
    page = public.get(f"/verify/{serial}", params=_qr(cert) if scanned else {})
    assert page.status_code == 404 and "verdict ok" not in page.text
    assert "No certificate has this serial number" in page.text
    assert (NOT_AS_SCANNED in page.text) is scanned
    assert public.get(f"/api/v1/certificates/{serial}", params=_qr(cert)).status_code == 404


def test_a_very_long_serial_is_refused_readably(public, certs):
    page = public.get("/verify/" + "DL26" * 2000)
    assert page.status_code == 404 and 'class="error"' in page.text
    assert "DL26" * 100 not in page.text  # not echoed back whole


def test_the_public_record_does_not_hand_out_the_signature(certs, public):
    """Otherwise anyone knowing a serial could build a QR link that verifies as valid."""
    cert = certs["李䶮"]
    record = public.get(f"/api/v1/certificates/{cert.serial}")
    assert record.status_code == 200 and cert.signature not in record.text
    assert cert.signature not in public.get(f"/verify/{cert.serial}").text
