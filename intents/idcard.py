"""Resident ID numbers (GB 11643-1999): check digit, birth date, age, gender digit, masking (pure)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class IdCardError(ValueError):
    """Why a text is not a valid ID number; `reason` is a short code, the message plain Chinese."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class IdCard:
    number: str
    birth_date: date
    male: bool

    @property
    def gender(self) -> str:
        return "男" if self.male else "女"

    @property
    def region(self) -> str:
        return self.number[:6]

    def age_on(self, today: date) -> int:
        return age_on(self.birth_date, today)

    @property
    def masked(self) -> str:
        return mask_id(self.number)


def age_on(birth: date, today: date) -> int:
    """Completed years (周岁) on `today`."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def normalise(text: str) -> str:
    """Full-width digits, spaces and a lower-case x are common when people type on phones."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\-]", "", folded).upper()


def check_digit(first17: str) -> str:
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("the check digit needs exactly 17 digits")
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def parse_id(text: str, today: date) -> IdCard:
    """The ID card in `text`, or IdCardError saying what is wrong with it."""
    number = normalise(text)
    if len(number) != 18:
        raise IdCardError("length", f"身份证号应该是18位，您输入的是{len(number)}位。")
    if not _SHAPE.match(number):
        raise IdCardError("chars", "身份证号前17位是数字，最后一位是数字或X。")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdCardError("birth", "身份证号里的出生日期不对，请核对第7到14位。") from None
    if birth > today or birth.year < 1900:
        raise IdCardError("birth", "身份证号里的出生日期不对，请核对第7到14位。")
    if check_digit(number[:17]) != number[17]:
        raise IdCardError("checksum", "身份证号校验不通过，可能有一位输错了，请对照身份证再输一遍。")
    return IdCard(number=number, birth_date=birth, male=int(number[16]) % 2 == 1)


def mask_id(number: str | None) -> str:
    """110***********1234: the region's first three digits and the last four, never the birth date."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]
