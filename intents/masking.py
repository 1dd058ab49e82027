"""Masking of personal data shown to other people (phones, names, addresses)."""

from __future__ import annotations

import re

from intents.idcard import hide_numbers


def mask_phone(phone: str | None) -> str:
    """138****5678: the first three and last four digits stay; a landline without its area code (66881234) keeps
    only its last four; a number too short to hide that way is all stars."""
    if not phone:
        return "未留电话"
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 8:  # 3 + 4 shown of 7 digits would be the whole number
        return "*" * len(digits)
    if len(digits) < 10:  # 3 + 4 of 8 would hide one digit
        return "*" * (len(digits) - 4) + digits[-4:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str | None) -> str:
    if not name:
        return "居民"
    return name[0] + "*" * max(1, len(name) - 1)


def served_label(resident_name: str | None, phone: str | None) -> str:
    """Who was served, as the ledger (台账) shows it: the name masked (刘**) when the order names one (代点单), else
    "居民" with the masked phone (as the console names a resident), never an internal number."""
    if resident_name:
        return mask_name(resident_name)
    return f"居民{mask_phone(phone)}" if phone else "居民"


def coarse_address(address: str | None) -> str:
    """What a volunteer sees before accepting: the estate or street, not the door."""
    if not address:
        return "地址待确认"
    head = re.split(r"[0-9０-９一二三四五六七八九十]+[号栋幢楼单元室]", address, maxsplit=1)[0]
    head = re.sub(r"[0-9０-９\-]+$", "", head).strip("，, ")
    return (head or address[:4]) + "附近"


# A mobile number inside free text, spaced or not ("138 1234 5678"), not part of a longer run of digits
PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")


def mask_phones(text: str) -> str:
    """Every mobile number in free text masked as mask_phone masks one ("138****5678")."""
    return PHONE_IN_TEXT.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group(0))), text)


def scrub(text: str | None, *secrets: str | None) -> str:
    """Remove the address and phone (and the words that introduce them) from free text; an ID or bank-card number
    is replaced by a plain note (taken out first: its digits are no phone)."""
    out = hide_numbers(text or "")
    for secret in secrets:
        if secret:
            out = out.replace(secret, "")
    out = re.sub(r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}", "", out)
    out = re.sub(r"(地址|住址|电话|手机|联系方式)(是|在)?[:：]?", "", out)
    return re.sub(r"[，,。\s]+$", "", re.sub(r"^[，,。\s]+", "", out))


# Someone named in what is asked ("我妈叫刘桂芬", "老人名字是王建国"): before a volunteer accepts, offers and team group
# posts show the surname only (刘**), as mask_name does; the volunteer who accepts sees the content as said.
_RELATION = (r"妈妈?|母亲|爸爸?|父亲|老人家?|老太太|老爷子|奶奶|爷爷|姥姥|姥爷|外婆|外公|婆婆|公公|老伴|爱人|老公|老婆|"
             r"孩子|儿子|女儿|孙子|孙女|邻居|她|他")
_NAMED = re.compile(rf"(?P<who>(?:(?:{_RELATION})(?:的)?(?:名字)?(?:叫做|名叫|叫)|名字(?:叫|是)|姓名(?:是|[:：])?|"
                    r"全名(?:是|叫)?))\s*"
                    r"(?P<name>[\u4e00-\u9fff]{2,4}?)(?=$|[\s，,。.；;、！!？?（(]|的|她|他|今年|身份证|电话|手机|住)")
_NOT_A_NAME = re.compile(r"^(?:什么|啥|个|了|来|过|我|你|人|一下|车|外卖|师傅|志愿者|救护车|医生|阿姨|叔叔|大爷|大妈|"
                         r"奶奶|爷爷)")


def hide_names(text: str) -> str:
    """``text`` with a person's full name, said after 叫 / 名字是 / 姓名, cut to the surname and stars."""
    def masked(m: re.Match[str]) -> str:
        name = m.group("name")
        return m.group(0) if _NOT_A_NAME.match(name) else m.group("who") + mask_name(name)
    return _NAMED.sub(masked, text)
