"""The verification page and its JSON twin: what a scanned QR code, or a typed serial, is told.

Three states a verifier tells apart: valid, no longer valid (revoked or replaced), and cannot be
checked (what a forgery looks like). Never "valid" for a code that does not check out.
"""

import re

import pytest
from fastapi.testclient import TestClient

from app.certificates import serials, verification
from tests.certificates import issued
from tests.factories import csrf_of, login
from tests.html import page, text

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
MAY_BE_FORGED = "it may be forged"


@pytest.fixture
def certs(client, session, completed):
    issued.issue(client, completed["course"])
    found = issued.by_holder(session)
    assert len(found) == 2
    return found


@pytest.fixture
def public(new_client):
    browser = new_client()
    browser.cookies.set("dandelion_lang", "en")
    return browser


@pytest.fixture
def scanned(client, certs):
    """李䶮's certificate and the query its printed QR code carries, read from its PDF."""
    cert = certs["李䶮"]
    return cert, issued.qr_query(client.get(f"/certificates/{cert.serial}.pdf").content)


def _state(response) -> str:
    """The first verdict's state: valid, no_longer_valid or cannot_be_checked."""
    found = page(response).select_one("section.verdict[data-state]")
    assert found is not None, "no verdict on the page"
    return found["data-state"]


def _assert_cannot_be_checked(response, status=422):
    assert response.status_code == status
    assert _state(response) == "cannot_be_checked"
    assert "verdict ok" not in response.text and "Valid certificate" not in response.text
    # Said first: before the record's details and before the serial form.
    assert response.text.index(MAY_BE_FORGED) < response.text.index('id="f-serial"')
    assert "Ask " in text(response, "section.verdict.forged p.contact")


def _visible_outside_details(response) -> str:
    soup = page(response)
    for fold in soup.select("details"):
        fold.decompose()
    return soup.get_text(" ")


def test_the_printed_qr_code_is_valid(public, scanned):
    cert, query = scanned
    assert set(query) == {"k", "s"} and query["k"] == cert.key_id
    response = public.get(f"/verify/{cert.serial}", params=query)
    assert response.status_code == 200 and _state(response) == "valid"
    assert "Valid certificate" in response.text and "李*" in response.text
    assert "李䶮" not in response.text  # the holder's name stays masked
    body = public.get(f"/api/v1/certificates/{cert.serial}", params=query).json()
    assert body["verdict"] == "valid" and body["state"] == "valid"


def test_the_page_speaks_to_a_clerk_and_folds_the_technical_details(public, scanned):
    cert, query = scanned
    response = public.get(f"/verify/{cert.serial}", params=query)
    visible = _visible_outside_details(response)
    assert cert.key_id not in visible and "Ed25519" not in visible
    fold = text(response, "details.technical")
    assert cert.key_id in fold and "Ed25519" in fold and "/api/v1/keys" in fold
    body = public.get(f"/api/v1/certificates/{cert.serial}").json()
    assert body["key_id"] == cert.key_id and body["algorithm"] == "Ed25519"


def test_the_qr_code_is_an_https_link_to_the_public_page(app_with, session, completed):
    """WeChat's scanner opens an https address; the query keeps the key id and signature."""
    site = app_with(public_url="https://peixun.example.cn/")
    with TestClient(site, base_url="https://peixun.example.cn") as staff:
        login(staff, completed["staff"])
        issued.issue(staff, completed["course"])
        cert = issued.by_holder(session)["李䶮"]
        link = issued.qr_link(staff.get(f"/certificates/{cert.serial}.pdf").content)
        assert link.startswith(f"https://peixun.example.cn/verify/{cert.serial}?k=")
        path = link.removeprefix("https://peixun.example.cn")
        assert _state(staff.get(path)) == "valid"


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
def test_a_forged_qr_code_cannot_be_checked(public, scanned, tamper):
    cert, query = scanned
    forged = {**query, "s": tamper(query["s"])}
    assert forged["s"] != query["s"]
    _assert_cannot_be_checked(public.get(f"/verify/{cert.serial}", params=forged))
    api = public.get(f"/api/v1/certificates/{cert.serial}", params=forged)
    assert api.status_code == 422 and api.json()["verdict"] == "not_valid_as_scanned"
    assert api.json()["state"] == "cannot_be_checked" and api.json()["errors"][0]["field"] == "s"


def test_another_certificates_signature_cannot_be_checked(public, client, certs):
    mine, other = certs["李䶮"], certs["𠮷田"]
    theirs = issued.qr_query(client.get(f"/certificates/{other.serial}.pdf").content)
    _assert_cannot_be_checked(public.get(f"/verify/{mine.serial}", params=theirs))
    assert public.get(f"/api/v1/certificates/{mine.serial}", params=theirs).status_code == 422


@pytest.mark.parametrize(
    "key_id", ["deadbeef", "", "0" * 5000, None], ids=["unknown", "empty", "very-long", "missing"]
)
def test_a_key_id_that_names_no_published_key_cannot_be_checked(public, scanned, key_id):
    cert, query = scanned
    forged = {"s": query["s"]} | ({} if key_id is None else {"k": key_id})
    _assert_cannot_be_checked(public.get(f"/verify/{cert.serial}", params=forged))
    body = public.get(f"/api/v1/certificates/{cert.serial}", params=forged).json()
    assert body["verdict"] == "not_valid_as_scanned"


@pytest.mark.parametrize("repeat", ["k", "s"])
def test_repeated_query_parameters_cannot_be_checked(public, scanned, repeat):
    # A genuine code names one key and one signature; which of two would count is a guess.
    cert, query = scanned
    doubled = list(query.items()) + [(repeat, query[repeat])]
    _assert_cannot_be_checked(public.get(f"/verify/{cert.serial}", params=doubled))


def test_a_typed_serial_shows_the_record_and_says_what_that_proves(public, certs):
    cert = certs["李䶮"]
    response = public.get(f"/verify/{cert.serial}")
    assert response.status_code == 200 and _state(response) == "valid"
    # Typing a serial proves a certificate with that serial exists, not that the paper is it.
    assert "On record: issued, not revoked" in response.text
    assert "Valid certificate" not in response.text and "match the paper" in response.text
    assert public.get(f"/api/v1/certificates/{cert.serial}").json()["verdict"] == "on_record"
    same = public.get("/verify", params={"serial": cert.serial.lower()})
    assert "On record: issued, not revoked" in same.text


def test_a_record_naming_an_unpublished_key_cannot_be_checked(public, session, scanned):
    cert, query = scanned
    assert verification.verify_signature(cert, verification.published_keys(session))
    cert.key_id = "00000000"
    session.add(cert)
    session.commit()
    assert not verification.verify_signature(cert, verification.published_keys(session))
    _assert_cannot_be_checked(public.get(f"/verify/{cert.serial}"), status=200)
    _assert_cannot_be_checked(public.get(f"/verify/{cert.serial}", params=query))
    body = public.get(f"/api/v1/certificates/{cert.serial}").json()
    assert body["verdict"] == "record_signature_mismatch" and body["state"] == "cannot_be_checked"


@pytest.mark.parametrize("scan", [False, True])
def test_a_well_formed_serial_never_issued_may_be_forged(public, scanned, scan):
    serial = serials.new_serial(2026)
    response = public.get(f"/verify/{serial}", params=scanned[1] if scan else {})
    _assert_cannot_be_checked(response, status=404)
    assert "No certificate has this serial number" in response.text
    assert "the university named on the paper" in response.text
    assert public.get(f"/api/v1/certificates/{serial}", params=scanned[1]).status_code == 404


def test_the_alliance_contact_is_named_when_configured(app_with):
    site = app_with(contact="0531-88886666")
    with TestClient(site) as browser:
        browser.cookies.set("dandelion_lang", "en")
        response = browser.get(f"/verify/{serials.new_serial(2026)}")
    assert "Contact the alliance: 0531-88886666" in text(response, "p.contact")


def test_a_mistyped_serial_is_a_field_error_not_a_verdict(public, certs):
    serial = certs["李䶮"].serial
    wrong = serial[:5] + ("2" if serial[5] != "2" else "3") + serial[6:]
    response = public.get(f"/verify/{wrong}")
    assert response.status_code == 404 and "mistyped" in text(response, "p.error")
    assert page(response).select_one("section.verdict") is None


def test_a_very_long_serial_is_refused_readably(public, certs):
    response = public.get("/verify/" + "DL26" * 2000)
    assert response.status_code == 404 and 'class="error"' in response.text
    assert "DL26" * 100 not in response.text  # not echoed back whole


def test_the_public_record_does_not_hand_out_the_signature(public, scanned):
    """Otherwise anyone knowing a serial could build a QR link that verifies as valid."""
    cert, query = scanned
    record = public.get(f"/api/v1/certificates/{cert.serial}")
    assert record.status_code == 200 and query["s"] not in record.text
    assert query["s"] not in public.get(f"/verify/{cert.serial}").text


def _check_name(browser, serial: str, name: str, query: dict | None = None):
    token = csrf_of(browser, f"/verify/{serial}")
    return browser.post(
        f"/verify/{serial}/name", data={"csrf_token": token, "name": name, **(query or {})}
    )


def test_the_verifier_types_the_full_name_and_is_told_whether_it_matches(public, scanned):
    cert, query = scanned
    right = _check_name(public, cert.serial, " 李䶮 ", query)
    assert right.status_code == 200 and "The name matches" in text(right, "p.name-result")
    assert _state(right) == "valid" and "Valid certificate" in right.text  # the scan is kept
    wrong = _check_name(public, cert.serial, "李岩", query)
    assert "does not match" in text(wrong, "p.name-result.mismatch")
    # The page never shows the full name, neither the printed one nor the one typed.
    assert "李䶮" not in right.text and "李岩" not in wrong.text
    api = public.post(f"/api/v1/certificates/{cert.serial}/name", json={"name": "李䶮"})
    assert api.status_code == 200 and api.json()["matches"] is True
    api = public.post(f"/api/v1/certificates/{cert.serial}/name", json={"name": "王五"})
    assert api.json()["matches"] is False


def test_an_empty_name_is_a_field_error(public, certs):
    response = _check_name(public, certs["李䶮"].serial, "")
    assert response.status_code == 422 and page(response).select_one("p#e-name") is not None


def test_name_checks_are_throttled_so_the_page_cannot_find_out_names(public, certs):
    serial = certs["李䶮"].serial
    limit = 5  # checks per certificate from one address
    for guess in ["李一", "李二", "李三", "李四", "李五"][:limit]:
        assert _check_name(public, serial, guess).status_code == 200
    refused = _check_name(public, serial, "李䶮")  # even the right name: no tell
    assert refused.status_code == 429 and "name-result" not in refused.text
    api = public.post(f"/api/v1/certificates/{serial}/name", json={"name": "李䶮"})
    assert api.status_code == 429 and "matches" not in api.json()
    # Another certificate from the same address can still be checked.
    other = certs["𠮷田"].serial
    assert _check_name(public, other, "𠮷田").status_code == 200


def test_a_revoked_certificate_scanned_with_its_own_code_says_revoked(public, client, scanned):
    cert, query = scanned
    issued.revoke(client, cert.serial, "结业记录有误")
    response = public.get(f"/verify/{cert.serial}", params=query)
    assert _state(response) == "no_longer_valid" and "verdict ok" not in response.text
    headline = text(response, "section.verdict h2")
    assert "This certificate was revoked" in headline
    assert "结业记录有误" in text(response, "section.verdict")
    assert re.search(r"Revoked on \d{4}-\d{2}-\d{2}", text(response, "p.withdrawn"))
    body = public.get(f"/api/v1/certificates/{cert.serial}", params=query).json()
    assert body["verdict"] == "revoked" and body["state"] == "no_longer_valid"
    assert body["revoked_reason"] == "结业记录有误" and body["revoked_at"]
