"""The console's pure helpers for words and numbers: the street-event rule as people say it, value labels on the
dashboard's SVG charts (readable: none drawn where columns are too narrow for them), detail fields in words."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.admin import charts, words
from bot.community.eventrule import parse_rule, rule_in_words

NS = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(("rule", "said"), [
    ("SAT 2,4 09:00-11:30", "每月第2、4个周六 09:00–11:30"),
    ("sun 1 14:00-16:00", "每月第1个周日 14:00–16:00"),
    ("WED L 19:00-20:30", "每月最后一个周三 19:00–20:30"),
    ("MON 1,L 08:30-10:00", "每月第1个周一和最后一个周一 08:30–10:00"),
])
def test_rule_in_words(rule: str, said: str) -> None:
    assert rule_in_words(parse_rule(rule)) == said


def _values(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{NS}text") if t.get("class") == "value"]


def test_single_bars_carry_their_value_above() -> None:
    svg = charts.bar_chart("t", ["9月", "10月", "11月"], [charts.Series("时长", (1.5, 12.0, 4.0))])
    assert _values(svg) == ["1.5", "12", "4"]


def test_stacked_bars_show_the_total_and_the_tall_segments() -> None:
    series = [charts.Series("理发", (20.0, 1.0)), charts.Series("维修", (20.0, 0.0))]
    svg = charts.bar_chart("t", ["10月", "11月"], series, whole=True)
    labels = _values(svg)
    assert labels.count("40") == 1 and labels.count("1") == 1  # the totals above each column
    assert labels.count("20") == 2  # both tall segments show their share; the tiny one does not repeat its 1


def test_side_by_side_bars_each_labelled() -> None:
    svg = charts.bar_chart("t", ["11月"], [charts.Series("a", (3.0,)), charts.Series("b", (5.0,))], stacked=False)
    assert sorted(_values(svg)) == ["3", "5"]


def test_line_points_labelled_and_gaps_skipped() -> None:
    svg = charts.line_chart("t", ["9月", "10月", "11月"], [30.0, None, 45.0], unit="分钟")
    assert _values(svg) == ["30", "45"]


def test_no_labels_where_columns_are_too_narrow_to_read() -> None:
    labels = [f"{d}日" for d in range(1, 32)]
    svg = charts.bar_chart("t", labels, [charts.Series("a", tuple(float(d) for d in range(1, 32)))])
    assert _values(svg) == []
    assert len(_values(charts.bar_chart("t", labels[:12], [charts.Series("a", (1.0,) * 12)]))) == 12


def test_details_in_words() -> None:
    said = words.details_in_words({"before": "applied", "to": "approved", "reason": "材料齐了", "rows": 3,
                                   "error": "errcode 40001", "mystery_key": "x"},
                                  volunteer_name=lambda vid: f"志愿者{vid}", service_name=lambda code: "理发")
    assert said == "原来：待审核，改为：已通过审核，原因：材料齐了，条数：3"
    assert words.details_in_words({"service": "haircut", "volunteer_id": 4, "hours": 1.5},
                                  volunteer_name=lambda vid: f"张师傅（{vid}）",
                                  service_name=lambda code: "理发") == "服务：理发，志愿者：张师傅（4），时长：1.5小时"


def test_an_emergency_reads_as_one_in_the_audit_log() -> None:
    # outside tester out9: an emergency was written "记录异常 异常1"
    assert words.action_in_words("incident_open") == "记录紧急事件"
    assert words.action_in_words("incident_handled") == "紧急事件已处理"
    assert words.subject_in_words("incident:1") == "紧急事件1"
