"""Addresses: free text pulled from a message (幸福小区3栋2单元501), or a shared location."""

from __future__ import annotations

import re
from dataclasses import dataclass

from intents.normalise import default_normaliser

_PLACE = r"(?:小区|花园|家园|公寓|大院|新村|社区|村|苑|庭|城|大厦|广场|宿舍|路|街|巷|弄|胡同|道)"
_UNIT = r"(?:[0-9一二三四五六七八九十]+\s*(?:号楼|栋|幢|号院|号|单元|楼|层|室|户|组|座|排)|[0-9]+(?:[-—#][0-9]+)*)"
_ADDRESS = re.compile(rf"[\u4e00-\u9fa5A-Za-z0-9]{{1,14}}?{_PLACE}(?:\s*{_UNIT})*")
_LABELLED = re.compile(r"(?:地址|住址|家住|住在|家在)\s*(?:是|为|在)?\s*[:：]?\s*([^，。！？,!?;；\n]+)")
_LEADING = re.compile(r"^(?:我们家|我家|我|家)?(?:就)?(?:住在|住|在|是|到|去|来)+")
_MIN_LENGTH = 3


@dataclass(frozen=True, slots=True)
class Address:
    """Where the service happens: the resident's words, and coordinates from a location message."""

    text: str
    latitude: float | None = None
    longitude: float | None = None


def extract_address(text: str) -> str | None:
    """The address part of ``text`` as the resident wrote it (width-folded), or None."""
    folded = default_normaliser().fold(text)
    labelled = _LABELLED.search(folded)
    if labelled:
        found = labelled.group(1).strip()
        return found if len(found) >= 2 else None
    best = None
    for match in _ADDRESS.finditer(folded):
        candidate = _LEADING.sub("", match.group(0)).strip()
        if len(candidate) >= _MIN_LENGTH and (best is None or len(candidate) > len(best)):
            best = candidate
    return best


def address_from_location(label: str, latitude: float, longitude: float) -> Address:
    """A WeChat location message: its label (may be empty) and coordinates."""
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise ValueError(f"coordinates out of range: {latitude}, {longitude}")
    return Address(text=label.strip() or f"{latitude:.5f},{longitude:.5f}", latitude=latitude, longitude=longitude)
