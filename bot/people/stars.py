"""Star levels (1★–5★ by verified hours) and 志愿者骨干 (hours in a year in one community): pure rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Standing:
    hours: float
    level: int  # 0 = not yet 1★
    next_level: int | None
    hours_to_next: float | None

    @property
    def label(self) -> str:
        return star_label(self.level)


def star_level(hours: float, thresholds: Sequence[float]) -> int:
    """How many thresholds the hours have reached (thresholds ascending, one per star)."""
    return sum(1 for t in thresholds if hours >= t)


def standing(hours: float, thresholds: Sequence[float]) -> Standing:
    level = star_level(hours, thresholds)
    if level >= len(thresholds):
        return Standing(hours, level, None, None)
    return Standing(hours, level, level + 1, round(thresholds[level] - hours, 2))


def star_label(level: int) -> str:
    return f"{level}星级志愿者（{'★' * level}）" if level else "暂未评星"


def is_core(year_hours: float, core_hours: float) -> bool:
    return year_hours >= core_hours


def crossed(before: float, after: float, thresholds: Sequence[float]) -> list[int]:
    """The star levels reached by going from `before` to `after` hours (usually none or one)."""
    return list(range(star_level(before, thresholds) + 1, star_level(after, thresholds) + 1))
