"""Phone numbers: mainland mobiles and landlines, typed or spoken (幺三八…), normalised to digits."""

from __future__ import annotations

import re

from intents.normalise import fold_width

# Digits as people say them on the phone: 幺 for 1, 两 for 2, 拐 for 7, 勾 for 9, 洞 for 0.
SPOKEN_DIGITS: dict[str, str] = {
    "零": "0", "〇": "0", "洞": "0", "o": "0",
    "一": "1", "幺": "1", "么": "1",
    "二": "2", "两": "2",
    "三": "3", "四": "4", "五": "5", "六": "6",
    "七": "7", "拐": "7",
    "八": "8",
    "九": "9", "勾": "9",
}
_DIGITISH = "0-9" + "".join(k for k in SPOKEN_DIGITS if k != "o")
# A run of digits (typed or spoken) with the separators people put between groups.
_RUN = re.compile(rf"(?:\+?86[\s-]*)?[{_DIGITISH}](?:[{_DIGITISH}]|[\s\-－—()（）.、·,，]){{6,24}}")
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0[1-9]\d{1,2}\d{7,8}")
# A landline without its area code (66881234, 6688-1234): 7 or 8 digits, never starting 0 or 1. Many a number is that
# long (an order's number, a date), so it is a phone only when said as one: after a word for a phone ("座机 66881234",
# "家里电话是6688 1234"), or as the whole answer to the phone question (:func:`parse_phone_answer`).
LOCAL = re.compile(r"[2-9]\d{6,7}")
_LOCAL_CUE = re.compile(r"(?:座机|固话|固定电话|电话|号码|联系方式|打)(?:号码|号)?\s*(?:是|为|打)?\s*[:：]?\s*$")
# What may stand around a phone said as the whole answer: 我家座机是… / 俺家电话 … 吧.
_DATE = re.compile(r"(?:19|20)\d{2}\s*[-./年]\s*\d{1,2}\s*[-./月]\s*\d{1,2}")
_ANSWER_WORDS = re.compile(r"我家|俺家|咱家|家里|我的|俺的|的|就|是|打|座机|固话|固定电话|电话|号码|手机|号|"
                           r"吧|啊|呀|哈|[\s\-－—()（）.、·,，。:：!！~]")


def _digits(run: str) -> str:
    out = []
    for ch in run:
        if ch.isdigit():
            out.append(ch)
        elif ch in SPOKEN_DIGITS:
            out.append(SPOKEN_DIGITS[ch])
    return "".join(out)


def parse_phone(text: str) -> str | None:
    """The first mainland mobile (11 digits) or landline with area code in ``text``, digits only."""
    found = find_phone(text)
    return found[0] if found else None


def find_phone(text: str) -> tuple[str, int, int] | None:
    """The first phone number in ``text`` and where it was said (offsets in the width-folded text)."""
    folded = fold_width(text)
    for match in _RUN.finditer(folded):
        found = _phone_in(match.group(0))
        if found is None:
            # a door number said just before ("…501 13812345678", "…101，138…") runs into the phone: try the parts
            # between spaces and commas
            parts = [m for m in re.finditer(r"[^\s,，、]+", match.group(0))]
            found = next((f for i in range(len(parts)) for j in range(len(parts), i, -1)
                          if (f := _phone_in(match.group(0)[parts[i].start():parts[j - 1].end()], parts[i].start()))),
                         None)
        if found is None and LOCAL.fullmatch(_digits(match.group(0))) and _LOCAL_CUE.search(folded[:match.start()]):
            found = _digits(match.group(0)), 0, len(match.group(0).rstrip(" \t-－—()（）.、·,，"))
        if found is not None:
            digits, start, end = found
            return digits, match.start() + start, match.start() + end
    return None


def parse_phone_answer(text: str) -> str | None:
    """The answer to "请留一个联系电话": any phone :func:`parse_phone` reads, or a landline without its area code
    said as the whole answer ("66881234", "6688-1234", "我家座机是66881234吧")."""
    found = parse_phone(text)
    if found is not None:
        return found
    if _DATE.search(text):  # 2026-12-05 is a day
        return None
    rest = _ANSWER_WORDS.sub("", fold_width(text))
    digits = _digits(rest)
    return digits if len(digits) == len(rest) and LOCAL.fullmatch(digits) else None


def _phone_in(run: str, offset: int = 0) -> tuple[str, int, int] | None:
    """The run of digits as one phone number (its digits, and its span in the run), or None."""
    digits = _digits(run)
    if run.lstrip().startswith(("+86", "86")) and len(digits) == 13:
        digits = digits[2:]
    if MOBILE.fullmatch(digits) or (10 <= len(digits) <= 12 and LANDLINE.fullmatch(digits)):
        return digits, offset, offset + len(run.rstrip(" \t-－—()（）.、·,，"))
    return None


# A number said as a phone but of the wrong length: at least this many digits in a row (a door or a floor has fewer).
WRONG_LENGTH_FROM = 5
_ANY_RUN = re.compile(rf"(?:\+?86[\s-]*)?[{_DIGITISH}]"
                      rf"(?:[{_DIGITISH}]|[\s\-－—()（）.、·]){{{WRONG_LENGTH_FROM - 1},}}")


def wrong_length(text: str) -> str | None:
    """The digits of a number said as a phone that is none, being too short or too long ("1381234", "138001380001"):
    the longest such run of at least WRONG_LENGTH_FROM digits, typed or spoken; None when ``text`` holds a phone
    number or no such run."""
    if parse_phone(text) is not None:
        return None
    runs = [_digits(m.group(0)) for m in _ANY_RUN.finditer(fold_width(text))]
    runs = [r for r in runs if len(r) >= WRONG_LENGTH_FROM]
    return max(runs, key=len) if runs else None
