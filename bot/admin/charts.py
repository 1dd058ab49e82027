"""Server-rendered SVG charts for the dashboard (pure: numbers in, SVG text out; no JavaScript, no CDN)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#c0392b", "#2e86c1", "#27ae60", "#f39c12", "#8e44ad", "#16a085", "#d35400", "#7f8c8d")
WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 40


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


def _nice_max(value: float, whole: bool = False) -> float:
    """The axis top: four equal steps of 1, 2, 2.5 or 5 x 10^n that reach the value (whole steps for counts)."""
    if value <= 0:
        return 4.0 if whole else 1.0
    raw = value / 4
    scale = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * scale
        if step >= raw - 1e-9 and (not whole or step == int(step)):
            return step * 4
    return max(4.0, math.ceil(raw) * 4)


def _fmt(value: float) -> str:
    return f"{value:g}" if value < 1000 else f"{value:,.0f}"


def _value_label(x: float, y: float, value: float, *, fill: str = "#222", size: int = 11) -> str:
    """A number written at (x, y), centred (class "value": what a reader sees without hovering)."""
    return (f'<text class="value" x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="{size}" '
            f'fill="{fill}">{_fmt(value)}</text>')


def _label_size(step: float) -> int | None:
    """The font size of the value labels for columns `step` pixels wide; None when they would overlap."""
    if step >= 28:
        return 11
    return 9 if step >= 18 else None


def _frame(title: str, top: float, labels: Sequence[str], body: list[str], legend: Sequence[str] = ()) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
             f'aria-label="{escape(title)}">', f"<title>{escape(title)}</title>"]
    for i in range(5):  # grid lines and the y axis labels
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     f'stroke="#ddd" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#555">'
                     f"{_fmt(top * i / 4)}</text>")
    step = plot_w / max(1, len(labels))
    for i, label in enumerate(labels):
        x = LEFT + step * (i + 0.5)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="11" '
                     f'fill="#333">{escape(label)}</text>')
    parts += body
    for i, name in enumerate(legend):
        x = LEFT + 8 + (i % 5) * 100
        y = HEIGHT - 8 - 14 * (i // 5)
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="11" fill="#333">{escape(name[:8])}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def empty_chart(title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart empty" '
            f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" font-size="14" fill="#888">暂无数据</text>'
            "</svg>")


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], *, stacked: bool = True,
              whole: bool = False) -> str:
    """Bars per label; several series are stacked (or side by side). Each bar is a <rect class="bar">."""
    if not labels or not series or all(v == 0 for s in series for v in s.values):
        return empty_chart(title)
    totals = [sum(s.values[i] for s in series) if stacked else max(s.values[i] for s in series)
              for i in range(len(labels))]
    top = _nice_max(max(totals), whole)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM - (14 if len(series) > 5 else 0)
    step = plot_w / len(labels)
    bar_w = step * 0.6 / (1 if stacked else len(series))
    size = _label_size(step if stacked or len(series) == 1 else bar_w / 0.6)
    body: list[str] = []
    labels_out: list[str] = []  # drawn after every bar, so no bar covers a number
    for i, label in enumerate(labels):
        base = 0.0
        for k, s in enumerate(series):
            value = s.values[i]
            if value <= 0:
                continue
            h = plot_h * value / top
            x = LEFT + step * i + step * 0.2 + (0 if stacked else k * bar_w)
            y = TOP + plot_h - h - (plot_h * base / top if stacked else 0)
            body.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                        f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(label)} {escape(s.name)}：'
                        f"{_fmt(value)}</title></rect>")
            if size is not None and stacked and len(series) > 1 and h >= size + 4:
                # a segment tall enough shows its own share inside, in white
                labels_out.append(_value_label(x + bar_w / 2, y + h / 2 + size / 2 - 1, value, fill="#fff",
                                               size=size))
            if size is not None and not stacked:
                labels_out.append(_value_label(x + bar_w / 2, y - 3, value, size=size))
            if stacked:
                base += value
        if size is not None and stacked and totals[i] > 0:  # the whole column's total above it
            y_top = TOP + plot_h - plot_h * totals[i] / top
            labels_out.append(_value_label(LEFT + step * (i + 0.5), max(TOP + size, y_top - 3), totals[i], size=size))
    body += labels_out
    legend = [s.name for s in series] if len(series) > 1 else []
    return _frame(title, top, labels, body, legend)


def line_chart(title: str, labels: Sequence[str], values: Sequence[float | None], *, unit: str = "") -> str:
    """One line with a dot (<circle class="point">) per known value; None leaves a gap."""
    known = [v for v in values if v is not None]
    if not labels or not known:
        return empty_chart(title)
    top = _nice_max(max(known))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / len(labels)
    points = [(LEFT + step * (i + 0.5), TOP + plot_h - plot_h * v / top, v) for i, v in enumerate(values)
              if v is not None]
    body = []
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        body.append(f'<polyline class="line" points="{path}" fill="none" stroke="{PALETTE[1]}" stroke-width="2"/>')
    size = _label_size(step)
    for (x, y, v), label in zip(points, [lab for lab, v in zip(labels, values, strict=True) if v is not None],
                                strict=True):
        body.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{PALETTE[1]}">'
                    f"<title>{escape(label)}：{_fmt(v)}{escape(unit)}</title></circle>")
        if size is not None:  # above the dot, below the top edge
            body.append(_value_label(x, max(TOP + size, y - 8), v, size=size))
    return _frame(title, top, labels, body)


def series_from(table: Mapping[str, Mapping[str, float]], labels: Sequence[str], limit: int = 7) -> list[Series]:
    """{series name: {label: value}} -> the biggest `limit` series, the rest summed as 其他."""
    ranked = sorted(table.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    out = [Series(name, tuple(float(row.get(lab, 0)) for lab in labels)) for name, row in ranked[:limit]]
    rest = ranked[limit:]
    if rest:
        out.append(Series("其他", tuple(float(sum(row.get(lab, 0) for _, row in rest)) for lab in labels)))
    return out
