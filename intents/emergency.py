"""Emergency triage: does a resident's message report an emergency happening now, and of what kind.

Pure and deterministic (no I/O, no clock). The bot calls :func:`detect_emergency` on every message
before anything else; a hit means "stop the normal dialogue and give the safety answer" (call
120/119/110, open the windows, a staff alert ...), so recall matters more than precision, but
residents write 气死我了, 饿死了, 燃气费怎么交 all day and must not be alarmed.

How a message is scored:

1. Fold it with :mod:`intents.normalise` (full width, traditional→simplified, dialect 俺/咋整,
   symbols), drop voice fillers and clause-final particles (救命啊 → 救命; unlike the matcher's
   normaliser 就是 stays), then drop the spaces: voice transcripts have no punctuation anyway.
2. Rewrite pinyin-input typos of a few key words (摔到→摔倒, 云倒→晕倒, 着伙→着火, 煤汽→煤气):
   a window whose characters read like a key word, shares at least one character with it and
   is not an everyday word that reads the same (没气, 时候, 水灌) becomes the key word.
3. Neutralise idioms and everyday words that contain cue characters: X死了 as an intensifier
   (气死我了, 笑死, 想死你了), X得要命/不行, 跳楼价, 救命恩人, 点不着火, 火锅, 油烟机, 手机进水,
   跟踪订单, 燃气报警器, 没摔倒 ...
4. Cues per kind (:data:`CUES`), each with a weight: 1 a hint that needs urgency (烟味 + 快),
   2 a cue that fires on its own but yields to any guard (我妈摔倒了), 3 a strong cue that also
   survives a service request when the message is urgent, 4 a critical cue that survives a
   service request or a knowledge question (燃气灶有味道，想找人来查查). A second cue of the same
   kind elsewhere in the text adds one.
5. Urgency adds 1 (快/赶紧/怎么办/不得了/出事/害怕) or 2 (救命/快来人/SOS/打120).
6. Guards (:data:`GUARDS`) subtract: hypothetical, prevention, learning, dreams and drills
   (万一/如果/预防/想学/讲座/培训/梦见/演习) -4, news, hearsay and fiction (新闻/听说/电视剧/游戏) -4,
   resolved (没事了/已经好了/修好了/灭了) -4, the past (上次/去年/昨天) -3 unless the present is named
   (现在/又/还在) +3, experience (摔过/中风过) -3 unless it happened again (又/这次) +3, habit
   (经常/容易) -2, not urgent (不急/有空/不严重) -3, a service request (想找人/预约/检查/买/交费/复查)
   -2, a knowledge question (有哪些/怎么判断/怎么处理/要不要扶) -3 but only -1 about one's own family,
   an explanation (怎么回事/因为) -2, handled already (已经送医院/已经报警) -2, a forecast (预报/预警) -2,
   all well (家里还好/拖干净了/抓住了) -3, coping (自己能做) -2, estate planning (遗嘱/留给) -3, and
   everyday hyperbole (这道题/太贵了) -3.
7. A kind fires at a total of 2 or more; the highest total wins, ties go by :data:`PRIORITY`.
   A bare call for help (救命, 快来人, SOS) without any kind cue is "medical" (by far the most
   common emergency of people living alone), "fire" with 119 and "crime" with 110/报警.

:func:`triage` returns the working (hits, guards, scores) for logs and the benchmark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from intents.matcher import reading_table
from intents.normalise import default_normaliser, strip_symbols

KINDS: tuple[str, ...] = ("medical", "fire", "gas", "crime", "self_harm", "water")
# Tie-break when two kinds score the same: the cause before its consequence (煤气中毒 is gas,
# 被人打了头在流血 is crime, 吃了很多安眠药 is self_harm), the most dangerous first.
PRIORITY: tuple[str, ...] = ("self_harm", "fire", "gas", "crime", "medical", "water")
THRESHOLD = 2
MAX_CHARS = 4000  # longer messages are cut: emergencies are short, and this bounds the latency

HINT, CUE, STRONG, CRITICAL = 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Emergency:
    """An emergency reported in a message: its kind (one of :data:`KINDS`) and the words that showed it."""

    kind: str
    cue: str


@dataclass(frozen=True, slots=True)
class Cue:
    """Words that point to one kind of emergency, with how much they count on their own."""

    kind: str
    weight: int
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None  # the cue does not count in a message that matches this


@dataclass(frozen=True, slots=True)
class Guard:
    """Words that make a message read as not happening now (asking, learning, past, news ...)."""

    name: str
    weight: int
    pattern: re.Pattern[str]
    only_with: str | None = None  # counts only when this other guard also matched (现在 answers 上次)


@dataclass(frozen=True, slots=True)
class Triage:
    """The working behind one decision (for logs, tests and the benchmark)."""

    text: str  # the message as the cues saw it
    hits: tuple[tuple[str, int, str], ...]  # (kind, weight, matched words); kind "help" for bare calls
    guards: tuple[str, ...]
    urgency: int
    scores: tuple[tuple[str, int], ...]  # per kind with a hit, best first
    emergency: Emergency | None


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# -- vocabulary ----------------------------------------------------------------------------------

# People a message is about. 俺 is already 我 (intents.normalise).
PERSON_WORDS = (
    r"我|他|她|人|妈|爸|娘|爹|伴|老头子?|老太太?|老公|老婆|爱人|媳妇|丈夫|妻子|奶奶|爷爷|外婆|外公|姥姥|姥爷|"
    r"婆婆|公公|孩子|孙子|孙女|儿子|女儿|大爷|大妈|阿姨|叔叔|邻居|老人家?|老爷子|病人|老汉|老奶奶|老大爷|老太婆|老婆子|老头儿|"
    r"小孩|小朋友|娃|宝宝|父亲|母亲|那口子|岳父|岳母|丈母娘|亲家"
)
PERSON = r"(?:" + PERSON_WORDS + r")"
OTHERS = r"(?:" + PERSON_WORDS.removeprefix("我|") + r")"  # 我晕了 is as often "oh my" as a faint
# Somebody the writer worries about (not a volunteer or courier, not the writer's grandchildren busy at work).
OTHER_PERSON = (
    r"(?:老人|大爷|大妈|奶奶|爷爷|阿姨|叔叔|邻居|妈|爸|娘|爹|老伴|独居|一个人住|一个人在|婆婆|公公|外婆|外公|姥姥|姥爷|"
    r"老太太|老爷子|对门|楼上|楼下|隔壁|老头)"
)
DAYS = (
    r"(?:好几天|好多天|几天|[一二两三四五六七八九十\d]+(?:天|日|个?星期|周|个?礼拜)|一整天|整天|一天一夜|好久|半个月|一个多?月|"
    r"从昨天|昨天到现在|一直)"
)
NOT_SEEN = (
    r"(?:没(?:有)?(?:见|看到|看见|见着|见到|出门|出来|露面|开门|开过门|下楼|动静|人应|接电话|回电话|人接|接|联系上|人影|亮灯|开灯)|"
    r"没回(?:我)?(?:的)?(?:消息|电话|信息|微信)|不接电话|都不接|也不接|一直不接|(?:电话|手机).{0,4}(?:不接|没人接|打不通|关机)|"
    r"打不通|联系不上|联系不到|失联|找不到人|(?:敲|叫|喊)门.{0,4}(?:没人|不应|不开|没反应|没动静)|门.{0,2}敲不开|没人(?:应|开门|接)|"
    r"(?:报纸|牛奶|快递|外卖).{0,4}(?:堆|没拿|没收)|没人(?:见|看到|看见)|没见过)"
)
FALL = (
    r"(?:摔倒|跌倒|磕倒|摔跤|摔了一跤|跌了一跤|摔了?(?:个|一个)?(?:跟头|跟斗)|滑倒|栽倒|绊倒|跌跤|摔伤|摔断|摔在地|摔地上|"
    r"跌在地|跌坐在地|坐在地上|摔在|摔下(?:来|去|床|楼)|跌下(?:来|去)|滚下(?:来|去)|掉下床|从.{1,6}(?:摔|跌|掉|滚)下(?:来|去))"
)
STUCK = (
    r"(?:起不来|爬不起来|站不起来|起不了身|起不了床|动不了|动弹不得|扶不起来|扶不动|抬不动|拉不起来|不能动|不会动|"
    r"起不来床|站不住|站不稳)"
)
GAS_SOURCE = (
    r"(?:煤气|燃气|天然气|液化气|气罐|气瓶|管道气|阀门|气阀|燃气灶|煤气灶|燃气表|煤气表|燃气管|煤气管|天然气管)"
)
NOT_A_PERSON_OUT_OF_BREATH = r"(?:罐|瓶|打火机|轮胎|车胎|气球|充气|打气|煤气|燃气|液化气)"
SMOKE_FROM_COOKING = r"烧烤|烤肉|烧纸|烧香|鞭炮|炮仗|熏肉|腊肉|蚊香|做饭|炒菜|抽烟|吸烟"

# -- cues ----------------------------------------------------------------------------------------

CUES: tuple[Cue, ...] = (
    # medical: falls
    Cue("medical", CRITICAL, _rx(FALL + r".{0,15}" + STUCK)),
    Cue("medical", CRITICAL, _rx(r"(?:地上|地下|地板|床下|床边|厕所|卫生间|浴室|楼梯|楼道).{0,8}" + STUCK)),
    Cue("medical", CRITICAL, _rx(r"倒地不起|一头栽")),
    Cue("medical", STRONG, _rx(r"(?:倒|栽|躺|趴|瘫|跌|摔)(?:在|到)?(?:了)?地(?:上|下|板)|"
                               r"(?:地上|倒|栽|躺|晕|叫他|喊他|叫她|喊她).{0,6}(?<![做切干吃走])不动了|"
                               + OTHERS + r"(?:突然|一下子|又)?(?:晕了|昏了)")),
    Cue("medical", CUE, _rx(FALL), unless=_rx(r"价|股票|股市|行情|成绩|温度|气温")),
    Cue("medical", CUE, _rx(r"(?:" + PERSON_WORDS + r"|刚才|刚刚)[^的把]{0,3}(?:摔|跌)了")),
    Cue("medical", CUE, _rx(r"起不来|爬不起来|站不起来|起不了身|动弹不得|(?:腰|腿|身子|人|全身|半边)(?:都|也)?(?:动不了|不能动)|"
                            r"头晕.{0,6}(?:站不住|站不稳|站不起来)|骨折|被.{0,4}撞(?:了|倒|伤)|撞(?:倒|伤)了"),
        unless=_rx(r"早上起不来|起床|懒")),
    # unconscious, not breathing
    Cue("medical", CRITICAL, _rx(r"晕倒|昏倒|晕过去|昏过去|昏迷|不省人事|人事不省|失去(?:了)?意识|意识不清|晕厥|休克|"
                                 r"口吐白沫|晕在|眼前一黑|昏厥|神志不清|意识模糊|虚脱|(?:晕|昏)死过去|人事不知")),
    Cue("medical", STRONG, _rx(r"翻白眼"), unless=_rx(r"(?:对|朝|冲|给)(?:我|他|她|人)翻白眼")),
    Cue("medical", CRITICAL, _rx(r"(?:叫|喊|推|拍|摇)(?:他|她|人|了|也|都|半天|几声|好几声|醒)*"
                                 r"(?:不醒|不应|不答应|没反应|没有反应|没动静|不理)")),
    Cue("medical", CRITICAL, _rx(r"没(?:有)?了?呼吸|" + PERSON + r".{0,3}没气了|快没气了|没气儿了|断气|没(?:有)?心跳|心跳(?:停|没了)|"
                                 r"心脏(?:停|骤停|不跳)|没(?:有)?脉搏|摸不到脉"),
        unless=_rx(NOT_A_PERSON_OUT_OF_BREATH)),
    Cue("medical", STRONG, _rx(PERSON + r"(?:突然|一下子|就|忽然)?(?:倒了|倒下了|倒下)|突然(?:就)?倒(?:了|下|地)|就倒了|"
                               r"倒在(?:地|路|厕所|卫生间|浴室|楼道|门口|床边|电梯|家里|厨房|沙发|楼梯)")),
    Cue("medical", STRONG, _rx(PERSON + r"(?:都|也)?没(?:有)?(?:反应|知觉|意识)|" + PERSON + r"(?:一动不动|不动了)|一动不动")),
    Cue("medical", HINT, _rx(r"快晕了|要晕了|快晕倒|要晕倒|天旋地转|冷汗|晕乎乎|迷糊|眼前发黑|脸色(?:发白|煞白|苍白|铁青|发紫)|"
                             r"昏昏沉沉|头晕目眩|高烧不退|大口喘气|一直喘|头撞了")),
    Cue("medical", CUE, _rx(r"(?:腿|胳膊|手|骨头|脚)(?:好像|可能)?断了|剧痛|中暑|低血糖(?:又)?(?:犯|发作|晕)|突然瘫")),
    # chest, breathing, choking
    Cue("medical", CUE, _rx(r"(?:胸口|胸前|胸|心口|心窝|心脏)(?:好|很|特别|一阵阵|突然|有点|一直|又)?.{0,2}"
                            r"(?:疼|痛|闷|绞|憋|压着|难受|不舒服)|胸口.{0,4}压了")),
    Cue("medical", CRITICAL, _rx(r"心梗|心肌梗|心绞痛|心脏病(?:又)?(?:犯|发作)")),
    Cue("medical", STRONG, _rx(r"心慌.{0,6}(?:出汗|冷汗|喘|难受)|被(?:蛇|毒蛇|马蜂|蜜蜂|蜂|蝎子)(?:咬|蛰|叮)")),
    Cue("medical", STRONG, _rx(r"喘不上|喘不过|喘不了|喘不动|上不来气|气上不来|透不过气|呼吸困难|呼吸不了|不能呼吸|没法呼吸|"
                               r"呼吸不上|(?:呼吸|喘气|出气|吸气).{0,3}(?:困难|费劲|吃力|不上来|不过来)|憋得(?:脸|嘴)?(?:发紫|发青|通红|青紫)|嘴唇.{0,2}紫|脸(?:都|色)?(?:发)?紫了|"
                               r"窒息|哮喘(?:又)?(?:发作|犯)|喘得(?:厉害|很)|(?:呼吸|喘气)(?:很|好|特别|越来越)?(?:急促|微弱|弱)|上气不接下气|"
                               r"(?:喉咙|嗓子)(?:都)?肿(?:了|得)")),
    Cue("medical", STRONG, _rx(r"噎住|噎着|噎到|呛住|卡住了?.{0,4}(?:喉咙|嗓子|气管|喘|咳不出|说不出)|"
                               r"(?:喉咙|嗓子|气管).{0,4}卡(?:住|着)|卡在(?:喉咙|嗓子)")),
    # stroke
    Cue("medical", STRONG, _rx(r"(?:嘴|脸).{0,4}歪|口眼歪斜|眼歪嘴斜|歪嘴|(?:说话|讲话).{0,3}(?:不清|不利索|不利落|乱七八糟|颠三倒四)|话.{0,2}说不清|"
                               r"含糊不清|胡言乱语|说胡话|不认识(?:我|人|家里人|我们)了|突然(?:看不见|看不清|失明)|舌头(?:打结|发硬|不灵|僵)|"
                               r"嘴角.{0,4}(?:耷拉|下垂|歪)|(?:左|右|一边|半边|单侧)(?:边)?(?:的)?(?:手|脚|胳膊|腿|身子|身体|脸).{0,4}"
                               r"(?:没力气|没劲|无力|不能动|动不了|麻|抬不起|不听使唤|没知觉|不会动)|"
                               r"口齿不清|讲话不清|说不出话|说不了话|不会说话了|舌头发硬|不认人|中风了|脑梗|脑溢血|脑出血|卒中|"
                               r"半边(?:身子|身体|脸|手|腿|胳膊)?.{0,3}(?:不能动|动不了|麻|没知觉|没劲|不会动|不听使唤)|"
                               r"一边(?:身子|身体|胳膊|手|腿|脸).{0,4}(?:不能动|动不了|麻|抬不起|没知觉|不会动|没劲)|"
                               r"(?:手脚|手|腿|胳膊)(?:不听使唤|发麻)|(?:腿|手|身子|半边)没(?:有)?知觉")),
    # bleeding, seizures
    Cue("medical", STRONG, _rx(r"血止不住|止不住血|血流不止|流血不止|(?:流|出|吐)了?(?:好多|很多|一地|一大滩|不少|一身|满脸|"
                               r"一大片|那么多)(?:的)?血|大出血|吐血|咯血|血崩|(?:一直|还在|不停)(?:地|的)?(?:在)?(?:流|出|冒)血|"
                               r"血(?:哗哗|直|一直|不停)(?:的|地)?(?:流|往外|冒)|满(?:脸|身|头|手|地)(?:都)?是血|"
                               r"头(?:上)?.{0,3}(?:破了|磕破|流血|出血)|(?:摔|磕|撞|碰)破(?:了)?.{0,4}(?:血|头|脑)|伤口.{0,4}(?:很深|好深|止不住)|头破血流|"
                               r"割到动脉|鼻血.{0,4}止不住|出血(?:很多|好多|不止|严重|很严重)|血.{0,4}止不住|血流.{0,2}不停|流血.{0,2}不停|(?:割|划|切|砸|摔)破.{0,6}血|(?:头|脸|额头|脑袋|后脑勺).{0,8}(?:流血|出血|磕破)|血(?:流|淌)了?(?:一地|满地|好多|很多|一身|一大滩)|被.{0,4}(?:绞|轧|碾)(?:了|伤|断|住)")),
    Cue("medical", STRONG, _rx(r"抽搐|抽蓄|抽风|抽起来了|癫痫(?:又)?(?:发作|犯)|羊癫疯|羊角风|惊厥|浑身发抖.{0,6}(?:不醒|倒)|"
                               r"(?:发烧|高烧|烧得).{0,4}抽筋|抽筋.{0,4}(?:口吐白沫|翻白眼|不醒|叫不)")),
    # an elder nobody has seen or reached for days, or who has wandered off
    Cue("medical", STRONG, _rx(r"^(?=.*(?:" + DAYS + r"|敲门|叫门|敲了|门.{0,2}敲不开))(?=.*" + OTHER_PERSON + r").*?(?P<cue>"
                               + NOT_SEEN + ")"),
        unless=_rx(r"师傅|志愿者|快递|外卖|物流|订单|客服|你们|旅游|出差|出去玩|回老家了|物业|社区|热线|办公室|医院|银行")),
    Cue("medical", STRONG, _rx(r"(?:妈|爸|娘|爹|老人|爷爷|奶奶|老伴|老头|老太|外婆|外公|姥姥|姥爷|婆婆|公公|老爷子)"
                               r".{0,8}(?:走丢|走失|不见了|找不到了|找不着了)|(?:痴呆|糊涂).{0,10}(?:走丢|走失|不见了|找不到)")),
    # poisoning, overdose, burns
    Cue("medical", STRONG, _rx(r"吃错(?:了)?药|药吃(?:多|错)了|(?:吃|喝|吞)(?:了)?(?:过量|太多|好多|很多|一把|一瓶|整瓶|一整瓶|"
                               r"一堆|几十片|好几片|一大把|半瓶|大半瓶|一板|一盒|整盒|一整盒|十几片)(?:的)?.{0,4}药|"
                               r"药.{0,3}(?:吃|吞)了(?:一瓶|半瓶|一整瓶|整瓶|一把|一盒|好多|很多|一板)|误(?:服|食|吃|喝|吞)|"
                               r"(?:洗衣液|洗洁精|消毒液|消毒水|84|农药|老鼠药|杀虫剂|电池|干燥剂|汽油|敌敌畏|百草枯|药|漂白剂|洁厕灵|除草剂|煤油)"
                               r".{0,3}(?:喝|吃|吞)(?:下去|进去)?了|当成.{0,6}(?:喝|吃)了|中毒|"
                               r"(?:喝|吃|吞)(?:了)?(?:一口|几口|一瓶|半瓶|好多)?(?:洗衣液|洗洁精|消毒液|消毒水|84|杀虫剂|电池|干燥剂|"
                               r"汽油|漂白剂|洁厕灵|除草剂|煤油|硬币|纽扣|磁铁)"),
        unless=_rx(r"游戏|手机|网瘾|电视剧|追剧|中毒太深|中毒很深|电脑|病毒")),
    Cue("medical", CUE, _rx(r"上吐下泻")),
    Cue("medical", STRONG, _rx(r"羊水破|要生了|快生了|早产|毒蘑菇|车祸|(?:快|赶紧|马上)(?:送|去)(?:医院|急诊)|需要急救|要急救")),
    Cue("medical", CUE, _rx(r"(?:发烧|高烧|烧到)(?:到)?(?:40|四十|41|四十一)(?:度|多度)|撞车了")),
    Cue("medical", STRONG, _rx(r"吃(?:了)?(?:过期|变质|发霉|坏了?|馊)的?.{0,6}(?:吐|泻|拉|疼|晕)")),
    Cue("medical", STRONG, _rx(r"烫伤|烧伤|烫(?:得|了|到)?.{0,6}(?:起泡|起了.{0,3}泡|掉皮|皮都|一大片|很严重|红肿)|"
                               r"被.{0,4}烫(?:了|伤|到|得)|开水.{0,4}(?:烫|浇)|烫得(?:很|好|特别)?厉害|热油.{0,3}(?:烫|溅)|油溅|" + PERSON + r".{0,2}烫(?:到|着|伤)了|"
                               r"开水.{0,6}(?:泼|洒|浇|倒)(?:在)?(?:了)?(?:身上|腿上|手上|脚上|脸上)")),
    # other signs, and calling an ambulance
    Cue("medical", CRITICAL, _rx(r"(?:叫|打|拨|喊|快|赶紧)(?:个|一下|一个)?(?:120|救护车|急救车)")),
    Cue("medical", STRONG, _rx(r"救护车|急救车")),
    Cue("medical", STRONG, _rx(PERSON + r"(?:快|要|好像|怕是|可能)?不行了|快不行了|要不行了")),
    Cue("medical", HINT, _rx(r"快死了|要死了|难受很|好难受|高烧|吐了")),
    Cue("medical", CUE, _rx(r"(?:疼|痛)得(?:打滚|满地打滚|受不了|直冒汗|满头大汗|晕|昏|直不起)|头(?:疼|痛)得?要炸|头(?:疼|痛)欲裂|"
                            r"血压(?:高到)?(?:二百|两百|200|一百八|一百九|180|190|210|220)|血压(?:突然)?(?:升高|飙|很高|好高|特别高)|"
                            r"(?:头|胸口|肚子|腰|腿)(?:疼|痛)得(?:厉害|很厉害|要命|受不了|不行)")),
    # fire
    Cue("fire", CRITICAL, _rx(r"着火|起火|失火|火灾|烧起来|烧着了|着起来了|燃起来|冒黑烟|浓烟|爆炸|火势|火光|"
                              r"(?:房子|屋|家|厨房|锅|床|被子|窗帘|车|楼|衣服|头发|沙发|柜子|电视|冰箱|电线|插座|床单)(?:里|子)?(?:给|被)?(?:烧|点|引)?着了|"
                              r"着(?:了)?大火|着了火|起了火|失了火|冒火|火烧(?:到|着)|救火|把.{1,6}(?:点|引|烧|烤)着了|越烧越(?:大|旺)|火(?:越来越|很|好)(?:大|旺)")),
    Cue("fire", CRITICAL, _rx(r"冒烟|黑烟"), unless=_rx(SMOKE_FROM_COOKING)),
    Cue("fire", STRONG, _rx(r"(?:全|都|到处|满屋子?|一屋子?)(?:都)?是烟|烟(?:很|好|太|特别|老)?大|(?:好大一股|好大的)烟|"
                            r"(?:屋里|家里|楼道|厨房|房间|楼里|屋子)(?:里)?(?:有|全是|都是)(?:好多|很多|好大的?|很大的?|很浓的?|好浓的?)?烟|呛得|呛人|很呛|好呛|"
                            r"火(?:很|好|太|越来越|特别)大|火苗(?:窜|蹿|很高|老高)|火灭不|灭不了火|"
                            r"(?:电线|插座|插线板|插头|电闸|电表|开关|充电器|电箱|电器|短路).{0,4}(?:冒火|打火|火花|烧|着)"),
        unless=_rx(SMOKE_FROM_COOKING)),
    Cue("fire", CUE, _rx(r"火花|(?:叫|打|快)(?:个)?(?:119|消防)|消防车|消防队|锅烧干")),
    Cue("fire", HINT, _rx(r"烟味|焦味|糊味|烧焦|一股烟|有烟|(?:哪里|什么东西|东西)烧了|报警器.{0,4}(?:响|叫)"), unless=_rx(SMOKE_FROM_COOKING)),
    # gas
    Cue("gas", CRITICAL, _rx(r"泄漏|泄露|漏气|跑气|煤气中毒|一氧化碳|臭鸡蛋味|" + GAS_SOURCE +
                             r".{0,10}?(?:味|漏|臭|冒气|往外冒|嘶嘶|嗤嗤|呲呲|滋滋|关不上|关不掉|关不住|关不紧|断了|破了|裂了|"
                             r"一直出|一直有气|有气出来|出气|呛)|(?:味|闻到|嘶嘶|嗤嗤).{0,8}?" + GAS_SOURCE + r"|(?:漏|泄)了?" + GAS_SOURCE)),
    Cue("gas", CUE, _rx(r"(?:燃气|煤气)报警器.{0,6}(?:响|叫)|把(?:煤气|燃气)(?:都)?打开")),
    # crime
    Cue("crime", CRITICAL, _rx(r"撬(?:我|他|人家|别人)?(?:的|家)?(?:门|锁|窗)|在撬|被撬|抢劫|打劫|抢钱|抢包|被抢(?!光|完|购|空)|"
                               r"抢(?:我|走)|持刀|动刀|(?:拿|举|挥)(?:着)?(?:刀|菜刀|刀子|棍子|凶器).{0,6}(?:威胁|砍|追|逼|对着|吓|冲|乱)|"
                               r"(?:有人|有个人|陌生人|男的|那人|那个人).{0,8}(?:拿|持|举|挥)(?:着)?(?:刀|菜刀|刀子|棍子|凶器)(?!切|削|剁|砍柴|做饭|杀鱼|杀鸡)|"
                               r"砍人|乱砍|砍我|杀人|杀我|要杀(?:我|人|了我)|弄死(?:我|你|他|她|人)|杀了我|打死我(?!也)|绑架|劫持|砍死|"
                               r"捅(?:人|我|死|伤)|(?:拿|有|带)(?:着)?(?:真)?枪(?!战|游戏)|(?:被|有人|人贩子).{0,4}拐|拐(?:走|卖|跑)(?:了)?(?:我|孩子|孙子|孙女|小孩|老人)|抢夺|性侵|强奸|放火|纵火|"
                               r"抢(?:了)?(?:我的)?(?:手机|钱包|包|金|项链|东西|钱|车|耳环|戒指)")),
    Cue("crime", STRONG, _rx(r"进贼|有贼|遭贼|抓贼|贼进|小偷(?:进|在|还|来|撬|偷)|有小偷|进小偷|遭小偷|偷(?:东西|钱|我)|(?:在|正在)偷|被偷(?!吃|看|拍|听|偷)|偷了|"
                             r"抢东西|被骗(?!过|子)|被诈骗|(?:有人|他|他们|那人).{0,6}(?<!偷)偷(?!偷|懒|看|听|笑|拍|乐|吃|玩)|抓小偷|打群架|斗殴|掐(?:我|她|他|人)(?:的)?脖子|"
                             r"(?:拿|用).{0,4}砸(?:我|人|她|他)|砸(?:我|人)(?!家|的)|揍(?:人|他|她)|挨揍|打伤|盯上了|盯梢|"
                             r"(?:开|撬|捅)(?:我家|我的|我们家)?(?:的)?锁|(?:有人|陌生人|小偷|贼|坏人|有个人|男的).{0,4}翻(?:墙|进|窗)|帮我报警|诈骗电话.{0,8}(?:让|要|叫)我|(?:有人|陌生人)(?:偷偷)?(?:进|溜进|钻进|闯)(?:了)?我家|"
                             r"^(?=.*(?:陌生|男的|有人|有个人|不认识)).*(?:想|要|在|一直)(?:开|进|拧|推|撬|砸|踹)(?:我家|我的|我们家)?(?:的)?门|"
                             r"被盗|失窃|遭窃|家暴|施暴|殴打|打(?:人|我)(?!.{0,3}(?:电话|手机|微信|号码)|家|也)|"
                             r"(?:在|又|正在|往死里|狠狠|要)打(?:他|她|我|人)(?!电话|手机|微信|号码)|打(?:他|她)?(?:爸|妈|奶奶|爷爷|老人|老伴|媳妇|老婆|老公|孩子|老太太|老头)(?!.{0,3}(?:电话|手机|微信))|揍我|挨打|虐待|"
                             r"劫匪|安全账户|"
                             r"被[^打]{0,4}打(?:了|伤|得)(?!.{0,2}(?:针|疫苗|电话|吊针|点滴))|动手打|"
                             r"跟踪|尾随|(?:有人|有个人|陌生|男的|男人|女的|那人|那个人|坏人|不认识).{0,6}跟着|(?:家里|屋里|我家|家)(?:进|来)了?(?:个)?(?:陌生人|坏人|小偷|贼|不认识的人)|"
                             r"威胁|恐吓|勒索|敲诈|性骚扰|非礼|猥亵|耍流氓|"
                             r"砸门|踹门|撞门|踢门|砸窗|砸(?:我家|东西|玻璃|车|店|门)|摔东西|踹(?:我家)?(?:的)?门|闯进|闯入|破门|翻窗|爬窗|"
                             r"(?:老公|丈夫|男人|儿子|他|喝醉|喝多)(?:了)?.{0,6}(?:又)?动手(?:了|打)|(?:要|想)弄(?:死)?我|动了?刀|"
                             r"(?:一直|使劲)敲.{0,4}门.{0,10}(?:骂|威胁|不走|害怕)|"
                             r"冒充(?:警察|公安|检察|法院|客服|银行)|(?:让|叫|要)我(?:赶紧|马上)?(?:转账|转钱|汇款|打钱)|"
                             r"骗子.{0,6}(?:转账|转钱|汇款|打钱)|有人要进我家|(?:拧|撬|砸|踹)门把手")),
    Cue("crime", CUE, _rx(r"坏人|歹徒")),
    Cue("crime", STRONG, _rx(r"骚扰我|骚扰.{0,4}跟着"), unless=_rx(r"电话|短信|推销|广告|微信")),
    Cue("crime", HINT, _rx(r"打架|打起来|闹事|报警|110|门口.{0,6}(?:不走|转悠|一直敲)|陌生人.{0,6}不走|鬼鬼祟祟|骗子|"
                           r"(?:一直|有人)敲门.{0,8}(?:害怕|不认识)")),
    # self-harm
    Cue("self_harm", CRITICAL, _rx(r"不想(?:再|继续)?活(?!动|跃|得|成|在(?!这个世界|世上|这世上))|不活了|活不下去|活不成了|活够了|"
                                   r"(?<![思理梦不])(?:想|去|准备|寻)死(?!后|了以后|了之后)|(?:想|要|准备|去)喝药(?!了没|吗)|让我死|自杀|轻生|自尽|自残|寻短见|活腻了|离开(?:这个世界|人世)|"
                                   r"(?:死|走)了算了|不如死|一死了之|一了百了|生不如死|早死早(?:超生|解脱|好)|割(?:手)?腕|伤害自己|割自己|划自己|"
                                   r"跳(?:桥|井|崖)|从.{0,6}跳下(?:去|来)?|"
                                   r"(?:结束|了结)(?:自己|我)(?:的)?(?:生命|性命)?|结束生命|跳楼|跳河|跳江|跳海|投河|卧轨|上吊|"
                                   r"割腕|割脉|烧炭|(?:想|要)(?:从.{0,6})?跳下去|遗书|后事.{0,4}(?:安排|交代)好|"
                                   r"死了(?:就)?(?:好|干净|解脱|清净|轻松|省心)(?!久|几|多)")),
    Cue("self_harm", CRITICAL, _rx(r"(?:吃|吞|喝)了?.{0,4}(?:很多|好多|一把|一瓶|整瓶|一整瓶|一堆|几十|全部|一大把|半瓶)(?:的)?安眠药|"
                                   r"安眠药.{0,6}(?:全|都)(?:吃|吞)|攒.{0,6}安眠药|安眠药.{0,4}攒|"
                                   r"安眠药.{0,4}(?:吃|吞)了.{0,3}(?:一瓶|半瓶|一整瓶|整瓶|一把|一盒|好多|很多|一板)"),
        unless=_rx(r"误|不小心|当成|以为|吃错")),
    # a resident who swallowed a handful of pills themselves
    Cue("self_harm", STRONG, _rx(r"我(?:刚才|刚刚|已经|刚)?(?:吞|吃)了?(?:一把|一瓶|整瓶|一整瓶|好多|很多|一堆|一大把|半瓶)(?:的)?药"),
        unless=_rx(r"误|不小心|当成|以为|吃错|吃多了|多吃")),
    Cue("self_harm", CRITICAL, _rx(r"(?:喝|吃)(?:了)?(?:农药|敌敌畏|百草枯|老鼠药)"),
        unless=_rx(r"误|当成|不小心|以为|错")),
    Cue("self_harm", STRONG, _rx(r"不想醒|活着.{0,4}(?:没意思|没劲|没意义|有什么意思|有什么意义|没什么意思|受罪|太累|太苦|好累|好苦|"
                                 r"痛苦|没盼头|是个?(?:负担|累赘)|有什么用|有啥用|没用|没什么用|没啥意思|有啥意思|没什么意义|干嘛|干什么|图什么|"
                                 r"没什么盼头)|死了也没人(?:知道|管)|把.{0,4}药.{0,2}(?:都|全)(?:吃|吞)了|"
                                 r"(?:我走了|我死了).{0,6}(?:清净|省心|解脱|就好了|轻松)")),
    Cue("self_harm", CUE, _rx(r"想不开"), unless=_rx(r"别想不开|不要想不开|你别|千万别")),
    Cue("self_harm", CUE, _rx(r"(?<![不没])(?:不想|不愿|不能|不要)(?:再)?(?:拖累|连累)|(?<![不没])(?:拖累|连累)(?:孩子|儿女|你们|他们|家里|家人|子女)|"
                              r"是个?(?:累赘|负担)|成了(?:累赘|负担)|(?:我走了|我不在了)(?:以后|之后)|"
                              r"想解脱|睡了就不醒|(?:药|绳子|刀片|炭).{0,3}(?:都)?准备好了|准备好了(?:绳子|药|刀片|炭)|安乐死|"
                              r"(?:站|坐|爬|上|在)(?:在|到|上)?(?:了)?(?:楼顶|天台|桥上|窗台|河边|江边|窗户边|阳台边|栏杆外|窗户外)|"
                              r"(?:想|要)(?:去|跳)(?:河里|江里|海里)(?!游|洗|钓|玩|捞|抓)|结束这一切|(?:要|就)解脱了|不想(?:再)?坚持(?:下去)?了|"
                              r"撑不下去了|不想(?:再)?撑(?:下去)?了|没什么(?:好)?留恋|永别|(?:想|要|还是)早点(?:走|死|去)(?!.{0,6}(?:有事|上班|回家|睡|休息|吃|买))|"
                              r"(?:我走了|再见了).{0,6}(?:保重|照顾好|别难过|对不起|别想我)(?!.{0,6}(?:明天|回头|下次|改天|再聊|再来))|"
                              r"最后一次(?:跟|和|给)(?:你们|大家|你)(?:说话|联系|发消息|告别)|"
                              r"去那边(?:陪|找)|"
                              r"(?:买|准备|攒)了.{0,4}(?:敌敌畏|百草枯|农药|安眠药|老鼠药)")),
    # water (flooding, a burst pipe, somebody in the water)
    Cue("water", CRITICAL, _rx(r"水管.{0,3}(?:爆|暴|破|裂|崩|炸|断)|爆管|" + PERSON + r".{0,3}落水|(?:快|要)淹死|山洪|泥石流|决堤|溃坝|(?:管子|暖气片?|暖气管|水龙头|水箱|水表|热水器|水阀)"
                               r".{0,2}(?:爆|暴|炸|崩|裂开)|" + PERSON + r".{0,4}(?:掉|落|跌|摔)(?:进|到)?(?:河|水|湖|江|池塘|井)里|溺水")),
    Cue("water", STRONG, _rx(r"淹(?!死)|水灾|内涝|(?:到处|满地|一地|满屋子?|一屋子?|全)(?:都)?是水|水(?:流|漫|淌|喷)(?:了|得)?(?:一地|满地|到处)|"
                             r"水漫|漫(?:进|到|出)|灌进|倒灌|往.{0,2}灌水|反水|返水|涨进|发大水|发水了|洪水|冒水|水位.{0,4}(?:涨|升|高)|"
                             r"(?:家|屋|房)(?:里|子)?进了.{0,4}水|(?:家|屋)(?:里)?.{0,2}泡(?:水|在水里)|水.{0,4}(?:冲进|涨上来|漫上来)|浸水|"
                             r"水越来越(?:高|深|大|多)|水.{0,4}(?:到|没过|淹到|齐)(?:了)?(?:膝盖|腰|脚脖子|小腿|大腿|胸口|床)|"
                             r"(?:家|屋|房子|房间|一楼|地下室|客厅|卧室|车库|店|铺子|车)(?:里)?(?:被)?进水|水.{0,3}进(?:屋|家|门|来)|"
                             r"水.{0,3}(?:到处|满地|一地)(?:都是)?|(?:地上|屋里|家里|客厅|厨房)(?:全|都)?是水|漫水|"
                             r"漏水.{0,6}(?:很大|(?<!不)严重|止不住|关不住|越来越|像下雨|哗哗|往下流|满地|厉害)|漏得厉害|"
                             r"(?:水|淹|雨).{0,12}(?:被困|困在|困住|出不去)|(?:被困|困在|困住).{0,12}(?:水|淹|雨)|"
                             r"(?:暖气|水管|管子|水龙头)(?:子)?.{0,2}漏了.{0,6}(?:水|哗哗)")),
    Cue("water", CUE, _rx(r"喷水|水喷|水(?:哗哗|一直|不停)(?:的|地)?(?:流|往外|冒|喷)|(?:哗哗|一直).{0,4}(?:流水|漏水|喷水|往下流)|"
                          r"水.{0,8}(?:关不住|关不上|关不掉)|(?:关不住|关不上|关不掉).{0,6}水|止都止不住")),
)

# Calls for help that name no kind. Checked on the text with its clause breaks (spaces) kept.
HELP_CUES: tuple[tuple[int, re.Pattern[str]], ...] = (
    (CRITICAL, _rx(r"救命|sos|快来人|救救我|救我|救人")),
    (STRONG, _rx(r"救救|(?:^| |快)来人(?= |$)|help|(?:打|拨|叫)(?:个)?(?:120|110|119)|出(?:大)?事了.{0,4}快")),
)
HELP_KIND: tuple[tuple[re.Pattern[str], str], ...] = ((_rx(r"119"), "fire"), (_rx(r"110|报警"), "crime"))

URGENT_HIGH = _rx(r"救命|sos|快来人|(?:打|拨|叫)(?:个)?(?:120|110|119)|叫救护车|救人")
URGENT = _rx(r"快(?!递|乐|餐|件|手|捷|速|车|照)|赶紧|赶快|马上|立刻|怎么办|不得了|不好了|出事|(?<![不用别着])急|(?<!不)着急|帮帮|救救|求求|求你|害怕|"
             r"吓人|好怕|help|来人")

GUARDS: tuple[Guard, ...] = (
    Guard("hypothetical", -4, _rx(
        r"万一|如果|假如|假设|要是|以防|预防|防止|避免|防范|防[火盗摔跌滑诈骗溺汛煤燃走]|梦见|梦到|做梦|演习|模拟|"
        r"想学|学习|学一下|学学|学会|学点|去学|来学|教(?:我|大家|你|一下|下)|培训|讲座|课程|上课|讲课|的课|"
        r"(?:急救|防火|消防|安全|燃气|用电|逃生)(?:知识|常识|课|培训|演练|宣传|讲座|教育)|常识|演练|科普|宣传|教程|"
        r"了解一下|想了解|海姆立克|心肺复苏|报名|想当|当(?:志愿者|消防员)|"
        r"怕.{0,4}(?:摔|跌|着|偷|骗|出事|被|有人|煤气|燃气|漏|烫)|担心.{0,4}(?:摔|跌|着火|被偷|出事)"
    )),
    Guard("news", -4, _rx(
        r"新闻|电视上|电视里|电视剧|电影|小说|报纸上|报道|听说|据说|听人说|朋友圈|抖音|快手|网上|视频里|群里说|主角|剧里|游戏"
    )),
    Guard("forecast", -2, _rx(r"预报|预警|预计|可能会有|将有")),
    Guard("resolved", -4, _rx(
        r"没事了|没什么事了|没啥事|没大碍|没有大碍|(?<!要)不要紧|已经好了|好多了|缓过来|醒过来了|(?<![不没])醒了|救过来|"
        r"抢救过来|(?<!不)灭了(?!.{0,4}一直)|扑灭|修好了|处理好了|解决了|止住了|关好了|关掉了|出院了|恢复|康复了|虚惊一场|"
        r"医生说没事|还好没|幸好没|没上当|没被骗|找回来|找到了|(?:现在|已经)(?:能|会|可以)(?:走|动|下地|起来|说话)|(?:一会儿|一下)(?:就)?好了|(?:现在|已经|早就|都|后来)好了"
    )),
    Guard("handled", -2, _rx(
        r"已经(?:送|到|去)(?:了)?医院|已经住院|已经报警|已经打了?(?:120|110|119)|已经叫了?救护车|"
        r"(?:救护车|警察|消防车|消防员|医生)已经(?:来了|到了)"
    )),
    Guard("past", -3, _rx(
        r"上次|上回|那次|那回|以前|之前|从前|曾经|去年|前年|前几年|几年前|年前|当年|那年|小时候|上个月|上月|上周|上星期|上礼拜|"
        r"前阵子|前段时间|前些天|前几天|前些日子|昨天|昨晚|前天"
    )),
    Guard("present", 3, _rx(r"现在|正在|还在|还是|还没|又|这会儿|此刻|一直|到现在"), only_with="past"),
    Guard("experienced", -3, _rx(r"(?:淹|摔|跌|晕|中风|梗|着|烧|偷|抢|骗|漏|烫|中毒)过(?![去来头])")),
    Guard("again", 3, _rx(r"又|再次|再一次|这次|这回"), only_with="experienced"),
    Guard("habitual", -2, _rx(r"容易|经常|老是|总是|常常|时不时|有时候|偶尔|每次|平时|一到(?:冬天|晚上|夏天|下雨)")),
    Guard("not_urgent", -3, _rx(r"不急|不着急|不用急|不是很急|有空|方便的时候|有时间的时候|(?<!很)不严重|不太严重|不碍事|小问题")),
    Guard("service", -2, _rx(
        r"想(?:找|请|约|预约|要个|买|换|修|装|订|问|咨询|去|做|申请|捐)|找(?:个)?(?:人|师傅|医生|护工|保姆|志愿者|阿姨)|"
        r"请(?:个)?(?:人|师傅|医生)|能不能(?:派|帮|来)|预约|上门|维修|修理|修一下|修修|检查|安检|检修|检测|保养|安装|"
        r"装个|更换|换个|换一|(?:帮我|帮忙|去|要|哪里|在哪|怎么|哪儿)买|买(?:个|一个|点|些|了个)|多少钱|费用|交费|缴费|怎么交|"
        r"在哪交|充值|办理|开户|复查|康复|理疗|护理|陪护|护工|保姆|养老院|后遗症|体检|挂号|配药|开药|拿药|推荐|哪里有|"
        r"哪家|物业|补贴|领(?:取|东西|补贴|物资|米|油|药)|去领|捐|陪(?:我|他|她)?(?:去)?(?:医院|看病)|(?:在哪|哪里|哪儿)(?:里|儿)?(?:交|买|办|领|报名|上课|有|看|挂)|"
        r"科在哪"
    )),
    Guard("knowledge", -3, _rx(
        r"是什么原因|什么原因|有哪些|前兆|征兆|症状|怎么判断|如何判断|如何|注意什么|注意事项|要注意|应该先|先干什么|先做什么|"
        r"应该怎么做|怎么处理|如何处理|是免费|免费吗|收费吗|怎么止血|怎么急救|怎么扶|要不要扶|该不该扶|扶不扶|是什么病|什么病|怎么预防"
    )),
    Guard("personal", 2, _rx(r"我(?:妈|爸|娘|爹|家|老伴|老公|老婆|爷爷|奶奶)|老伴|俺|咱"), only_with="knowledge"),
    Guard("explained", -2, _rx(r"怎么回事|为什么|是因为|因为")),
    Guard("coping", -2, _rx(r"自己(?:做|来|能|干|弄|照顾|动手)|能自理")),
    Guard("fine", -3, _rx(r"(?:家里|人|都|也)还好|(?:拖|擦|收拾)(?:好|干净|干)了|拖完|拖地|擦干|等干|抓住了|抓走了|(?:洪水|大水|雨|台风|事情|那事)(?:已经)?过去了")),
    Guard("estate", -3, _rx(r"遗嘱|遗产|留给|过户|继承|公证|捐遗体|捐献遗体|墓地|买墓")),
    Guard("hyperbole", -3, _rx(r"(?:这|那)(?:道)?题|作业|考试|太难了|好难|太贵了|好贵|哈哈|好笑|搞笑|开玩笑|逗你|胖了|减肥|(?:也|还)得等|等.{0,6}(?:结婚|毕业)")),
)

# Idioms and everyday words that contain cue characters, rewritten before the cues look.
IDIOMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_rx(r"想死(?:你|您|大家|宝贝|我)"), "想念"),
    (_rx(r"(?:气|急|吓)得.{0,3}(?:心口|胸口|心脏|肝|头)(?:都)?(?:疼|痛)"), "/"),
    (_rx(r"(疼|痛|难受|憋|闷)死(?:我|人)?了?"), r"\1很"),
    (_rx(r"(?:气|饿|累|笑|热|冷|困|烦|吵|忙|急|愁|丑|美|渴|懒|无聊|馋|乐|高兴|开心|担心|吓|羡慕|嫉妒|臭|香|麻烦|难看|好看|"
         r"好吃|难吃|贵|痒|挤|晒|冻|撑|憋屈|郁闷)死(?:我|人|你|您|他|她|我们|宝宝)?(?:了)?"), "很"),
    (_rx(r"得(?:要死|要命|不行了?|不得了|慌|想死)"), "得很"),
    (_rx(r"想死的心都有|要死要活"), "很烦"),
    (_rx(r"跳楼价|跳楼大?甩卖|跳进黄河"), "/"),
    (_rx(r"救命(?:稻草|恩人|之恩|钱|药)"), "/"),
    (_rx(r"(?:嗓子|喉咙|渴得)冒烟"), "/"),
    (_rx(r"(?:打|点)不着火|不着火|着火点"), "/"),
    (_rx(r"(?:燃气|煤气|天然气|液化气)(?:泄漏)?报警器"), "燃气报警器"),
    (_rx(r"(?:泄漏|烟雾|火灾|消防|一氧化碳|烟感)报警器"), "报警器"),
    (_rx(r"火锅|上火|发火|火气|火车|火腿|火柴|火葬|烟火|烟花|香烟|烟头|油烟机|抽油烟|油烟|烟雾报警|烟感|"
         r"烟囱|烟酒|烟草|火灾隐患|消防通道|火灾逃生|灭火器"), "/"),
    (_rx(r"脑子进水|(?:手机|电脑|相机|手表|耳朵|鞋)进水|进水管|进水口|进水阀"), "/"),
    (_rx(r"(?:轮胎|车胎|胎|气球|皮球|篮球|足球|自行车|气垫|打气筒)(?:有点|好像)?漏气"), "/"),
    (_rx(r"跟踪(?:一下)?(?:我的)?(?:订单|快递|物流|进度|情况|处理|服务|治疗|随访|回访|调查|报道|一下)|快递跟踪|物流跟踪"), "/"),
    (_rx(r"(?:网|网络|手机|电脑|系统|信号|电视|它|猫|狗)(?:又|老|总)?抽风|抽什么风|发什么风"), "/"),
    (_rx(r"小偷小摸"), "/"),
    (_rx(r"气晕|晕车|晕船|晕机|头晕眼花"), "/"),
    (_rx(r"(?:感动|激动|高兴|气)得说不出话"), "/"),
    (_rx(r"(?:气|累|忙|呕)得.{0,3}吐血"), "/"),
    (_rx(r"烫伤膏|烫伤药|烧伤膏|烧伤科|烫伤科"), "/"),
    (_rx(r"(?:没有?|不是|并没有?|别|不会|以免|免得)(?:摔倒|跌倒|晕倒|昏倒|着火|起火|漏气|泄漏|中风|噎着|呛着|烫着|烫伤|摔着)"),
     "/"),
)

# Dialect words intents.normalise leaves alone (Sichuan 脑壳 "head", 遭了 "oh no"; northern 嘎哈 "what").
EXTRA_DIALECT: tuple[tuple[str, str], ...] = (("脑壳", "头"), ("遭了", "不好了"), ("嘎哈", "干什么"))

# Key words whose pinyin-input typos are rewritten, and everyday words that read the same.
TYPO_KEYS: tuple[str, ...] = (
    "摔倒", "跌倒", "晕倒", "昏倒", "晕过去", "昏过去", "昏迷", "着火", "起火", "失火", "火灾", "煤气", "燃气", "天然气",
    "液化气", "泄漏", "泄露", "漏气", "救命", "跳楼", "安眠药", "自杀", "抽搐", "中风", "呼吸困难", "窒息", "抢劫", "小偷",
    "流血", "淹水", "水管", "不想活", "救护车",
)
TYPO_DENY: frozenset[str] = frozenset({
    "没气", "水灌", "运过去", "抽出", "时候", "期货", "这伙", "留学", "盐水", "火在", "小头", "是火", "中锋", "谁管", "水官",
})

# -- pipeline ------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
# Voice fillers and clause-final particles (救命啊 → 救命). Unlike intents.normalise, 就是 and 那个 stay:
# 活着就是个负担 needs its 就是, and 活着干嘛 its 嘛.
_FILLERS = re.compile(r"嗯+|呃+|唉+|哎+呀?|诶+|欸+|(?<!干)[啊呀吧呢哈嘛咧嘞哩噻哦喔咯啦]+(?=$|\s)")


@dataclass(frozen=True, slots=True)
class _TypoIndex:
    keys: Mapping[tuple[str, ...], str]
    lengths: tuple[int, ...]  # longest first
    first_syllables: frozenset[str]
    readings: Mapping[str, str]


@cache
def _typo_index() -> _TypoIndex:
    readings = reading_table()
    keys: dict[tuple[str, ...], str] = {}
    for key in TYPO_KEYS:
        syllables = tuple(readings.get(ch, "") for ch in key)
        if all(syllables):
            keys.setdefault(syllables, key)
    return _TypoIndex(
        keys=MappingProxyType(keys),
        lengths=tuple(sorted({len(k) for k in keys}, reverse=True)),
        first_syllables=frozenset(k[0] for k in keys),
        readings=readings,
    )


def fix_typos(text: str) -> str:
    """Rewrite pinyin-input typos of the key words (云倒→晕倒, 着伙→着火, 煤汽→煤气).

    A window is rewritten when every character reads like the key word's (their usual reading,
    toneless), at least one character is the key word's own and at least one differs, and it is
    not an everyday word that happens to read the same (没气, 敲门, 时候).
    """
    index = _typo_index()
    syllables = [index.readings.get(ch, "") for ch in text]
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if syllables[i] not in index.first_syllables:
            out.append(text[i])
            i += 1
            continue
        for length in index.lengths:
            if i + length > n:
                continue
            key = index.keys.get(tuple(syllables[i : i + length]))
            if key is None:
                continue
            window = text[i : i + length]
            same = sum(a == b for a, b in zip(window, key, strict=True))
            if window == key or (0 < same < length and window not in TYPO_DENY):
                out.append(key)
                i += length
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def prepare(text: str) -> tuple[str, str]:
    """The message as the cues see it: (with clause breaks as spaces, without spaces)."""
    text = text[:MAX_CHARS]
    normaliser = default_normaliser()
    spaced = strip_symbols(normaliser.rewrite_dialect(normaliser.fold(text)))
    spaced = _FILLERS.sub(" ", spaced)
    for old, new in EXTRA_DIALECT:
        spaced = spaced.replace(old, new)
    # opencc keeps 著 (also a simplified character, 著名); in 著火/活著 it is 着.
    spaced = re.sub(r"著(?!名|作|称|述|书)", "着", spaced)
    spaced = " ".join(fix_typos(part) for part in spaced.split(" ")) if spaced else ""
    for pattern, replacement in IDIOMS:
        spaced = pattern.sub(replacement, spaced)
    spaced = _SPACES.sub(" ", spaced).strip()
    return spaced, spaced.replace(" ", "")


@dataclass(frozen=True, slots=True)
class _Hit:
    kind: str
    weight: int
    words: str
    start: int
    end: int


def _kind_hits(compact: str) -> list[_Hit]:
    hits = []
    for cue in CUES:
        found = cue.pattern.search(compact)
        if found is None or (cue.unless is not None and cue.unless.search(compact)):
            continue
        group = "cue" if "cue" in cue.pattern.groupindex else 0
        hits.append(_Hit(cue.kind, cue.weight, found.group(group), found.start(group), found.end(group)))
    return hits


def _help_hit(spaced: str) -> tuple[int, str] | None:
    for weight, pattern in HELP_CUES:
        found = pattern.search(spaced)
        if found is not None:
            return weight, found.group(0)
    return None


def _score(hits: Iterable[_Hit]) -> dict[str, _Hit]:
    """Per kind: the best cue, its weight raised by one when another cue elsewhere in the text agrees."""
    by_kind: dict[str, list[_Hit]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, []).append(hit)
    scored = {}
    for kind, found in by_kind.items():
        best = max(found, key=lambda h: h.weight)
        other = any(h.end <= best.start or h.start >= best.end for h in found if h is not best)
        scored[kind] = _Hit(kind, best.weight + (1 if other else 0), best.words, best.start, best.end)
    return scored


def triage(text: str) -> Triage:
    """Score ``text`` for every kind of emergency; :func:`detect_emergency` keeps only the decision."""
    spaced, compact = prepare(text)
    if not compact:
        return Triage(compact, (), (), 0, (), None)
    hits = _kind_hits(compact)
    help_hit = _help_hit(spaced)
    all_hits = tuple((h.kind, h.weight, h.words) for h in hits) + ((("help", *help_hit),) if help_hit else ())
    if not all_hits:
        return Triage(compact, (), (), 0, (), None)
    urgency = 2 if URGENT_HIGH.search(compact) else 1 if URGENT.search(compact) else 0
    matched = {g.name for g in GUARDS if g.pattern.search(compact)}
    active = [g for g in GUARDS if g.name in matched and (g.only_with is None or g.only_with in matched)]
    guards = tuple(g.name for g in active)
    adjust = urgency + sum(g.weight for g in active)
    per_kind = _score(hits)
    scores = sorted(
        ((kind, hit.weight + adjust) for kind, hit in per_kind.items()),
        key=lambda item: (-item[1], PRIORITY.index(item[0])),
    )
    emergency = None
    if scores and scores[0][1] >= THRESHOLD:
        kind = scores[0][0]
        emergency = Emergency(kind, per_kind[kind].words)
    elif help_hit is not None and help_hit[0] + adjust - urgency >= THRESHOLD:  # 救命 is its own urgency
        kind = next((k for pattern, k in HELP_KIND if pattern.search(compact)), "medical")
        emergency = Emergency(kind, help_hit[1])
    return Triage(compact, all_hits, guards, urgency, tuple(scores), emergency)


def detect_emergency(text: str) -> Emergency | None:
    """The emergency ``text`` reports as happening now, or None (also for empty or odd input)."""
    return triage(text).emergency
