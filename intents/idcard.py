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


# -- ID and bank-card numbers in free text ------------------------------------------------------------------------
# A resident may put an ID number (or a bank card's) into what they ask for ("我妈叫…，身份证1101…"). Such a number is
# never a phone, never kept in a free-text column and never passed on: hide_numbers takes it out of the text, with
# the words that introduce it, and leaves a plain note in its place.
ID_HIDDEN = "身份证（已隐去）"
CARD_HIDDEN = "银行卡号（已隐去）"
_DIGIT = "0-9０-９"
# A run of digits as typed: groups joined by single spaces or hyphens ("110105 19650308 0023"), an X (the check
# character) at the end.
_NUMBER_RUN = re.compile(rf"(?<![{_DIGIT}])[{_DIGIT}](?:[ \u3000\-－]?[{_DIGIT}])*(?:[ \u3000]?[xXｘＸ])?"
                         rf"(?![{_DIGIT}])")
_ID_LABEL = re.compile(r"(?:身份证号码|身份证号|身份证|证件号码|证件号)(?:码)?(?:是|为|号)?[\s:：]*$")
_CARD_LABEL = re.compile(r"(?:银行卡号|银行卡|储蓄卡号?|信用卡号?|卡号|银行账号|账号)(?:是|为)?[\s:：]*$")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE_PARTS = re.compile(r"(?<!\d)0\d{2,3}[ \u3000\-－]\d{7,8}(?!\d)")
_LANDLINE_END = re.compile(r"^0\d{2,3} [2-9]\d{6,7}$")  # an area code and a landline, the last two groups of a run
ID_LENGTHS = (15, 18)  # the second-generation card, and the first generation's 15 digits
CARD_LENGTHS = range(16, 20)  # bank cards (UnionPay): 16 to 19 digits


def _number_kind(run: str, before: str) -> str | None:
    """"id", "card" or None (not such a number: a phone, a door number, a date) for a run of digits."""
    parts = re.split(r"[ \u3000\-－]", run)
    if len(parts) > 1 and any(_MOBILE.fullmatch(normalise(p)) for p in parts):
        return None  # "501 13812345678": a door number, then a phone
    if _LANDLINE_PARTS.search(normalise_width(run)):
        return None  # "0571-88886666-123": a landline with its extension
    if len(parts) > 2 and _LANDLINE_END.match(" ".join(normalise(p) for p in parts[-2:])):
        return None  # "101 0731-22881234": a door number, then a landline with its area code
    number = normalise(run)
    if _CARD_LABEL.search(before) and len(number) in CARD_LENGTHS and number.isdigit():
        return "card"
    if len(number) in ID_LENGTHS and (number[:-1].isdigit() and (number[-1].isdigit() or number[-1] == "X")):
        if _ID_LABEL.search(before) or number.endswith("X") or len(number) == 15 or _birth_like(number[6:14]):
            return "id"
    if number.isdigit() and len(number) in CARD_LENGTHS:
        return "card"
    return "id" if _ID_LABEL.search(before) and len(number) >= 15 else None


def normalise_width(text: str) -> str:
    """Full-width digits and separators folded, spaces kept (normalise takes them out)."""
    return unicodedata.normalize("NFKC", text)


def _birth_like(yyyymmdd: str) -> bool:
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
    return 1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31


def find_numbers(text: str) -> list[tuple[str, int, int]]:
    """Each ID or bank-card number in ``text``: its kind ("id"/"card") and its span, the introducing words
    ("身份证号是", "卡号：") included."""
    found = []
    for m in _NUMBER_RUN.finditer(text):
        before = text[:m.start()]
        kind = _number_kind(m.group(0), before)
        if kind is None:
            continue
        label = (_ID_LABEL if kind == "id" else _CARD_LABEL).search(before)
        found.append((kind, label.start() if label else m.start(), m.end()))
    return found


def hide_numbers(text: str) -> str:
    """``text`` with every ID and bank-card number (and the words introducing it) replaced by a plain note."""
    out, last = [], 0
    for kind, start, end in find_numbers(text):
        out += [text[last:start], ID_HIDDEN if kind == "id" else CARD_HIDDEN]
        last = end
    return "".join(out) + text[last:] if out else text
