"""Rule families added for indirect talk (intents.emergency, tuned on tests/data/v5/emergency_v5_tune.tsv): self-harm
told by the means made ready (a rope tied up, pills saved, the gas on behind shut windows), a farewell (going first,
"I'll be gone", nobody to feed the cat), the edge (outside the balcony, the railway), and crime in progress (a prying
tool, somebody inside or climbing in, coercion, an impostor at the door, a scam under way). Each family with the
look-alikes it must leave alone. All sentences written fresh here, none copied from the v5 files."""

from __future__ import annotations

import pytest

from intents.emergency import detect_emergency, triage


def _kind(text: str) -> str | None:
    found = detect_emergency(text)
    return found.kind if found else None


@pytest.mark.parametrize("text", [
    "绳子我已经系在阳台的横梁上了 就差最后一步",
    "我把绳套挂好了 谁也别来找我",
    "攒了大半年的安眠药 今天全倒出来了",
    "药我已经存够了 不想再拖累我闺女",
    "我把燃气打开了 窗户也都关死了 就这样吧",
    "我在厕所把门反锁了 手里拿着刀片",
    "他拿着那瓶药说要一口气全吞下去",
    "我刚喝了药 你们别救我",
    "吃多少片降压药会死 我想知道",
    "我打算今晚把自己了断",
    "他刚才拿玻璃割伤了自己 一直在哭",
    "我只想睡过去不再醒 什么都不想管了",
    "反正也没人在乎我是死是活",
    "我就是多余的 谁都嫌我",
    "最后跟大家说声谢谢 这些年辛苦你们了 我先走一步 存折在抽屉里",
    "我走了以后孩子们就不用再为我花钱了",
    "闺女 我以后就不在了 你要好好的",
    "我妈刚才打电话说她坐在楼顶边上 不想下来",
    "我在铁轨上躺着 等火车来",
    "老伴儿 我这就来陪你了",
    "我姥爷这日子没法过了 把绳子翻出来了 我们正在劝",
])
def test_indirect_self_harm_is_self_harm(text: str) -> None:
    assert _kind(text) == "self_harm", triage(text)


@pytest.mark.parametrize("text", [
    "晾衣绳系在阳台上了 能不能来人帮我换根新的",
    "常用的降压药我存够了 这个月不用再去配药",
    "燃气灶开着炖汤 门窗都关好了 怕冷",
    "孩子说要一次把这袋糖全吃完",
    "以前看新闻说有人吃多了安眠药 怎么防止老人误吃",
    "我要搬去女儿家了 以后不能陪你们跳舞了 大家保重",
    "我下周就不在这个小区住了 谢谢大家照顾",
    "我想报名心理援助志愿者 学学怎么劝想不开的人",
    "累死了 我先走一步回家做饭了",
    "火车道旁边那条路灯坏了 晚上走路黑",
    "我孙女说这道题太难了 她都不想活了 哈哈",
    "我想跟我妈一起去超市买点菜",
])
def test_self_harm_look_alikes_are_quiet(text: str) -> None:
    assert detect_emergency(text) is None, triage(text)


@pytest.mark.parametrize("text", [
    "有人拿撬棍在弄我家防盗门",
    "一个男的刚从窗户爬进来了 我躲在衣柜里",
    "客厅里有个不认识的人在翻东西 我不敢出去",
    "我把卧室门顶住了 外面有人在走动",
    "两个人堵在我爸家里 逼他说出银行卡密码",
    "网约车司机不走大路 一直往山里开 不让我下车",
    "有个男的在女厕所外面偷拍",
    "我在地铁上被一个男的摸了 他还在旁边",
    "他喝了酒刚才打了我 现在还在砸东西",
    "我爸拿着棍子追着我妈打",
    "有人砸了我家窗户 外面还在骂",
    "我家的狗被人下了药 那个人还在院子外面转",
    "奶奶在跟一个假警察视频 对方让她别告诉儿女",
    "我妈把验证码告诉了一个说是客服的人 现在还在打电话",
    "我爸非要往一个陌生账户转二十万 拦都拦不住",
    "门口有个人一直蹲在我家门口 敲两下就停",
    "有个自称社区的人在敲门 可社区说根本没派人",
    "外面有人冒充物业要进来检查 就是不走",
    "我妈被一个男的拽着上了一辆面包车",
    "本来想找人调解 结果他现在又冲过来打我了",
])
def test_crime_in_progress_is_crime(text: str) -> None:
    assert _kind(text) == "crime", triage(text)


@pytest.mark.parametrize("text", [
    "怎么分辨假警察打来的电话",
    "以前我家进过贼 现在想装个监控",
    "家里老进贼 有没有靠谱的锁推荐",
    "有人冒充我孙子打电话借钱 我没上当 提醒大家一下",
    "说我儿子出车祸要交钱 我打过去他好好的 原来是骗子",
    "孙子不听话 我打了他一下 他哭了",
    "客厅里有个不认识的人 是物业派来修水管的",
    "小区有防骗讲座吗 我想带我妈去听听",
    "快递员一直站在门口等我签收",
])
def test_crime_look_alikes_are_quiet(text: str) -> None:
    assert detect_emergency(text) is None, triage(text)


@pytest.mark.parametrize(("text", "kind"), [
    ("一氧化碳报警器一直响 我妈说头晕想吐", "gas"),
    ("老人烧着炉子睡的 早上发现嘴唇樱桃红", "gas"),
    ("电热毯着了 被子冒烟了", "fire"),
    ("我爷爷身子都凉了 叫不动", "medical"),
    ("我爸突然抽筋倒地 牙咬得紧紧的", "medical"),
    ("院子里灌了水 水往屋里漫 我奶奶在床上下不来", "water"),
    ("洗手池下面的水管断了 毛巾都堵不住水", "water"),
    ("楼上水管爆了 水从我家吊灯往下流 我怕漏电", "water"),
])
def test_other_kinds_told_indirectly(text: str, kind: str) -> None:
    assert _kind(text) == kind, triage(text)
