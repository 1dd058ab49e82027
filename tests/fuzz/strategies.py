"""What the fuzzers send: messages as residents and volunteers write them (typos, dialect, voice run-ons, commands
with odd numbers), glued to noise (emoji, full-width and control characters, XML's own syntax, walls of digits)."""

from __future__ import annotations

from hypothesis import strategies as st

# what people really send (pinyin typos 礼发/配诊, dialect 啥子/咋整, no punctuation, voice run-ons, indirect asks)
SAID = (
    "你好", "在吗", "菜单", "帮助", "?", "1", "2", "3", "第一个", "选3", "对", "确认", "嗯嗯", "要得",
    "算了不要了", "取消", "明天上午来给我礼发", "我妈腿脚不好想找人配诊去医院", "水管漏水了咋整",
    "家里灯泡坏了啥子时候能来人", "那个就是我想问一下嗯能不能来个人帮我修一下那个洗衣机它老是响",
    "帮我家老头子理个发 他走不动", "明早九点", "下礼拜三下午", "越快越好", "幸福小区3栋2单元501",
    "幺三八一二三四五六七八", "13812345678", "五颗心", "满意", "★★★★", "张师傅手艺真好", "注册志愿者",
    "我要当志愿者", "积分", "我的订单", "我的任务", "兑换", "活动", "订阅活动提醒", "退订", "人工", "转人工",
    "接单 12", "接单十二", "我接 3 号单", "完成 1 1.5", "完成了 2", "退单 4", "取消订单 3", "那个理发的不要了",
    "我的存折", "时长支付 1", "核销 ABC123 2", "谢谢你", "再见", "你是谁", "男", "女", "65岁",
    "110101199003077777", "周末有空", "上午", "同意", "张三", "家里有人晕倒了", "着火了", "煤气味好大",
)
NOISE = (
    "", " ", "\n", "，", "。。。", "！！", "😀", "🙏🙏", "１２３", "①", "²", "٣", "〇", "\u3000", "\t", "\u200b",
    "]]>", "<![CDATA[", "</Content>", "&amp;", "<xml>", "'", '"', "\\", "%s", "{0}", "${x}", "\u202e", "ｈｅｌｌｏ",
    "黴", "國",
)
NUMBERS = st.one_of(st.integers(min_value=-10, max_value=10**25).map(str), st.sampled_from(["9" * 20, "9" * 400,
                    "9" * 5000, "0" * 30 + "1", "一" * 50, "十百", "1.5", "1e9", "-3", "NaN", "inf"]))
COMMAND_WORDS = st.sampled_from(["接单", "完成", "退单", "取消订单", "时长支付", "捐赠", "核销 12345678", "选", "第",
                                 "我接", ""])

# text XML can carry (the simulator wraps it in CDATA; XML 1.0 refuses most control characters and surrogates)
_XML_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufffe\uffff",
                          min_codepoint=0x20)


def said() -> st.SearchStrategy[str]:
    """One message: a real one, a command with an odd number, random text, or pieces of these glued together."""
    piece = st.one_of(st.sampled_from(SAID), st.sampled_from(NOISE), st.text(_XML_CHAR, max_size=40))
    glued = st.lists(piece, min_size=1, max_size=4).map("".join)
    return st.one_of(glued, command()).map(lambda t: t[:6000])


def command() -> st.SearchStrategy[str]:
    """A command with one or two numbers, any numbers: 接单 12, 完成 3 1.5, 退单 9…9 家里有事."""
    second = st.one_of(st.just(""), NUMBERS, st.sampled_from(["小时", "家里有事", "个半小时", "号"]))
    return st.builds(lambda w, sep, n, m: f"{w}{sep}{n}{sep}{m}".strip(), COMMAND_WORDS, st.sampled_from([" ", ""]),
                     NUMBERS, second)


def conversation(max_turns: int = 8) -> st.SearchStrategy[list[str]]:
    return st.lists(said(), min_size=1, max_size=max_turns)


ROLES = st.sampled_from([frozenset(), frozenset({"volunteer"}), frozenset({"staff"}),
                         frozenset({"volunteer", "merchant"})])
