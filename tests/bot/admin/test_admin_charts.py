"""The dashboard's SVG charts (pure): sizes follow the numbers, labels are escaped, no data says so."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bot.admin import charts

NS = "{http://www.w3.org/2000/svg}"


def _bars(svg: str) -> list[float]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    return [float(r.get("height", "0")) for r in root.iter(f"{NS}rect") if r.get("class") == "bar"]


def test_bar_heights_are_proportional_to_the_values() -> None:
    svg = charts.bar_chart("t", ["1月", "2月", "3月"], [charts.Series("a", (1.0, 2.0, 4.0))], whole=True)
    h = _bars(svg)
    assert len(h) == 3 and abs(h[1] / h[0] - 2) < 0.01 and abs(h[2] / h[0] - 4) < 0.01


def test_stacked_series_and_the_rest_summed() -> None:
    table = {f"服务{i}": {"2026-11": float(i + 1)} for i in range(9)}
    series = charts.series_from(table, ["2026-11"], limit=7)
    assert [s.name for s in series][-1] == "其他" and series[-1].values == (3.0,)  # 服务0 + 服务1 = 1 + 2
    svg = charts.bar_chart("t", ["11月"], series)
    assert len(_bars(svg)) == 8 and "其他" in svg


def test_labels_are_escaped() -> None:
    svg = charts.bar_chart('<script>alert(1)</script>', ['<b>"x"</b>'],
                           [charts.Series("<img src=x onerror=alert(1)>", (1.0,)), charts.Series("b", (2.0,))])
    assert "<script>" not in svg and "<img" not in svg and "<b>" not in svg
    ET.fromstring(svg)


def test_line_chart_skips_unknown_months() -> None:
    svg = charts.line_chart("t", ["9月", "10月", "11月"], [3.0, None, 6.0], unit="分钟")
    root = ET.fromstring(svg)
    points = [c for c in root.iter(f"{NS}circle") if c.get("class") == "point"]
    assert len(points) == 2 and "11月：6分钟" in svg
    ys = [float(c.get("cy", "0")) for c in points]
    assert ys[1] < ys[0]  # the larger value is drawn higher


def test_no_data_draws_a_note_not_an_empty_frame() -> None:
    for svg in (charts.bar_chart("t", ["1月"], [charts.Series("a", (0.0,))]), charts.line_chart("t", ["1月"], [None]),
                charts.bar_chart("t", [], [])):
        assert "暂无数据" in svg and not _bars(svg)


def test_axis_tops_are_round() -> None:
    svg = charts.bar_chart("t", ["a"], [charts.Series("x", (3.0,))], whole=True)
    labels = re.findall(r'text-anchor="end"[^>]*>([^<]+)<', svg)
    assert labels == ["0", "1", "2", "3", "4"]
