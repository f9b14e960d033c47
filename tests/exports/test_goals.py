"""The goal summary of a date range: by city, by university and by company, counted as the
goals are (distinct entities over the completions dated in the range), with each figure's
name and definition beside it."""

from app.goals.definitions import FIGURES
from app.i18n import translations
from tests.exports.conftest import (
    HOSTILE,
    csv_rows,
    download,
    export,
    no_formula,
    table,
    workbook,
)

ZH = translations("zh").gettext
GOALS = ("universities", "companies", "talents")
NAMES = [ZH(FIGURES[k].name) for k in GOALS]


def _rows_by_first_cell(rows: list[list]) -> dict:
    return {r[0]: r[1:] for r in rows[1:]}


def test_the_alliances_summary_counts_distinct_entities(admin, data):
    response = download(admin, export(admin, "/admin/exports", kind="goals", format="xlsx"))
    book = workbook(response)
    assert book.sheetnames == ["按地市", "按高校", "按企业", "说明"]
    cities = table(book["按地市"])
    assert cities[0] == ["地市代码", "所在地市", *NAMES]
    jinan, qingdao = _rows_by_first_cell(cities)["3701"], _rows_by_first_cell(cities)["3702"]
    # Both universities are in Jinan; A's companies and trainees too (the trainee with two
    # completions counted once, the one before the range not at all); B's company in Qingdao.
    assert jinan == ["济南", 2, len(HOSTILE), len(HOSTILE)]
    assert qingdao == ["青岛", 0, 1, 1]
    assert len(cities) == 1 + 16 + 1
    assert cities[-1] == [None, "全省合计（去重）", 2, len(HOSTILE) + 1, len(HOSTILE) + 1]
    universities = table(book["按高校"])
    assert universities[0] == ["代码", "高校名称", "所在地市", NAMES[1], NAMES[2]]
    assert [r[1:] for r in universities[1:]] == [
        ["山东理工大学", "济南", len(HOSTILE), len(HOSTILE)],
        ["青岛大学", "济南", 1, 1],
    ]
    companies = table(book["按企业"])
    assert companies[0] == ["统一社会信用代码", "单位名称", "所在地市", "产业集群", NAMES[2]]
    assert len(companies) == 1 + len(HOSTILE) + 1
    first = next(r for r in companies if r[1] == HOSTILE[0])
    assert first[2:] == ["济南", "尚未归入产业集群", 1]
    assert book["按企业"].cell(row=2, column=2).data_type == "s" and no_formula(response)


def test_the_notes_name_and_define_every_figure(admin, data):
    book = workbook(download(admin, export(admin, "/admin/exports", kind="goals", format="xlsx")))
    notes = table(book["说明"])
    assert notes[0] == ["导出", "导出目标汇总"]
    for key in GOALS:
        assert [ZH(FIGURES[key].name), ZH(FIGURES[key].definition)] in notes
    lines = {r[0]: r[1] for r in notes if r and r[0]}
    assert lines["对象"] == "全联盟" and lines["身份证号码"] == "已脱敏"


def test_a_universitys_staff_get_its_own_part(staff_b, data):
    response = download(staff_b, export(staff_b, "/staff/exports", kind="goals", format="xlsx"))
    book = workbook(response)
    cities = _rows_by_first_cell(table(book["按地市"]))
    assert cities["3701"] == ["济南", 1, 0, 0] and cities["3702"] == ["青岛", 0, 1, 1]
    assert [r[1] for r in table(book["按高校"])[1:]] == ["青岛大学"]
    assert len(table(book["按企业"])) == 2
    assert {r[0]: r[1] for r in table(book["说明"])}["对象"] == "青岛大学"


def test_the_csv_summary_holds_the_definitions_then_the_three_tables(admin, data):
    rows = csv_rows(download(admin, export(admin, "/admin/exports", kind="goals", format="csv")))
    assert rows[0] == ["导出", "导出目标汇总"]
    for key in GOALS:
        assert [ZH(FIGURES[key].name), ZH(FIGURES[key].definition)] in rows
    titles = [n for n, r in enumerate(rows) if r in (["按地市"], ["按高校"], ["按企业"])]
    assert [rows[n][0] for n in titles] == ["按地市", "按高校", "按企业"]
    assert all(rows[n - 1] == [] for n in titles)  # a blank line before each
    assert rows[titles[0] + 1] == ["地市代码", "所在地市", *NAMES]
    companies = rows[titles[2] + 2 :]
    assert {r[1] for r in companies} >= {"'" + HOSTILE[0], "'" + HOSTILE[4]}


def test_an_empty_range_for_a_university_says_so(staff_b, data):
    response = export(
        staff_b, "/staff/exports", kind="goals", date_from="2001-01-01", date_to="2001-01-31"
    )
    assert response.status_code == 422 and "没有结业记录" in response.text
