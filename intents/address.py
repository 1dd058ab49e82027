"""Addresses: free text pulled from a message (幸福小区3栋2单元501), or a shared location."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from intents.normalise import default_normaliser

# 里 (长青里14号楼), 园 (春晖园1栋), 府, 湾 ... name an estate only before its number: 家里 is at home, 公园 a park.
_BEFORE_DOOR = r"(?=\s*[0-9一二三四五六七八九十]+\s*(?:号楼|号院|号|栋|幢|巷|弄|单元|座|期|区))"
_PLACE = (r"(?:小区|花园|家园|公寓|大院|新村|社区|村|苑|庭|城|大厦|广场|宿舍|路|街道|街|巷|弄|胡同|道|"
          r"干部楼|家属楼|家属院|宿舍楼|职工楼|住宅楼|公寓楼|大楼|"
          rf"(?:里|园|府|湾|居|邸|阁|坊|轩|庄|山庄|公馆){_BEFORE_DOOR})")
_NUMBER = r"[0-9一二三四五六七八九十两]+"
# 3栋 / 2单元 / 3门 (an entrance, as northern estates number them) / 501 / 五零一 (a room number read out digit by
# digit); a bare number is a door of at most 5
# digits, so a phone said right after the address ("…501 13812345678") is not taken for a room
_DOOR = r"[0-9]{1,5}(?![0-9])"
_UNIT = (rf"(?:{_NUMBER}\s*(?:号楼|栋|幢|号院|号门洞|号门|门洞|号|单元|门|楼|层|室|户|组|座|排|期|区)|"
         r"[东南西北中][区院苑]|[东南西北中](?:边户|户|边|侧|屋|间)|[A-Za-z]\s*(?:区|座|栋)|(?<=[楼层室座])[A-Za-z](?![A-Za-z])|"
         r"(?:东头|西头|南头|北头|村口|路口)(?:的)?(?:第[一二三四五六七八九十0-9]+(?:家|户|间))?|"
         rf"{_DOOR}(?:[-—#]{_DOOR})*|"
         r"[零〇幺一二三四五六七八九]{3,4})")
# A place inside a place (红旗街道长青里14号楼, 东风路幸福小区3栋): the inner one only when a door follows it.
# "幸福小区那个三号楼二单元五零一" (voice input): a filler between the estate and its building, left out of the address
_FILLER = rf"(?:那个|这个|就是|那|嗯|呃)\s*(?={_NUMBER}\s*(?:号楼|栋|幢|号院|单元))"
_ADDRESS = re.compile(rf"[\u4e00-\u9fa5A-Za-z0-9]{{1,14}}?{_PLACE}"
                      rf"(?:[\u4e00-\u9fa5A-Za-z0-9]{{0,8}}?{_PLACE}(?=\s*{_UNIT}))?(?:\s*{_FILLER})?(?:\s*{_UNIT})*")
_FILLER_IN = re.compile(rf"(?<=[\u4e00-\u9fa5])\s*{_FILLER}")
# 6号楼 / 3栋2单元501 / 7栋302: the door without the estate, an address only where one was asked for.
_UNITS_ONLY = re.compile(rf"(?:{_NUMBER}\s*(?:号楼|栋|幢|号院|单元|楼|层|室|户|座))(?:\s*{_UNIT})*")
_ROOM_ONLY = re.compile(r"^[0-9]{3,4}(?:室|号)?$")
# 我住3号楼2单元501: 住 after 我 labels an address only when a building or a room number follows (我住院了 is none)
_LABEL = (r"(?:地址|住址|家住|住在|家在|"
          rf"(?:我|俺|咱)住(?=\s*(?:[0-9]|{_NUMBER}\s*(?:号楼|栋|幢|号院|单元|号))))")
# What may stand between the label and the address: 地址不对 是… / 地址错了 应该是… / 地址改成…
_CORRECTION_WORDS = (r"(?:\s*(?:不对|错了|写错了|说错了|搞错了|有误|不是这个|不是那个|不是|改一下|重新说|换一下|"
                     r"改成|改为|改到|换成|换到|应该是|应该|是|为|在|要|呢|吧|啊|哈|的话|:|：|,|，)\s*)*")
_LABELLED = re.compile(rf"{_LABEL}{_CORRECTION_WORDS}\s*([^\s，。！？,!?;；\n\x00][^，。！？,!?;；\n\x00]*)")
# Where an address ends inside a longer clause: the phone or the time that people say next.
_VALUE_END = re.compile(r"(?:电话|手机|号码|联系|时间|明天|后天|今天|上午|下午|晚上|中午)")
_LEADING = re.compile(r"^(?:我们家|我家|我|家)?(?:就)?(?:住在|住|在|是|到|去|来)+")
# Words before an estate's name that are no part of it: 一趟就是上午八点吧我住|幸福小区.
_PREFIX_MARKERS = re.compile(r"(?:我们家|我家|住在|家在|这个|那个|住|在|到|去|来|吧|了|啊|呀|呢|嘛|是|就|我|点|半)")
_TRAILING = re.compile(r"[\s吧啊呀呢哈哦嘛了的]+$")
_MIN_LENGTH = 3
MAX_SPAN = 60  # no address is longer: a labelled "address" past it is a story (住在…已经好几年了…), read for its place
# What a place word (弄, 道) ends without being a place: a question (怎么弄, 咋弄), a word (下水道, 知道, 味道), or 弄
# as a verb (谁能来给弄弄, 帮我弄一下): a lane (弄) is numbered, 长乐路123弄.
_NOT_A_PLACE = re.compile(r"怎么|咋|怎样|如何|什么|啥|哪|(?:下水|水|管|知|味|难|频|通)道$|"
                          r"(?<![0-9一二三四五六七八九十百零〇])弄$")


@dataclass(frozen=True, slots=True)
class Address:
    """Where the service happens: the resident's words, and coordinates from a location message."""

    text: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """An address in a text, and where it was said (offsets in the width-folded text, label included)."""

    text: str
    start: int
    end: int


def extract_address(text: str, loose: bool = False) -> str | None:
    """The address part of ``text`` as the resident wrote it (width-folded), or None.

    ``loose``: the text answers "what is the address?", so a door without an estate ("6号楼") counts too.
    """
    normaliser = default_normaliser()
    folded = normaliser.fold(text)
    found = find_address(folded, loose)
    if found is None:
        return None
    # the letters of a door as written (12楼B, B座), not lower-cased as the matcher reads them
    cased = normaliser.simplify(unicodedata.normalize("NFKC", text))
    at = folded.find(found.text, found.start)
    if len(cased) == len(folded) and at >= 0 and cased[at:at + len(found.text)].lower() == found.text:
        return cased[at:at + len(found.text)]
    return found.text


def find_address(folded: str, loose: bool = False) -> Found | None:
    """The address in an already folded text, with its span."""
    labelled = _LABELLED.search(folded)
    if labelled:
        value, end = _value(folded, labelled.start(1), labelled.end(1))
        place = _ADDRESS.match(value)
        if place is not None and len(place.group(0)) >= _MIN_LENGTH:  # 住在白莲小区十栋…|已经好几年了: the span
            cut = _TRAILING.sub("", place.group(0))
            named = cut[_name_start(cut, 0, len(cut)):]
            value, end = _LEADING.sub("", named).strip(), labelled.start(1) + len(cut)
        if 2 <= len(value) <= MAX_SPAN:
            return Found(value, labelled.start(), end)
    best: Found | None = None
    for match in _ADDRESS.finditer(folded):
        start = _name_start(folded, match.start(), match.end())
        candidate = _FILLER_IN.sub("", _LEADING.sub("", folded[start:match.end()]).strip())
        if _NOT_A_PLACE.search(candidate):
            continue
        if len(candidate) >= _MIN_LENGTH and (best is None or len(candidate) > len(best.text)):
            best = Found(candidate, start, match.end())
    if best is not None or not loose:
        return best
    units = _UNITS_ONLY.search(folded)
    if units:
        return Found(units.group(0).strip(), units.start(), units.end())
    room = _ROOM_ONLY.match(folded.strip())
    return Found(room.group(0), 0, len(folded)) if room else None


# A door: the building, unit, room or house of an address (白莲小区 alone has none; 朝阳路12号, 村东头第三家 do).
_HAS_DOOR = re.compile(rf"{_NUMBER}\s*(?:号楼|栋|幢|号院|号|单元|门|楼|层|室|户|组|座|排|期)|[0-9]{{1,5}}|"
                       r"东头|西头|南头|北头|村口|路口|[东南西北中](?:边户|户|边|侧)|第[一二三四五六七八九十0-9]+(?:家|户|间)")


def has_door(address: str) -> bool:
    """Whether an address says the building or door, not only the estate or street ("白莲小区": no)."""
    return bool(_HAS_DOOR.search(address))


# What an answer to "what is the address?" must show to be taken as one when no estate or door was read in it: a place
# word (村, 苑, 路, 号, 单元 ...) or a building or room number; "咋还没来 催一下" / "谢谢 那现在怎么办" show neither.
_LOOKS_LIKE = re.compile(r"小区|花园|家园|公寓|新村|社区|村|苑|大厦|宿舍|路|街|巷|弄|胡同|院|号|栋|幢|楼|单元|室|"
                         r"[0-9]|[零〇一二三四五六七八九十两]+\s*(?:层|户|座|排|组)")
_ASKS_SOMETHING = re.compile(r"怎么|咋|啥|什么|为什么|吗|呢$|[?？]|多久|多少|哪")


def looks_like_address(text: str) -> bool:
    """Whether words said at the address question could be an address the matcher did not read (a place word or a
    number in it, and no question: "怎么弄" has 弄 and is none)."""
    return bool(_LOOKS_LIKE.search(text)) and not (_ASKS_SOMETHING.search(text) and not re.search(r"[0-9]", text))


def names_place(text: str) -> bool:
    """Whether a text names an estate or a street (小区, 路, 村 ...), not only a door ("3栋")."""
    return bool(re.search(_PLACE, text))


def _value(text: str, start: int, end: int) -> tuple[str, int]:
    """A labelled address up to where the next thing said begins (a phone, a time, a new clause)."""
    stop = _VALUE_END.search(text, start, end)
    if stop and stop.start() > start:
        end = stop.start()
    for space in re.finditer(r"\s+", text[start:end]):
        after = start + space.end()
        if not re.match(_UNIT, text[after:end]):
            end = start + space.start()
            break
    value = _TRAILING.sub("", text[start:end])
    return value.strip(), start + len(value)


def _name_start(text: str, start: int, end: int) -> int:
    """Where an estate's name begins: after the last word in front of it that is no part of a name."""
    place = re.search(_PLACE, text[start:end])
    if place is None:
        return start
    name_end = start + place.start()
    cut = start
    for marker in _PREFIX_MARKERS.finditer(text, start, name_end):
        if name_end - marker.end() >= 2:
            cut = marker.end()
    return cut


# Levels of a door, outermost first: a correction that names one keeps what the old address said above it (a
# compound, 88号院, holds the buildings: "是6号楼" of 白莲路88号院5号楼 is 白莲路88号院6号楼).
_LEVELS: tuple[tuple[str, str], ...] = (("yard", r"号院"), ("building", r"号楼|栋|幢|座"), ("unit", r"单元"),
                                        ("room", r"室|户|层|楼"))


def merge_address(old: str | None, new: str, keep_lower: bool = False) -> str:
    """A correction that names only part of the door ("6号楼", "2单元301") keeps the estate of the old address.

    ``keep_lower``: the old address's door below the parts named is kept too (an order's address corrected after it
    was submitted: "是3号楼" of 幸福小区2号楼1单元302 -> 幸福小区3号楼1单元302)."""
    if not old or re.search(_PLACE, new):
        return new
    place = _ADDRESS.search(old)
    head_match = re.search(_PLACE, old)
    if place is None or head_match is None:
        return new
    head = old[: head_match.end()]
    rest = old[head_match.end():]
    new_level = _first_level(new)
    if new_level is None:
        return head + new
    kept = ""
    for name, words in _LEVELS:
        if name == new_level:
            break
        m = re.search(rf"{_NUMBER}\s*(?:{words})", rest)
        if m:
            kept += m.group(0)
    return head + kept + new + (_below(rest, new) if keep_lower else "")


def _below(rest: str, new: str) -> str:
    """What of the old door (``rest``, after the estate) lies below the innermost level ``new`` names: "1单元302" of
    "2号楼1单元302" below a new "3号楼"; "" when ``new`` names the room or the old door has no such level."""
    names = [name for name, words in _LEVELS if re.search(rf"{_NUMBER}\s*(?:{words})", new)]
    if not names or names[-1] == "room" or re.search(r"[0-9]{3,4}\s*$", new):
        return ""
    words = dict(_LEVELS)[names[-1]]
    m = re.search(rf"{_NUMBER}\s*(?:{words})", rest)
    return rest[m.end():].strip() if m else ""


def _first_level(text: str) -> str | None:
    for unit in re.finditer(rf"{_NUMBER}\s*({'|'.join(w for _n, w in _LEVELS)})", text):
        for name, words in _LEVELS:
            if re.fullmatch(words, unit.group(1)):
                return name
    return "room" if re.match(r"^[0-9]{3,4}", text) else None


def address_from_location(label: str, latitude: float, longitude: float) -> Address:
    """A WeChat location message: its label (may be empty) and coordinates."""
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise ValueError(f"coordinates out of range: {latitude}, {longitude}")
    return Address(text=label.strip() or f"{latitude:.5f},{longitude:.5f}", latitude=latitude, longitude=longitude)


# The community (小区) an address is in, for the broadcast segment "community:<name>": an estate's name up to its
# estate word (幸福小区, 阳光花园小区, 光明新村), else the street's (朝阳路); never a building, unit or room.
_ESTATE = r"(?:小区|花园|家园|公寓|大院|新村|社区|村|苑|庭|城|大厦|广场|宿舍)+"
_STREET = r"(?:大道|大街|胡同|路|街|巷|弄)"
# what ends the words before a name: a number, a 号, a street
_BEFORE_NAME = re.compile(r"[0-9一二三四五六七八九十两]+\s*号|[0-9]|[^\u4e00-\u9fa5A-Za-z]|"
                          r"街道|大道|大街|胡同|路|街|巷|弄")
# 广东省深圳市南山区 / 北京市朝阳区 in front of the name: administrative levels, no part of it
_DIVISIONS = re.compile(r"^(?:[\u4e00-\u9fa5]{2,7}?(?:省|自治区|市|(?<![小社])区|县|镇|乡))+")
_COMMUNITY_LENGTH = 20


def community_of(address: str | None) -> str | None:
    """The 小区 of an address as a broadcast segment names it (幸福小区3栋2单元501 → 幸福小区; 朝阳路12号幸福小区 →
    幸福小区; 北京市朝阳区阳光花园小区 → 阳光花园小区; 朝阳路12号 → 朝阳路), or None when it names none (6号楼,
    coordinates). Stored in plaintext next to the encrypted address, so it is no more than an estate or a street."""
    if not address:
        return None
    text = _DIVISIONS.sub("", default_normaliser().fold(address).strip())
    for suffix in (_ESTATE, _STREET):
        for place in re.finditer(suffix, text):
            cut = 0
            for marker in _BEFORE_NAME.finditer(text, 0, place.start()):
                cut = marker.end()
            name = _LEADING.sub("", text[cut:place.end()])
            if len(name) > len(place.group(0)):
                return name[-_COMMUNITY_LENGTH:]
    return None
