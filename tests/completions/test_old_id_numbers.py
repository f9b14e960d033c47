"""Old 15-digit ID numbers: converted to 18 digits on import, and the report says so, masked."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app import clock
from app.auth import service as auth
from app.completions.models import Completion
from app.text import masked
from app.trainees.validators import id_check_char
from tests import files
from tests.completions.uploads import staff_upload
from tests.factories import make_enrollment
from tests.html import text, texts

DONE = (clock.today() - timedelta(days=2)).isoformat()
OLD = "370102900101123"  # first generation: born 1990-01-01, no century, no check character
NEW = "37010219900101123" + id_check_char("37010219900101123")


@pytest.fixture
def old_timer(session, campus):
    """A trainee enrolled with the 18-digit number their old 15-digit one became."""
    make_enrollment(session, campus["course"], name="赵六", id_number=NEW)
    return campus


@pytest.mark.parametrize(
    "filename, build",
    [("结业名单.csv", files.gbk_csv), ("结业名单.xlsx", files.xlsx)],
    ids=["GBK CSV", "XLSX"],
)
def test_a_converted_number_is_noted_on_the_result_page(
    client, session, old_timer, filename, build
):
    rows = [
        ["张三", old_timer["ids"][0], "QLU-DIG-01", DONE, "80"],
        ["赵六", OLD, "QLU-DIG-01", DONE, "90"],
    ]
    response = staff_upload(client, session, old_timer["a"], filename, build(rows))
    assert response.status_code == 200
    assert text(response, "#n-accepted") == "2" and text(response, "#n-converted") == "1"
    assert texts(response, "ul.converted li") == [
        f"第 3 行：15 位旧身份证号已转换为 18 位（{masked(NEW)}）"
    ]
    assert OLD not in response.text and NEW not in response.text
    assert len(session.exec(select(Completion)).all()) == 2


def test_a_file_without_old_numbers_shows_no_conversions(client, session, old_timer):
    rows = [["赵六", NEW, "QLU-DIG-01", DONE, "90"]]
    response = staff_upload(client, session, old_timer["a"], "a.csv", files.gbk_csv(rows))
    assert text(response, "#n-accepted") == "1"
    assert texts(response, "#n-converted") == [] and texts(response, "ul.converted li") == []


def test_the_api_lists_converted_rows_masked(client, session, old_timer):
    _, token = auth.create_token(
        session, name="t", role="university", university_id=old_timer["a"].id
    )
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    rows = [
        ["赵六", OLD, "QLU-DIG-01", DONE, "90"],
        ["张三", old_timer["ids"][0], "QLU-DIG-01", DONE, "80"],
    ]
    response = client.post(
        "/api/v1/completions", headers=headers, files={"file": ("a.xlsx", files.xlsx(rows))}
    )
    body = response.json()
    assert response.status_code == 200 and body["accepted"] == 2
    assert body["converted"] == [{"row": 2, "id_number": masked(NEW)}]
    assert OLD not in response.text and NEW not in response.text
    again = client.get(f"/api/v1/completions/batches/{body['batch_id']}", headers=headers)
    assert again.status_code == 200 and again.json() == body
