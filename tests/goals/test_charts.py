"""The charts' geometry: shades by quarters of the largest count, months of the period, names
cut to fit. (The pages' SVG is read back in tests/test_dashboard.py.)"""

from datetime import date

from app.goals import charts


def test_the_16_cities_have_16_tiles_on_distinct_squares():
    assert len(charts.TILES) == 16 and len(set(charts.TILES.values())) == 16
    assert charts.TILES["3714"][1] < charts.TILES["3701"][1] < charts.TILES["3708"][1]  # N to S
    assert charts.TILES["3715"][0] < charts.TILES["3707"][0] < charts.TILES["3710"][0]  # W to E


def test_tiles_are_shaded_by_quarters_of_the_largest_count_and_the_legend_says_so():
    tiles = charts.tile_map({"3701": ("济南", 100), "3702": ("青岛", 26), "3703": ("淄博", 25)})
    by_code = {t.code: t for t in tiles.tiles}
    assert by_code["3701"].fill == charts.SHADES[4] and by_code["3701"].ink == "#ffffff"
    assert by_code["3702"].fill == charts.SHADES[2]
    assert by_code["3703"].fill == charts.SHADES[1]
    assert by_code["3704"].fill == charts.SHADES[0] and by_code["3704"].value == 0
    assert [(b.low, b.high) for b in tiles.legend] == [
        (0, 0),
        (1, 25),
        (26, 50),
        (51, 75),
        (76, 100),
    ]


def test_a_small_largest_count_leaves_out_empty_legend_bands():
    tiles = charts.tile_map({"3701": ("济南", 2), "3702": ("青岛", 1)})
    assert [(b.low, b.high) for b in tiles.legend] == [(0, 0), (1, 1), (2, 2)]
    assert {t.code: charts.SHADES.index(t.fill) for t in tiles.tiles}["3701"] == 3


def test_nothing_counted_is_all_the_lightest_shade():
    tiles = charts.tile_map({})
    assert {t.fill for t in tiles.tiles} == {charts.SHADES[0]}
    assert [(b.low, b.high) for b in tiles.legend] == [(0, 0)]


def test_the_cumulative_columns_run_over_the_period_up_to_this_month():
    firsts = {date(2025, 12, 20): 2, date(2026, 1, 31): 1, date(2026, 3, 2): 4}
    chart = charts.cumulative(
        firsts,
        target=10,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        today=date(2026, 3, 15),
    )
    # Counted before the period: in its first month.
    assert [(c.month, c.value) for c in chart.columns] == [
        (date(2026, 1, 1), 3),
        (date(2026, 2, 1), 3),
        (date(2026, 3, 1), 7),
    ]
    assert chart.latest is not None and chart.latest.value == 7
    # Month labels over the whole period, about six: every second month, and December.
    assert [label for _, label in chart.ticks] == [
        "2026-01",
        "2026-03",
        "2026-05",
        "2026-07",
        "2026-09",
        "2026-12",
    ]
    assert chart.pace == (chart.left, chart.bottom, chart.right, chart.target_y)
    assert chart.columns[2].y > chart.target_y  # 7 of 10 stays under the target line


def test_a_period_not_started_has_no_columns_and_no_target_no_lines():
    chart = charts.cumulative(
        {},
        target=None,
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 6, 30),
        today=date(2026, 12, 4),
    )
    assert chart.columns == [] and chart.latest is None and chart.pace is None


def test_months_cross_the_year():
    assert charts.months(date(2026, 11, 15), date(2027, 2, 1)) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]


def test_month_labels_keep_the_first_and_the_last_apart_from_their_neighbours():
    assert charts.labelled(24) == [0, 4, 8, 12, 16, 23]
    assert charts.labelled(3) == [0, 1, 2]
    assert charts.labelled(1) == [0]
    assert charts.labelled(7) == [0, 2, 4, 6]


def test_names_are_cut_by_display_width():
    assert charts.cut("山东省纺织服装产业集团有限公司") == "山东省纺织服装产业集…"
    assert charts.cut("Shandong Textile Group Co Ltd") == "Shandong Textile Gro…"
    assert charts.cut("青岛大学") == "青岛大学"


def test_bars_scale_to_the_largest():
    chart = charts.bars([("甲", 10), ("乙", 5), ("丙", 0)])
    assert [r.width for r in chart.rows] == [168.0, 84.0, 1.0]
    assert [r.y for r in chart.rows] == [0, 24, 48] and chart.height == 76
