"""Completion uploads through HTTP, with files as Chinese Excel writes them."""

import io
from datetime import timedelta

import openpyxl
from sqlmodel import func, select

from app import clock
from app.auth import service as auth
from app.completions.models import Completion, CompletionBatch
from tests import files
from tests.completions.uploads import press
from tests.completions.uploads import staff_upload as _staff_upload
from tests.factories import csrf_of, login, make_course, make_enrollment, make_user

TODAY = clock.today()
DONE = (TODAY - timedelta(days=2)).isoformat()


def _count(session, model=Completion) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_gbk_csv_from_chinese_excel(client, session, campus):
    ids = campus["ids"]
    rows = [
        ["张三", ids[0], "QLU-DIG-01", DONE.replace("-", "/"), "85"],
        ["欧阳娜娜", ids[2], "QLU-DIG-01", DONE, ""],
    ]
    response = _staff_upload(client, session, campus["a"], "结业名单.csv", files.gbk_csv(rows))
    assert response.status_code == 200
    assert 'id="n-accepted">2<' in response.text and 'id="n-rejected">0<' in response.text
    assert _count(session) == 2
    batch = session.exec(select(CompletionBatch)).one()
    assert batch.encoding == "gb18030" and batch.accepted == 2


def test_gbk_csv_cannot_carry_rare_characters_and_says_so(client, session, campus):
    # Chinese Excel writes 䶮 as "?" in a GBK CSV: the name no longer matches and the row is refused.
    rows = [["李䶮", campus["ids"][1], "QLU-DIG-01", DONE, "90"]]
    response = _staff_upload(client, session, campus["a"], "a.csv", files.gbk_csv(rows))
    assert 'id="n-rejected">1<' in response.text and "CSV UTF-8" in response.text
    # Grouped by problem, the field named beside it.
    assert "1 行</strong>" in response.text and "(姓名)" in response.text.split('id="problems"')[1]
    assert _count(session) == 0


def test_utf8_bom_csv_keeps_rare_characters(client, session, campus):
    rows = [["李䶮", campus["ids"][1], "QLU-DIG-01", DONE, "90"]]
    response = _staff_upload(client, session, campus["a"], "a.csv", files.utf8_bom_csv(rows))
    assert 'id="n-accepted">1<' in response.text and "李*" in response.text


def test_xlsx_with_rejected_rows_listed_by_line(client, session, campus):
    ids = campus["ids"]
    bad_check = ids[0][:17] + ("0" if ids[0][17] != "0" else "1")
    rows = [
        ["张三", ids[0], "QLU-DIG-01", DONE, "85"],
        ["李四", bad_check, "QLU-DIG-01", DONE, "85"],
        ["王五", campus["outsider"], "QDU-DIG-01", DONE, "85"],
        ["欧阳娜娜", ids[2], "QLU-DIG-01", (TODAY + timedelta(days=5)).isoformat(), "85"],
        ["李䶮", ids[1], "QLU-DIG-01", DONE, "200"],
    ]
    response = _staff_upload(client, session, campus["a"], "名单.xlsx", files.xlsx(rows))
    text = response.text
    assert (
        'id="n-rows">5<' in text and 'id="n-accepted">1<' in text and 'id="n-rejected">4<' in text
    )
    rejected = text.split('id="problems"')[1].split('id="changed"')[0]
    for line in ("<td>3</td>", "<td>4</td>", "<td>5</td>", "<td>6</td>"):
        assert line in rejected
    assert _count(session) == 1


def test_same_file_twice_adds_nothing(client, session, campus):
    rows = [
        [n, i, "QLU-DIG-01", DONE, "80"]
        for n, i in zip(("张三", "李䶮"), campus["ids"][:2], strict=True)
    ]
    content = files.utf8_bom_csv(rows)
    _staff_upload(client, session, campus["a"], "a.csv", content)
    again = client.post(
        "/staff/uploads",
        data={"csrf_token": csrf_of(client, "/staff/uploads")},
        files={"file": ("a.csv", content)},
        follow_redirects=True,
    )
    assert 'id="n-accepted">0<' in again.text and 'id="n-unchanged">2<' in again.text
    assert _count(session) == 2


def test_changed_score_updates_the_completion(client, session, campus):
    ids = campus["ids"]
    _staff_upload(
        client,
        session,
        campus["a"],
        "a.csv",
        files.utf8_bom_csv([["张三", ids[0], "QLU-DIG-01", DONE, "80"]]),
    )
    response = client.post(
        "/staff/uploads",
        data={"csrf_token": csrf_of(client, "/staff/uploads")},
        files={"file": ("b.csv", files.utf8_bom_csv([["张三", ids[0], "QLU-DIG-01", DONE, "95"]]))},
        follow_redirects=True,
    )
    # The preview shows what changes, and changes nothing until saved.
    assert 'id="n-updated">1<' in response.text
    assert "<del>80</del> → <ins>95</ins>" in response.text.split('id="changed"')[1]
    assert session.exec(select(Completion)).one().score == 80
    press(client, response, "save")
    session.expire_all()
    assert session.exec(select(Completion)).one().score == 95


def test_other_universitys_course_is_rejected(client, session, campus):
    rows = [["王五", campus["outsider"], "QDU-DIG-01", DONE, "80"]]
    response = _staff_upload(client, session, campus["a"], "a.csv", files.utf8_bom_csv(rows))
    assert 'id="n-rejected">1<' in response.text and _count(session) == 0


def test_missing_column_refuses_the_file_beside_the_field(client, session, campus):
    content = "姓名,身份证号,结业日期\r\n张三,1,2026-01-01\r\n".encode("gbk")
    response = _staff_upload(client, session, campus["a"], "a.csv", content)
    assert response.status_code == 422 and 'class="error"' in response.text
    assert _count(session) == 0 and _count(session, CompletionBatch) == 0


def test_another_universitys_batch_is_not_found_on_pages_or_through_the_api(
    client, session, staff_a, staff_b
):
    course = make_course(session, staff_a.university, code="SDUT-DIG-01")
    _, number = make_enrollment(session, course)
    content = files.utf8_bom_csv(
        [
            ["王五", "not-an-id", "SDUT-DIG-01", DONE, "80"],
            ["张三", number, "SDUT-DIG-01", DONE, "80"],
        ]
    )
    staff_a.post(
        "/staff/uploads",
        data={"csrf_token": staff_a.csrf("/staff/uploads")},
        files={"file": ("a.csv", content)},
    )
    batch = session.exec(select(CompletionBatch)).one()
    for path in (f"/staff/uploads/{batch.id}", f"/staff/uploads/{batch.id}/errors.xlsx"):
        assert staff_a.get(path).status_code == 200
        assert staff_b.get(path).status_code == 404
    assert staff_b.get(f"/staff/uploads/{batch.id + 1}").status_code == 404  # as if missing
    tokens = {}
    for persona in (staff_a, staff_b):
        _, tokens[persona] = auth.create_token(
            session, name="t", role="university", university_id=persona.university.id
        )
    session.commit()

    def api(persona, batch_id):
        return client.get(
            f"/api/v1/completions/batches/{batch_id}",
            headers={"Authorization": f"Bearer {tokens[persona]}"},
        )

    assert api(staff_a, batch.id).json()["accepted"] == 1
    theirs, missing = api(staff_b, batch.id), api(staff_b, batch.id + 1)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_error_report_is_the_original_rows_plus_a_reason_and_formula_safe(client, session, campus):
    rows = [
        ["张三", campus["ids"][0], "QLU-DIG-01", DONE, "80"],
        ["李䶮", campus["ids"][1], '=HYPERLINK("x")', DONE, "80"],
    ]
    _staff_upload(client, session, campus["a"], "a.csv", files.utf8_bom_csv(rows))
    batch = session.exec(select(CompletionBatch)).one()
    report = client.get(f"/staff/uploads/{batch.id}/errors.xlsx")
    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(report.content)).active
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert table[0][:5] == ["姓名", "身份证号", "课程代码", "结业日期", "成绩"]
    assert len(table) == 2 and table[1][:3] == ["李䶮", campus["ids"][1], '=HYPERLINK("x")']
    assert table[1][5:] == ["3", "本校没有该代码的课程"]
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row)  # no formulas
    # Fixed and sent back, the report itself is a valid upload.
    sheet.cell(row=2, column=3).value = "QLU-DIG-01"
    fixed = io.BytesIO()
    sheet.parent.save(fixed)
    again = client.post(
        "/staff/uploads",
        data={"csrf_token": csrf_of(client, "/staff/uploads")},
        files={"file": ("fixed.xlsx", fixed.getvalue())},
        follow_redirects=True,
    )
    assert 'id="n-accepted">1<' in again.text and 'id="n-rejected">0<' in again.text


def test_uploaded_originals_are_encrypted_at_rest(client, session, settings, campus):
    rows = [["张三", campus["ids"][0], "QLU-DIG-01", DONE, "80"]]
    _staff_upload(client, session, campus["a"], "a.csv", files.gbk_csv(rows))
    stored = list((settings.data_dir / "uploads").rglob("*.enc"))
    assert len(stored) == 1
    assert campus["ids"][0].encode() not in stored[0].read_bytes()


def test_api_upload_and_wrong_token(client, session, campus):
    _, token = auth.create_token(session, name="t", role="university", university_id=campus["a"].id)
    session.commit()
    rows = [
        ["张三", campus["ids"][0], "QLU-DIG-01", DONE, "80"],
        ["王五", campus["outsider"], "QDU-DIG-01", DONE, "80"],
    ]
    content = files.xlsx(rows)
    response = client.post(
        "/api/v1/completions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.xlsx", content)},
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["rows"], body["accepted"], body["rejected"]) == (2, 1, 1)
    assert body["errors"][0]["row"] == 3 and body["errors"][0]["field"] == "course_code"
    again = client.post(
        "/api/v1/completions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.xlsx", content)},
    ).json()
    assert (again["accepted"], again["unchanged"]) == (0, 1)
    wrong = client.post(
        "/api/v1/completions",
        headers={"Authorization": "Bearer nope"},
        files={"file": ("a.xlsx", content)},
    )
    assert wrong.status_code == 401 and "detail" in wrong.json()


def test_upload_over_the_cap_is_413(client, session, campus, settings):
    _, token = auth.create_token(session, name="t", role="university", university_id=campus["a"].id)
    session.commit()
    mb = settings.max_upload_bytes >> 20
    assert mb == 32  # 100,000 rows of a dozen columns fit (app/config.py)
    big = b"a" * ((mb + 1) * 1024 * 1024)
    response = client.post(
        "/api/v1/completions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("big.csv", big)},
    )
    assert response.status_code == 413
    login(client, make_user(session, university=campus["a"]))
    page = client.post(
        "/staff/uploads",
        data={"csrf_token": csrf_of(client, "/staff/uploads")},
        files={"file": ("big.csv", big)},
    )
    assert page.status_code == 413 and f"{mb} MB" in page.text and "/static/style.css" in page.text
    assert _count(session, CompletionBatch) == 0


def test_api_upload_of_an_old_xls_is_a_field_error(client, session, campus):
    _, token = auth.create_token(session, name="t", role="university", university_id=campus["a"].id)
    session.commit()
    response = client.post(
        "/api/v1/completions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 600)},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "file"


def test_a_certified_completion_cannot_change(client, session, settings, campus):
    from app.certificates import issuing

    ids = campus["ids"]
    _staff_upload(
        client,
        session,
        campus["a"],
        "a.csv",
        files.utf8_bom_csv([["张三", ids[0], "QLU-DIG-01", DONE, "80"]]),
    )
    (completion,) = issuing.pending_completions(session, campus["course"])
    issuing.issue_one(
        session, completion, public_url="http://t", data_dir=settings.data_dir, today=TODAY
    )
    session.commit()
    response = client.post(
        "/staff/uploads",
        data={"csrf_token": csrf_of(client, "/staff/uploads")},
        files={"file": ("b.csv", files.utf8_bom_csv([["张三", ids[0], "QLU-DIG-01", DONE, "95"]]))},
        follow_redirects=True,
    )
    assert 'id="n-conflicts">1<' in response.text and "结业证书" in response.text
    assert 'id="nothing-to-save"' in response.text
    assert session.exec(select(Completion)).one().score == 80


def test_the_same_person_twice_in_one_file(client, session, campus):
    ids = campus["ids"]
    rows = [
        ["张三", ids[0], "QLU-DIG-01", DONE, "80"],
        ["张三", ids[0], "QLU-DIG-01", DONE, "80"],
        ["张三", ids[0], "QLU-DIG-01", DONE, "70"],
    ]
    response = _staff_upload(client, session, campus["a"], "a.csv", files.utf8_bom_csv(rows))
    text = response.text
    assert 'id="n-accepted">1<' in text and 'id="n-unchanged">1<' in text
    assert 'id="n-conflicts">1<' in text and _count(session) == 1


def test_chunked_upload_without_length_is_still_capped(client, session, campus, settings):
    mb = settings.max_upload_bytes >> 20
    _, token = auth.create_token(session, name="t", role="university", university_id=campus["a"].id)
    session.commit()
    boundary = "dandelionboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()

    def body():  # a generator: httpx sends it chunked, with no Content-Length
        yield head
        for _ in range(mb + 2):
            yield b"a" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/api/v1/completions",
        content=body(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert response.status_code == 413 and str(mb) in response.json()["detail"]
    assert _count(session, CompletionBatch) == 0
