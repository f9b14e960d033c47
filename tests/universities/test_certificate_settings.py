"""A university's certificate settings page: English name, signatory and seal, through HTTP."""

import hashlib
from io import BytesIO

import pytest

# As in a server that has printed a certificate: WeasyPrint's image module, once imported,
# makes Pillow accept truncated images process-wide, and a cut seal must still be refused.
import weasyprint.images  # noqa: F401
from PIL import Image
from sqlmodel import select

from app.audit.models import AuditEvent
from app.universities.models import University
from tests.html import field_errors, flash, form_values, text
from tests.html import page as soup
from tests.universities import images


def _settings(university) -> str:
    return f"/universities/{university.code}/certificate"


def _post(persona, university, *, seal: bytes | None = None, **fields):
    path = _settings(university)
    files = {"seal": ("seal.png", seal, "image/png")} if seal is not None else None
    data = {"csrf_token": persona.csrf(path), **fields}
    return persona.post(path, data=data, files=files, follow_redirects=False)


def _reloaded(session, university) -> University:
    session.expire_all()
    return session.get_one(University, university.id)


def test_staff_upload_a_transparent_seal_and_name_the_signatory(staff_a, session, settings):
    response = _post(
        staff_a,
        staff_a.university,
        seal=images.seal_png(1200),
        name_en="Shandong University of Technology",
        signatory_title="院长",
        signatory_name="张某某",
    )
    assert response.status_code == 303
    page = staff_a.get(response.headers["location"])
    assert flash(page) == "证书设置已保存"
    assert form_values(page, "form.card")["name_en"] == "Shandong University of Technology"
    university = _reloaded(session, staff_a.university)
    assert (university.signatory_title, university.signatory_name) == ("院长", "张某某")
    stored = settings.data_dir / university.seal_path
    digest = hashlib.sha256(stored.read_bytes()).hexdigest()
    assert university.seal_path == f"seals/{university.id}-{digest[:16]}.png"
    with Image.open(stored) as seal:  # redrawn at print size, transparency kept
        assert seal.format == "PNG" and seal.mode == "RGBA" and seal.size == (480, 480)
        assert seal.getchannel("A").getextrema()[0] == 0
        assert len(seal.convert("RGB").getcolors() or []) == 1  # one ink
    shown = staff_a.get(f"/universities/{university.code}/seal.png")
    assert shown.headers["content-type"] == "image/png"
    assert shown.content == stored.read_bytes()
    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == "university.certificate_settings")
    ).one()
    assert event.actor == f"user:{staff_a.user.id}" and university.seal_path in event.detail


def test_saving_without_a_file_keeps_the_seal_and_empty_fields_clear(staff_a, session):
    assert _post(staff_a, staff_a.university, seal=images.seal_png(), name_en="SDUT").is_redirect
    seal_path = _reloaded(session, staff_a.university).seal_path
    response = _post(staff_a, staff_a.university, seal=b"", name_en="", signatory_name="李四")
    assert response.status_code == 303
    university = _reloaded(session, staff_a.university)
    assert university.seal_path == seal_path and seal_path
    assert university.name_en is None and university.signatory_name == "李四"


def test_a_new_seal_gets_a_new_file_and_the_old_one_stays(staff_a, session, settings):
    _post(staff_a, staff_a.university, seal=images.seal_png(400))
    first = _reloaded(session, staff_a.university).seal_path
    _post(staff_a, staff_a.university, seal=images.seal_png(400, name="山东理工大学培训学院"))
    second = _reloaded(session, staff_a.university).seal_path
    assert first != second
    assert (settings.data_dir / first).is_file() and (settings.data_dir / second).is_file()


REFUSED = {
    "jpeg renamed .png": (images.jpeg_named_png(), "PNG"),
    "no alpha channel": (images.seal_png(mode="RGB"), "透明"),
    "opaque everywhere": (images.opaque_png(), "透明"),
    "too many pixels": (images.seal_png(2400), "2400 × 2400"),
    "too few pixels": (images.seal_png(120), "120 × 120"),
    "not square": (
        images.with_claimed_size(images.seal_png(400), 800, 400),
        "正方形",
    ),
    "a bomb's header": (images.with_claimed_size(images.seal_png(400), 60000, 60000), "像素"),
    "truncated": (images.seal_png(400)[:300], "无法读取"),
    "over 1 MB": (images.noisy_png(560), "1 MB"),
}


@pytest.mark.parametrize("seal, says", REFUSED.values(), ids=REFUSED.keys())
def test_a_bad_seal_is_refused_beside_the_field(staff_a, session, settings, seal, says):
    response = _post(staff_a, staff_a.university, seal=seal, signatory_name="张某某")
    assert response.status_code == 422
    errors = field_errors(response)
    assert list(errors) == ["seal"] and says in errors["seal"], errors
    assert form_values(response, "form.card")["signatory_name"] == "张某某"  # what was typed stays
    university = _reloaded(session, staff_a.university)
    assert university.seal_path is None and university.signatory_name is None
    assert not (settings.data_dir / "seals").exists()


def test_a_file_over_the_upload_limit_is_413(staff_a, session, settings):
    too_big = bytes(settings.max_upload_bytes + (1 << 20))
    response = _post(staff_a, staff_a.university, seal=b"\x89PNG\r\n\x1a\n" + too_big)
    assert response.status_code == 413
    assert _reloaded(session, staff_a.university).seal_path is None


def test_english_names_must_be_english(staff_a):
    response = _post(staff_a, staff_a.university, name_en="山东理工大学", signatory_name="x" * 51)
    assert response.status_code == 422
    errors = field_errors(response)
    assert errors["name_en"] == "此处请填写英文，不能含中文或全角字符"
    assert "signatory_name" in errors
    assert form_values(response, "form.card")["name_en"] == "山东理工大学"


def test_a_title_needs_a_name(staff_a):
    response = _post(staff_a, staff_a.university, signatory_title="院长")
    assert response.status_code == 422
    assert field_errors(response) == {"signatory_title": "请同时填写签发人姓名，或不填职务"}


def test_a_signatory_the_fonts_cannot_print_is_refused(staff_a):
    response = _post(staff_a, staff_a.university, signatory_name="张\ue000")
    assert response.status_code == 422
    assert "U+E000" in field_errors(response)["signatory_name"]


def test_another_universitys_settings_are_not_found(staff_a, staff_b, session):
    _post(staff_a, staff_a.university, seal=images.seal_png())
    other = staff_a.university
    assert staff_b.get(_settings(other)).status_code == 404
    assert staff_b.get(f"/universities/{other.code}/seal.png").status_code == 404
    # A token from staff_b's own page does not open staff_a's university either.
    response = staff_b.post(
        _settings(other),
        data={"csrf_token": staff_b.csrf(_settings(staff_b.university)), "name_en": "Hijacked"},
        files={"seal": ("seal.png", images.seal_png(), "image/png")},
    )
    assert response.status_code == 404
    assert _reloaded(session, other).name_en is None


def test_an_administrator_sets_any_universitys_seal(admin, university_a, session):
    assert admin.get(_settings(university_a)).status_code == 200
    response = _post(admin, university_a, seal=images.seal_png(), signatory_name="王某")
    assert response.status_code == 303
    assert _reloaded(session, university_a).seal_path


def test_anonymous_visitors_are_sent_to_log_in(anonymous, university_a):
    response = anonymous.get(_settings(university_a), follow_redirects=False)
    assert response.status_code in (303, 307) and "/login" in response.headers["location"]


def test_the_page_shows_the_current_seal(staff_a):
    page = staff_a.get(_settings(staff_a.university))
    assert text(page, "label[for=f-seal] + p") == "尚未上传印章。"
    _post(staff_a, staff_a.university, seal=images.seal_png())
    page = staff_a.get(_settings(staff_a.university))
    img = BytesIO(staff_a.get(f"/universities/{staff_a.university.code}/seal.png").content)
    assert "seal.png" in page.text and Image.open(img).mode == "RGBA"


def test_staff_and_administrators_find_the_page(staff_a, admin):
    path = _settings(staff_a.university)
    assert path in [a["href"] for a in soup(staff_a.get("/staff")).select("a")]
    assert path in [a["href"] for a in soup(admin.get("/admin")).select("a")]
