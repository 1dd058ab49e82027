"""Text normalisation: width folding, traditional→simplified, emoji, punctuation and filler words."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from opencc import OpenCC

# Dialect and colloquial words rewritten to standard Mandarin before matching. Longest first so
# that 咋个 wins over 咋. 额 is only "I" at the start of a clause (elsewhere it is 金额, 额头).
DIALECT_REWRITES: tuple[tuple[str, str], ...] = (
    ("咋个", "怎么"),
    ("咋整", "怎么办"),
    ("咋办", "怎么办"),
    ("咋弄", "怎么弄"),
    ("咋", "怎么"),
    ("啥子", "什么"),
    ("啥", "什么"),
    ("俺们", "我们"),
    ("俺", "我"),
    ("偶们", "我们"),
    ("阿拉", "我们"),
    ("咱们", "我们"),
    ("咱家", "我家"),
    ("咱", "我"),
    ("莫得", "没有"),
    ("冇", "没有"),
    ("晓得", "知道"),
    ("明儿个", "明天"),
    ("明儿", "明天"),
    ("明个儿", "明天"),
    ("明个", "明天"),
    ("今个儿", "今天"),
    ("今个", "今天"),
    ("今儿个", "今天"),
    ("今儿", "今天"),
    ("后儿", "后天"),
    ("礼拜天", "星期日"),
    ("礼拜日", "星期日"),
    ("礼拜", "星期"),
    ("周日", "星期日"),
    ("周天", "星期日"),
    # Sichuan 屋头/打整/娃儿, northern 瞅/闺女, and 弄不来 "cannot manage"
    ("屋头", "家里"),
    ("打整", "收拾"),
    ("娃儿", "孩子"),
    ("瞅瞅", "看看"),
    ("瞅一下", "看一下"),
    ("闺女", "女儿"),
    ("弄不来", "不会弄"),
    ("整不来", "不会弄"),
    ("搞不来", "不会弄"),
    # Cantonese 嚟 "come", 快啲 "quicker", 水喉 "water pipe/tap", 整水喉 "fix the pipe", 冲凉 "shower"
    ("整下水喉", "修下水管"),
    ("整水喉", "修水管"),
    ("水喉", "水管"),
    ("快啲", "快点"),
    ("嚟", "来"),
)
# 额/偶 meaning "I": only at the start of the text or a clause, and before a verb-like word.
_E_AS_I = re.compile(r"(^|[\s,.!?;:，。！？；：、])[额偶](?=[想要家们是的一需能也都得在去来们给这那])")

# 不 closing a clause after a verb or noun (能上门不, 行不, 有会推子的志愿者不) is a spoken 吗; a plain no
# (我不, 也不, 还不) stays.
_BU_AS_MA = re.compile(
    r"(?<=[\u4e00-\u9fff])(?<![也都还就并我你他她它要可绝而却又偏才])不(?=$|[\s,.!?;:，。！？；：、])"
)

# Separable verb-object words (离合词) said with a measure word between verb and object: 理个头 is 理头, 洗个澡 is
# 洗澡, 聊个天 is 聊天. Only these pairs: a 个 before a noun of its own (修个东西, 借个梯子) stays, since catalogue
# keywords such as 修个 and 借个 stand for "the verb with some object".
SEPARABLE_WORDS: tuple[str, ...] = (
    "理发", "理头", "剃头", "推头", "剪头", "剪发", "铰头", "绞头", "洗头", "染头", "染发", "烫头", "烫发", "吹头",
    "刮脸", "修面", "洗澡", "擦澡", "搓澡", "泡脚", "洗脚", "修脚", "聊天", "谈心", "散步", "遛弯", "帮忙", "跑腿",
    "看病", "拿药", "开药", "挂号", "打针", "输液", "补牙", "拔牙", "看牙", "搭车", "打车", "买菜", "做饭", "送饭",
    "吃饭", "搬家", "开锁", "换锁", "把脉", "拔罐", "按摩", "扫地", "拖地", "擦窗",
)
_SEPARATED = re.compile("|".join(f"{word[0]}(?:个|一个)(?={word[1:]})" for word in SEPARABLE_WORDS))

# Voice-transcript fillers and sentence particles that carry no meaning for matching.
FILLER_PATTERN = re.compile(
    r"嗯+|呃+|唉+|哎+呀?|诶+|欸+|那个那个|就是说|然后呢|这个这个|那个|这个|就是|怎么说呢|"
    r"[啊呀吧呢哈嘛咧嘞哩噻哦喔咯啦]+(?=$|[\s,.!?;:，。！？；：、])"
)
_SPACES = re.compile(r"\s+")


def fold_width(text: str) -> str:
    """Full-width letters, digits and punctuation to their ASCII forms (NFKC), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def strip_symbols(text: str) -> str:
    """Replace emoji, punctuation and other symbols with single spaces."""
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        # L* letters (CJK is Lo), N* digits; everything else (P*, S*, Z*, C*, M*) separates words.
        kept.append(ch if category[0] in "LN" else " ")
    return _SPACES.sub(" ", "".join(kept)).strip()


def _unchanged_test(converter: OpenCC) -> Callable[[str], bool] | None:
    """A quick exact test that `converter` leaves a text as it is, or None if its dictionaries cannot be read.

    The converter only rewrites where one of its dictionaries' keys occurs in the text: a text with none of the
    one-character keys (traditional characters) can only change where a longer key made of other characters occurs
    (for t2s three: 沈默, 沈船, 有序). Most messages are already simplified; the converter's own lookup costs
    ~0.1 ms a call in pure Python and the command parsers call it on every prefix of a message."""
    try:
        converter.convert("")  # reads its dictionaries
        dictionaries: list[dict[str, str]] = []
        pending: list[Any] = list(converter._dict_chain_data)
        while pending:
            item = pending.pop()
            if isinstance(item, tuple):
                dictionaries.append(item[2])
            else:
                pending.extend(item)
    except (AttributeError, IndexError, TypeError):  # another version of opencc: always convert
        return None
    singles = frozenset(k for d in dictionaries for k in d if len(k) == 1)
    longer = sorted({k for d in dictionaries for k in d if len(k) > 1 and singles.isdisjoint(k)})
    if not longer:
        return singles.isdisjoint
    others = re.compile("|".join(map(re.escape, longer)))
    return lambda text: singles.isdisjoint(text) and others.search(text) is None


@dataclass(frozen=True)
class Normaliser:
    """Normalises resident text; holds the traditional→simplified converter (built once)."""

    _t2s: OpenCC = field(default_factory=lambda: OpenCC("t2s"), repr=False)
    _unchanged: Callable[[str], bool] | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_unchanged", _unchanged_test(self._t2s))

    def simplify(self, text: str) -> str:
        """Traditional → simplified Chinese."""
        if self._unchanged is not None and self._unchanged(text):
            return text
        return str(self._t2s.convert(text))

    def fold(self, text: str) -> str:
        """Width-folded, lower-case, simplified text with punctuation kept (for the parsers)."""
        return self.simplify(fold_width(text))

    def rewrite_dialect(self, text: str) -> str:
        """Dialect words to standard Mandarin (俺→我, 咋→怎么, 明儿→明天 ...), and a question's final 不
        (能上门不, 有人教不) to 吗."""
        text = _E_AS_I.sub(lambda m: m.group(1) + "我", text)
        text = _BU_AS_MA.sub("吗", text)
        for old, new in DIALECT_REWRITES:
            if old in text:
                text = text.replace(old, new)
        return text

    def for_matching(self, text: str) -> str:
        """Text for the intent matcher: folded, dialect rewritten, without fillers or symbols, 理个头 as 理头."""
        text = self.rewrite_dialect(self.fold(text))
        text = strip_symbols(text)
        text = FILLER_PATTERN.sub(" ", text)
        text = _SEPARATED.sub(lambda m: m.group(0)[0], text)
        return _SPACES.sub(" ", text).strip()


@cache
def default_normaliser() -> Normaliser:
    """A shared normaliser (building the converter reads its dictionaries once per process)."""
    return Normaliser()


def normalise(text: str) -> str:
    """Shortcut for ``default_normaliser().for_matching(text)``."""
    return default_normaliser().for_matching(text)
