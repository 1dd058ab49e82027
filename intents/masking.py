"""Masking of personal data shown to other people (phones, names, addresses)."""

from __future__ import annotations

import re


def mask_phone(phone: str | None) -> str:
    """138****5678: the first three and last four digits stay; a number too short to hide that way is all stars."""
    if not phone:
        return "未留电话"
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 8:  # 3 + 4 shown of 7 digits would be the whole number
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str | None) -> str:
    if not name:
        return "居民"
    return name[0] + "*" * max(1, len(name) - 1)


def coarse_address(address: str | None) -> str:
    """What a volunteer sees before accepting: the estate or street, not the door."""
    if not address:
        return "地址待确认"
    head = re.split(r"[0-9０-９一二三四五六七八九十]+[号栋幢楼单元室]", address, maxsplit=1)[0]
    head = re.sub(r"[0-9０-９\-]+$", "", head).strip("，, ")
    return (head or address[:4]) + "附近"


def scrub(text: str | None, *secrets: str | None) -> str:
    """Remove the address and phone (and the words that introduce them) from free text."""
    out = text or ""
    for secret in secrets:
        if secret:
            out = out.replace(secret, "")
    out = re.sub(r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}", "", out)
    out = re.sub(r"(地址|住址|电话|手机|联系方式)(是|在)?[:：]?", "", out)
    return re.sub(r"[，,。\s]+$", "", re.sub(r"^[，,。\s]+", "", out))
