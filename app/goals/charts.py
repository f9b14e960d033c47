"""The geometry of the goals' charts, as plain values: templates/goals/_charts.html draws them as
inline SVG. Every figure a chart shows is also printed as text, so it reads without colour,
on paper and to a screen reader; colours are SVG presentation attributes (no style attribute,
nothing for the CSP to refuse, and WeasyPrint draws them the same).

Coordinates are in the viewBox (360 wide): the SVG scales to the width of the page, so a
390-pixel phone shows 12-unit text at about 12 pixels.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date

WIDTH = 360
# Light to dark green; the darker two carry white text.
SHADES = ("#f1f3ee", "#d5e8d4", "#9cc89a", "#4f8f56", "#2f6b3a")
INKS = ("#1f2328", "#1f2328", "#1f2328", "#ffffff", "#ffffff")

# Shandong's 16 cities on a 6 x 4 grid, each roughly where it lies: (column, row) from the
# north-west. Dezhou, Binzhou, Dongying, Yantai and Weihai along the north coast; Liaocheng,
# Jinan, Zibo, Weifang and Qingdao across the middle; Tai'an, Linyi and Rizhao below;
# Heze, Jining and Zaozhuang in the south-west.
TILES = {
    "3714": (1, 0),
    "3716": (2, 0),
    "3705": (3, 0),
    "3706": (4, 0),
    "3710": (5, 0),
    "3715": (0, 1),
    "3701": (1, 1),
    "3703": (2, 1),
    "3707": (3, 1),
    "3702": (4, 1),
    "3709": (1, 2),
    "3713": (2, 2),
    "3711": (3, 2),
    "3717": (0, 3),
    "3708": (1, 3),
    "3704": (2, 3),
}
TILE, GAP = 56, 4


@dataclass(frozen=True)
class Tile:
    code: str
    name: str
    value: int
    x: int
    y: int
    fill: str
    ink: str


@dataclass(frozen=True)
class Band:
    """One shade of the legend: the values from low to high get this fill."""

    low: int
    high: int
    fill: str


@dataclass(frozen=True)
class TileMap:
    tiles: list[Tile]
    legend: list[Band]
    width: int
    height: int
    size: int = TILE


def shade(value: int, top: int) -> int:
    """0 for nothing, else 1 to 4 by quarters of the largest value."""
    if value <= 0 or top <= 0:
        return 0
    return min(4, 1 + 4 * (value - 1) // top)


def tile_map(values: dict[str, tuple[str, int]]) -> TileMap:
    """values: city code -> (name shown, count). Codes not in TILES are left off."""
    top = max((v for _, v in values.values()), default=0)
    tiles = []
    for code, (column, row) in TILES.items():
        name, value = values.get(code, ("", 0))
        level = shade(value, top)
        x, y = column * (TILE + GAP), row * (TILE + GAP)
        tiles.append(Tile(code, name, value, x, y, SHADES[level], INKS[level]))
    legend = [Band(0, 0, SHADES[0])]
    for level in range(1, 5):
        low, high = -(-(level - 1) * top // 4) + 1, -(-level * top // 4)
        if low <= high:
            legend.append(Band(low, high, SHADES[level]))
    return TileMap(tiles, legend, 6 * (TILE + GAP) - GAP, 4 * (TILE + GAP) - GAP)


@dataclass(frozen=True)
class Column:
    month: date  # its first day
    value: int  # cumulative at the month's end
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Cumulative:
    columns: list[Column]
    target: int | None  # None: no target line, nor the even pace's (a university's part)
    target_y: float | None
    pace: tuple[float, float, float, float] | None  # the even pace's line: x1, y1, x2, y2
    left: float
    right: float
    bottom: float
    latest: Column | None
    ticks: list[tuple[float, str]]  # month labels under the axis: (x of the middle, "2026-03")
    height: int = 190


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months(starts_on: date, ends_on: date) -> list[date]:
    """The first day of every month the period touches."""
    first, last = starts_on.replace(day=1), ends_on.replace(day=1)
    found = []
    while first <= last:
        found.append(first)
        first = next_month(first)
    return found


def cumulative(
    firsts: dict[date, int], *, target: int | None, starts_on: date, ends_on: date, today: date
) -> Cumulative:
    """Columns of the running total by month, over the campaign period up to today's month.

    firsts: how many entities counted for the first time on each day (before the period
    starts they are in its first month's total)."""
    left, right, top, bottom = 44.0, 338.0, 16.0, 158.0  # room for the last label
    period = months(starts_on, ends_on)
    shown = [m for m in period if m <= today]
    highest = max(target or 0, sum(firsts.values()), 1)

    def y(value: float) -> float:
        return bottom - (bottom - top) * value / highest

    band = (right - left) / len(period)
    columns = []
    for i, month in enumerate(shown):
        value = sum(n for day, n in firsts.items() if day < next_month(month))
        columns.append(
            Column(
                month,
                value,
                round(left + band * i + band * 0.15, 1),
                round(y(value), 1),
                round(band * 0.7, 1),
                round(bottom - y(value), 1),
            )
        )
    target_y = round(y(target), 1) if target else None
    return Cumulative(
        columns,
        target,
        target_y,
        (left, bottom, right, target_y) if target_y is not None else None,
        left,
        right,
        bottom,
        columns[-1] if columns else None,
        [
            (round(left + band * (i + 0.5), 1), period[i].strftime("%Y-%m"))
            for i in labelled(len(period))
        ],
    )


def labelled(count: int, most: int = 6) -> list[int]:
    """Which of `count` months get a label: about `most`, evenly, always the first and the
    last (which takes the place of a label too close before it)."""
    step = max(1, -(-count // most))
    chosen = list(range(0, count, step))
    if chosen[-1] != count - 1:
        if count - 1 - chosen[-1] < step and len(chosen) > 1:
            chosen.pop()
        chosen.append(count - 1)
    return chosen


@dataclass(frozen=True)
class Row:
    label: str  # cut to fit beside the bar
    full: str  # the whole name, in the row's title
    value: int
    y: float
    width: float


@dataclass(frozen=True)
class Bars:
    rows: list[Row]
    label_right: float
    height: float
    row_height: int = 24


def cut(text: str, columns: int = 20) -> str:
    """At most `columns` display columns (a Chinese character takes two), with an ellipsis."""
    used = 0
    kept: list[str] = []
    for char in text:
        used += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if used > columns:
            return "".join(kept).rstrip() + "…"
        kept.append(char)
    return text


def bars(items: list[tuple[str, int]]) -> Bars:
    """Horizontal bars, largest first as given: a name, its bar and its count."""
    label_right, longest, row_height = 132.0, 168.0, 24
    top = max((v for _, v in items), default=0) or 1
    rows = [
        Row(cut(name), name, value, i * row_height, round(max(1.0, longest * value / top), 1))
        for i, (name, value) in enumerate(items)
    ]
    return Bars(rows, label_right, len(rows) * row_height + 4)
