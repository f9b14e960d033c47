"""`dandelion verify SERIAL_OR_PDF_FILE` on real issued PDFs: valid, revoked, superseded,
tampered (a byte changed, a forged QR link), and what cannot be checked; exit codes as --help
documents them."""

import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject

from app.certificates import serials
from tests.certificates import issued
from tests.conftest import run_cli

VALID, REVOKED, USAGE, SUPERSEDED, TAMPERED, UNCHECKED = 0, 1, 2, 3, 4, 5


@pytest.fixture
def certs(client, session, completed):
    issued.issue(client, completed["course"])
    return issued.by_holder(session)


def _saved(tmp_path, client, serial: str, name: str = "paper.pdf"):
    path = tmp_path / name
    path.write_bytes(client.get(f"/certificates/{serial}.pdf").content)
    return path


def test_help_documents_the_exit_codes(settings):
    result = run_cli(settings, ["verify", "--help"])
    assert result.exit_code == 0
    flat = " ".join(result.output.split())
    for said in ("0 valid", "1 revoked", "3 superseded", "4 tampered", "5 cannot be checked"):
        assert said in flat


def test_an_issued_pdf_and_its_serial_are_valid(settings, tmp_path, client, certs):
    cert = certs["李䶮"]
    result = run_cli(settings, ["verify", str(_saved(tmp_path, client, cert.serial))])
    assert result.exit_code == VALID, result.output
    assert (
        f"{cert.serial}: valid" in result.output and "identical to the PDF issued" in result.output
    )
    assert "signed by published key" in result.output
    assert "李䶮" not in result.output  # masked, as everywhere
    by_serial = run_cli(settings, ["verify", serials.format_serial(cert.serial)])
    assert by_serial.exit_code == VALID, by_serial.output


def test_a_byte_changed_is_tampered(settings, tmp_path, client, certs):
    path = _saved(tmp_path, client, certs["李䶮"].serial)
    content = bytearray(path.read_bytes())
    # A byte inside the page's drawing: the file still opens, its link still reads.
    at = content.index(b"stream") + 200
    content[at] ^= 0x01
    path.write_bytes(bytes(content))
    result = run_cli(settings, ["verify", str(path)])
    assert result.exit_code == TAMPERED, result.output
    assert "tampered" in result.output and "differs from the PDF issued" in result.output


def test_a_forged_qr_link_is_tampered(settings, tmp_path, client, certs):
    """Someone pastes another certificate's signature into this paper's code."""
    mine, other = certs["李䶮"], certs["𠮷田"]
    theirs = issued.qr_query(client.get(f"/certificates/{other.serial}.pdf").content)
    writer = PdfWriter(
        clone_from=PdfReader(io.BytesIO(client.get(f"/certificates/{mine.serial}.pdf").content))
    )
    for annotation in writer.pages[0]["/Annots"]:
        action = annotation.get_object()["/A"]
        uri = str(action["/URI"])
        action[NameObject("/URI")] = TextStringObject(uri.split("&s=")[0] + "&s=" + theirs["s"])
    path = tmp_path / "forged.pdf"
    with path.open("wb") as f:
        writer.write(f)
    result = run_cli(settings, ["verify", str(path)])
    assert result.exit_code == TAMPERED, result.output
    assert "does not match a published key" in result.output


def test_revoked_and_superseded(settings, tmp_path, client, certs):
    revoked, replaced = certs["李䶮"], certs["𠮷田"]
    revoked_file = _saved(tmp_path, client, revoked.serial, "revoked.pdf")
    replaced_file = _saved(tmp_path, client, replaced.serial, "replaced.pdf")
    issued.revoke(client, revoked.serial, "结业记录有误")
    done = issued.reissue(client, replaced.serial, follow_redirects=True)
    new_serial = done.url.path.rsplit("/", 1)[-1]
    for target in (str(revoked_file), revoked.serial):
        result = run_cli(settings, ["verify", target])
        assert result.exit_code == REVOKED, result.output
        assert "revoked on" in result.output and "结业记录有误" in result.output
    for target in (str(replaced_file), replaced.serial):
        result = run_cli(settings, ["verify", target])
        assert result.exit_code == SUPERSEDED, result.output
        assert f"superseded by {new_serial}" in result.output
    assert run_cli(settings, ["verify", new_serial]).exit_code == VALID


def test_a_stored_pdf_changed_on_disk_is_tampered(settings, certs):
    cert = certs["李䶮"]
    stored = settings.data_dir / cert.pdf_path
    stored.write_bytes(stored.read_bytes() + b"\n% appended\n")
    result = run_cli(settings, ["verify", cert.serial])
    assert result.exit_code == TAMPERED and "differs from the PDF issued" in result.output


@pytest.mark.parametrize(
    "target, code, said",
    [
        (serials.new_serial(2026), TAMPERED, "may be forged"),
        ("DL26-ZZZZ-ZZZZ-Z", UNCHECKED, "serial"),
        ("missing.pdf", UNCHECKED, "no such file"),
    ],
    ids=["never-issued", "mistyped", "no-such-file"],
)
def test_what_cannot_be_a_valid_certificate(settings, certs, target, code, said):
    result = run_cli(settings, ["verify", target])
    assert result.exit_code == code, result.output
    assert said in result.output


def test_a_file_that_is_not_a_certificate(settings, tmp_path, certs):
    junk = tmp_path / "letter.pdf"
    junk.write_bytes(b"%PDF-1.7\nnot really\n")
    result = run_cli(settings, ["verify", str(junk)])
    assert result.exit_code == UNCHECKED and "cannot be checked" in result.output
