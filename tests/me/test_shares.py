"""Share copies of a certificate: a link and a stamped PDF that verify until a date."""

import io
import re
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import update

from app import clock
from app.me.models import CertificateShare
from tests.certificates.issued import revoke
from tests.certificates.test_pdf import pdftotext
from tests.factories import csrf_of
from tests.html import field_errors, text
from tests.me.signing import sign_in


def make_share(client, serial: str, purpose: str = "应聘山东某纺织公司", days: int = 30):
    until = (clock.today() + timedelta(days=days)).isoformat()
    return client.post(
        f"/me/certificates/{serial}/share",
        data={"purpose": purpose, "valid_until": until, "csrf_token": csrf_of(client, "/me")},
    )


def link_of(made) -> str:
    return re.search(r"http://testserver(/share/[A-Za-z0-9_-]+)", made.text).group(1)


def test_a_share_copy_verifies_with_its_purpose_and_date_and_its_pdf_is_stamped(
    client, caplog, certified, anonymous
):

    sign_in(client, caplog, certified.id_number)
    made = make_share(client, certified.cert.serial)
    assert made.status_code == 201
    link = link_of(made)
    until = (clock.today() + timedelta(days=30)).isoformat()
    shown = anonymous.get(link)
    assert shown.status_code == 200
    verdict = text(shown, ".verdict")
    assert "应聘山东某纺织公司" in verdict and until in verdict
    assert "张三" not in shown.text  # the name masked, as on the verification page
    pdf = anonymous.get(link + "/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    printed = " ".join(pdftotext(pdf.content).split())
    assert "应聘山东某纺织公司" in printed and "分享副本" in printed
    day = clock.today() + timedelta(days=30)
    assert f"{day.year}年{day.month}月{day.day}日" in printed
    links = {
        str(a.get_object()["/A"]["/URI"])
        for a in PdfReader(io.BytesIO(pdf.content)).pages[0].get("/Annots") or []
    }
    assert links == {"http://testserver" + link}  # the QR code's link: the share, not /verify


def test_an_expired_or_revoked_share_says_it_no_longer_verifies(
    client, caplog, certified, anonymous, session
):
    sign_in(client, caplog, certified.id_number)
    expiring, revoked = (link_of(make_share(client, certified.cert.serial)) for _ in range(2))
    session.execute(
        update(CertificateShare)
        .where(CertificateShare.id == 1)
        .values(valid_until=clock.today() - timedelta(days=1))
    )
    session.commit()
    page = client.get("/me")
    assert "已过期" in text(page, "ul.shares")
    token = csrf_of(client, "/me")
    assert client.post("/me/shares/2/revoke", data={"csrf_token": token}).status_code == 200
    for link in (expiring, revoked):
        shown = anonymous.get(link)
        assert shown.status_code == 410
        assert shown.text.count("verdict ok") == 0 and "✔" not in shown.text
        assert anonymous.get(link + "/pdf").headers["content-type"].startswith("text/html")
    assert anonymous.get("/share/not-a-token-of-ours").status_code == 404


def test_a_share_of_a_revoked_certificate_no_longer_verifies(client, caplog, certified, anonymous):
    sign_in(client, caplog, certified.id_number)
    link = link_of(make_share(client, certified.cert.serial))
    revoke(certified.staff, certified.cert.serial, "录入错误")
    shown = anonymous.get(link)
    assert shown.status_code == 410 and "✔" not in shown.text


def test_a_share_needs_a_purpose_and_a_date_within_180_days(client, caplog, certified):
    sign_in(client, caplog, certified.id_number)
    too_far = make_share(client, certified.cert.serial, days=181)
    assert too_far.status_code == 422 and "valid_until" in field_errors(too_far)
    no_purpose = make_share(client, certified.cert.serial, purpose="")
    assert no_purpose.status_code == 422 and "purpose" in field_errors(no_purpose)
    past = make_share(client, certified.cert.serial, days=-1)
    assert past.status_code == 422
    unprintable = make_share(client, certified.cert.serial, purpose="求职\ue000")
    assert unprintable.status_code == 422 and "U+E000" in field_errors(unprintable)["purpose"]
