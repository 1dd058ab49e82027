"""Held-out part v4: conversations written blind, from the README and DESIGN.md only (never from the bot's code), every
expectation before the first run and none changed after it. Residents write as an elderly person types or speaks
into voice input: run-on, no punctuation, pinyin typos, dialect. The checks look at what a real user needs: the right
state, the action taken, the order's time, address and phone, the emergency number first.

The day is Monday 2026-11-23 in Shanghai (see `corpus.Conv`), 10:00 unless a conversation says otherwise.
"""

from __future__ import annotations

from bot.dialogue.core import Result
from tests.bot.dialogue.corpus import (
    REG_AT_TIMES,
    TO_CONFIRM,
    Check,
    Conv,
    CorpusTranscript,
    act,
    avail,
    conv,
    draft,
    draft_has,
    draft_lacks,
    never,
    no_act,
    not_ordering,
    reg,
    says,
    says_any,
    silent,
    state,
    urgent,
    when,
)
from tests.bot.dialogue.corpus import answered as answers
from tests.bot.dialogue.corpus import any_of as one_of
from tests.bot.dialogue.corpus import in_an_order as ordering

# -- small compositions of the corpus's checks ------------------------------------------------------------------








def hearts(lo: int, hi: int) -> Check:
    """A rating was recorded with between lo and hi hearts."""
    def check(res: Result, t: CorpusTranscript) -> str | None:
        given = [a.data.get("hearts") for a in res.actions if a.name == "rate"]
        if not given:
            return "no rating recorded"
        ok = [h for h in given if isinstance(h, int) and lo <= h <= hi]
        return None if ok else f"hearts {given}, expected {lo}..{hi}"
    return check


PAST = never("已经过去", "时间过去了", "已过")
EMERGENCY_MEDICAL = (says_any("120"), act("emergency"), no_act("submit_order"))
VOLUNTEER = frozenset({"volunteer"})
PHONE = "13800138000"
HAIRCUT_SEEN = says_any("理发", "剃头", "剪发")
TASKS = {"my_tasks": [{"id": 482913, "service": "理发", "when": "今天下午两点"}]}
TWO_ORDERS = {"open_orders": [{"id": 482913, "service": "理发", "when": "明天上午九点"},
                              {"id": 517264, "service": "陪诊", "when": "后天上午"}]}
TEAMS = {"teams": [{"code": "barbers", "name": "理发服务队", "services": ("haircut",)},
                   {"code": "escorts", "name": "陪诊服务队", "services": ("escort",)}]}
CONFIRM = (TO_CONFIRM[0], state("ORDER_CONFIRM"))
SUBMITTED = act("submit_order")
DROPPED = (no_act("submit_order"), not_ordering)


# -- times as people say them ----------------------------------------------------------------------------------

TIMES = [
    conv("h4_time_shangwu",
         ("今天晌午那会儿来幸福小区3栋给我理个发", when(0, (11, 13)), PAST, HAIRCUT_SEEN), phone=PHONE),
    conv("h4_time_one_zhongtou_later",
         ("幸福小区3栋 我想理个发", state("ORDER_TIME")),
         ("一个钟头以后吧", when(0, (10, 11)), PAST), phone=PHONE),
    conv("h4_time_jinkuai",
         ("那个我想理发 尽快来人 幸福小区3栋", urgent, PAST), phone=PHONE),
    conv("h4_time_guo_liangtian_morning",
         ("过两天上午来给我理个发 幸福小区3栋", when(2, (8, 12)), PAST), phone=PHONE),
    conv("h4_time_xia_libai_san",
         ("下礼拜三下午两点 幸福小区3栋理发", when(9, (14, 14))), phone=PHONE),
    conv("h4_time_minger_yidazao",
         ("明儿个一大早来给我剃个头 幸福小区3栋", when(1, (5, 9)), PAST), phone=PHONE),
    conv("h4_time_houer_afternoon",
         ("后儿个下午来理发 幸福小区3栋", when(2, (12, 18))), phone=PHONE),
    conv("h4_time_dahoutian_ten",
         ("大后天上午十点 幸福小区三栋 理发", when(3, (10, 10))), phone=PHONE),
    conv("h4_time_libaitian",
         ("礼拜天上午来理发 幸福小区3栋", when(6, (8, 12))), phone=PHONE),
    conv("h4_time_yuekuaiyuehao",
         ("越快越好 幸福小区3栋 理发", urgent), phone=PHONE),
    conv("h4_time_three_thirty",
         ("今儿下午三点半 幸福小区3栋 理发", when(0, (15, 15), 30), PAST), phone=PHONE),
    conv("h4_time_tonight_seven",
         ("晚上七点来 幸福小区3栋 理个发", when(0, (19, 19)), PAST), phone=PHONE),
    conv("h4_time_two_zhongtou_later",
         ("幸福小区3栋 理发", state("ORDER_TIME")),
         ("两个钟头以后", when(0, (12, 12)), PAST), phone=PHONE),
    conv("h4_time_dec_first",
         ("12月1号上午来理发 幸福小区3栋", when(8, (8, 12))), phone=PHONE),
    conv("h4_time_zhe_libai_wu",
         ("这礼拜五上午九点 理发 幸福小区3栋", when(4, (9, 9))), phone=PHONE),
    conv("h4_time_already_past",
         ("今天早上八点来理发 幸福小区3栋", says_any("过去", "已经过了", "过了", "换个时间", "别的时间"),
          no_act("submit_order")), phone=PHONE),
    conv("h4_time_late_afternoon_today",
         ("下午五点来理发 幸福小区3栋", when(0, (17, 17)), PAST), phone=PHONE, at="16:00"),
    conv("h4_time_noon_twelve",
         ("幸福小区3栋 理发", state("ORDER_TIME")),
         ("中午十二点", when(0, (12, 12)), PAST), phone=PHONE),
]

# -- corrections --------------------------------------------------------------------------------------------------

CORRECTIONS = [
    conv("h4_fix_address_wrong_is",
         CONFIRM,
         ("地址不对 是幸福小区5栋", draft_has("address", "5栋"), draft_lacks("address", "3栋"), no_act("submit_order")),
         ("对", SUBMITTED, draft_has("address", "5栋"))),
    conv("h4_fix_phone_change_to",
         CONFIRM,
         ("电话换成13912345678", draft_has("phone", "13912345678"), no_act("submit_order")),
         ("好", SUBMITTED, draft_has("phone", "13912345678"))),
    conv("h4_fix_not_tomorrow_houtian",
         CONFIRM,
         ("不是明天是后天", when(2, (9, 9)), no_act("submit_order"))),
    conv("h4_fix_time_afternoon_three",
         CONFIRM,
         ("时间弄错了 改成下午三点", when(1, (15, 15)), no_act("submit_order"))),
    conv("h4_fix_building_eight",
         CONFIRM,
         ("哎呀说错了 是八栋不是三栋", draft_has("address", "8"), draft_lacks("address", "3栋"))),
    conv("h4_fix_phone_spoken",
         CONFIRM,
         ("号码错了 幺三九幺二三四五六七八", draft_has("phone", "13912345678"))),
    conv("h4_fix_move_to_thursday",
         CONFIRM,
         ("改到礼拜四吧", when(3), no_act("submit_order"))),
    conv("h4_fix_earlier_eight",
         CONFIRM,
         ("早点来 八点吧", when(1, (8, 8)))),
    conv("h4_fix_other_estate",
         CONFIRM,
         ("地址写错了 应该是阳光花园12号楼", draft_has("address", "阳光花园"), draft_lacks("address", "幸福小区")),
         ("是的", SUBMITTED, draft_has("address", "阳光花园"))),
    conv("h4_fix_time_self_correct",
         ("幸福小区3栋 理发", state("ORDER_TIME")),
         ("明天 哦不对 后天上午", when(2, (8, 12))), phone=PHONE),
    conv("h4_fix_son_phone",
         CONFIRM,
         ("电话不是这个 打我儿子的13700001111", draft_has("phone", "13700001111"))),
    conv("h4_fix_change_address_step",
         CONFIRM,
         ("改地址", state("ORDER_ADDRESS", "ORDER_EDIT"), no_act("submit_order")),
         ("幸福小区7栋", draft_has("address", "7栋"), state("ORDER_CONFIRM", "ORDER_EDIT"))),
    conv("h4_fix_keeps_service",
         CONFIRM,
         ("不是明天 是大后天下午两点", when(3, (14, 14)), HAIRCUT_SEEN, draft_has("address", "幸福小区"))),
]

# -- yes / no / cancel ---------------------------------------------------------------------------------------------

YES_NO = [
    conv("h4_yes_nengna", CONFIRM, ("嗯呐", SUBMITTED)),
    conv("h4_yes_zhong", CONFIRM, ("中 中", SUBMITTED)),
    conv("h4_yes_yaode", CONFIRM, ("要得", SUBMITTED)),
    conv("h4_yes_duitou", CONFIRM, ("对头", SUBMITTED)),
    conv("h4_yes_haolei", CONFIRM, ("好嘞就这样", SUBMITTED)),
    conv("h4_yes_meimaobing", CONFIRM, ("没毛病", SUBMITTED)),
    conv("h4_yes_shidi", CONFIRM, ("是滴是滴", SUBMITTED)),
    conv("h4_yes_keyide", CONFIRM, ("可以的呀", SUBMITTED)),
    conv("h4_no_suanle", CONFIRM, ("算了不要了", *DROPPED)),
    conv("h4_no_bunongle", CONFIRM, ("不弄了不弄了", *DROPPED)),
    conv("h4_no_later_with_time_words", CONFIRM, ("先不要了 过两天再说", *DROPPED)),
    conv("h4_no_quxiao_ba", CONFIRM, ("取消吧", *DROPPED)),
    conv("h4_no_mogaole", CONFIRM, ("莫搞了", *DROPPED)),
    conv("h4_no_budui_is_not_yes", CONFIRM, ("不对", no_act("submit_order"), state("ORDER_EDIT", "ORDER_CONFIRM"))),
    conv("h4_cancel_the_haircut_one",
         ("那个理发的不要了", one_of(act("cancel_order"), state("CANCEL_PICK")), HAIRCUT_SEEN, not_ordering),
         ctx=TWO_ORDERS),
    conv("h4_cancel_pick_second",
         ("取消订单", state("CANCEL_PICK"), says("1", "2")),
         ("2", act("cancel_order")),
         ctx=TWO_ORDERS),
]

# -- status, people, points ----------------------------------------------------------------------------------------

STATUS = [
    conv("h4_status_zayangle", ("我的单子咋样了", act("my_orders"), not_ordering)),
    conv("h4_status_nobody_came", ("我叫的人咋还没来呀", act("my_orders"), not_ordering)),
    conv("h4_status_check_orders", ("帮我查查我的订单", act("my_orders"))),
    conv("h4_status_haircut_taken", ("我昨天约的理发有人接了没有", act("my_orders"), not_ordering)),
    conv("h4_people_real_person", ("找个真人", act("human_handover"), state("HUMAN"))),
    conv("h4_people_zhuan_rengong", ("转人工", act("human_handover"), state("HUMAN"))),
    conv("h4_people_machine_dumb", ("机器听不懂 我要跟人说话", act("human_handover"), state("HUMAN"))),
    conv("h4_people_staff", ("叫你们工作人员来一下", act("human_handover"), state("HUMAN"))),
    conv("h4_people_quiet_after",
         ("找个真人", state("HUMAN")),
         ("喂 有人吗", silent, state("HUMAN"), no_act("submit_order"))),
    conv("h4_points_how_many", ("我有多少分", act("points"), not_ordering)),
    conv("h4_points_jifen_typo", ("查下我的鸡分", act("points"))),
    conv("h4_passbook", ("我的存折", act("passbook"))),
    conv("h4_events_when", ("最近有啥活动没有", act("events"), not_ordering)),
    conv("h4_status_mid_order",
         ("幸福小区3栋 理发", state("ORDER_TIME")),
         ("我上回那个单子咋样了", act("my_orders")), phone=PHONE),
]

# -- small talk ----------------------------------------------------------------------------------------------------

SMALL_TALK = [
    conv("h4_talk_xiexie", ("谢谢", says_any("不客气", "不用谢", "应该的"), not_ordering, no_act())),
    conv("h4_talk_xiexie_comrade", ("谢谢你啊小同志", says_any("不客气", "不用谢", "应该的"), not_ordering)),
    conv("h4_talk_who", ("你是谁啊", says_any("雷锋超市", "助手", "机器人"), not_ordering, no_act())),
    conv("h4_talk_robot", ("你是机器人吗", says_any("雷锋超市", "助手", "机器人", "人工"), not_ordering)),
    conv("h4_talk_good_morning", ("早上好", says_any("早", "好"), not_ordering, no_act()), at="07:30"),
    conv("h4_talk_good_evening", ("晚上好呀", says_any("好"), not_ordering, no_act()), at="19:30"),
    conv("h4_talk_hello_menu", ("你好", says_any("回复", "1"), not_ordering)),
    conv("h4_talk_thumbs", ("👍", answers, not_ordering, no_act())),
    conv("h4_talk_folded_hands", ("🙏🙏🙏", answers, not_ordering, no_act())),
    conv("h4_talk_haha", ("哈哈哈", answers, not_ordering, no_act())),
    conv("h4_talk_eaten", ("吃了没", answers, not_ordering, no_act())),
    conv("h4_talk_bye", ("好了 再见", answers, not_ordering, no_act())),
    conv("h4_talk_thanks_after_submit",
         CONFIRM,
         ("嗯", SUBMITTED),
         ("谢谢啊", says_any("不客气", "不用谢", "应该的"), not_ordering, no_act())),
]

# -- volunteers ---------------------------------------------------------------------------------------------------

VOLUNTEERS = [
    conv("h4_vol_youshahuo", ("有啥活", act("open_tasks"), not_ordering), roles=VOLUNTEER),
    conv("h4_vol_any_orders_now", ("现在有单子吗", act("open_tasks")), roles=VOLUNTEER),
    conv("h4_vol_help_needed", ("有没有要帮忙的活儿", act("open_tasks")), roles=VOLUNTEER),
    conv("h4_vol_accept", ("接单 482913", act("accept"), not_ordering), roles=VOLUNTEER),
    conv("h4_vol_accept_glued", ("接单482913", act("accept")), roles=VOLUNTEER),
    conv("h4_vol_accept_jiedan_typo", ("借单 482913", act("accept")), roles=VOLUNTEER),
    conv("h4_vol_accept_egg_typo", ("接蛋482913", act("accept")), roles=VOLUNTEER),
    conv("h4_vol_accept_fullwidth", ("接单 ４８２９１３", act("accept")), roles=VOLUNTEER),
    conv("h4_vol_accept_spoken", ("我接 482913 这个单", act("accept"), not_ordering), roles=VOLUNTEER),
    conv("h4_vol_done_hours",
         ("做完了 干了两个钟头", one_of(act("complete"), state("VOL_HOURS")), not_ordering),
         roles=VOLUNTEER, ctx=TASKS, at="17:00"),
    conv("h4_vol_done_asks_hours",
         ("做完了", one_of(act("complete"), state("VOL_HOURS")), not_ordering),
         ("两个小时", act("complete")),
         roles=VOLUNTEER, ctx=TASKS, at="17:00"),
    conv("h4_vol_complete_command", ("完成 482913 2小时", act("complete")), roles=VOLUNTEER, ctx=TASKS, at="17:00"),
    conv("h4_vol_give_back", ("退单", one_of(act("give_back"), state("VOL_GIVEBACK")), not_ordering),
         roles=VOLUNTEER, ctx=TASKS),
    conv("h4_vol_cannot_go", ("这单我去不了了 家里有事 退了吧", one_of(act("give_back"), state("VOL_GIVEBACK"))),
         roles=VOLUNTEER, ctx=TASKS),
    conv("h4_vol_my_tasks", ("我的任务", one_of(act("my_tasks"), act("my_orders")), not_ordering),
         roles=VOLUNTEER, ctx=TASKS),
    conv("h4_vol_what_i_took", ("我接的单子有哪些", one_of(act("my_tasks"), act("my_orders"))),
         roles=VOLUNTEER, ctx=TASKS),
    conv("h4_vol_points", ("我积分多少了", act("points")), roles=VOLUNTEER),
    conv("h4_vol_stars", ("我现在几颗星了", one_of(act("points"), act("profile"))), roles=VOLUNTEER),
]

# -- volunteer registration ----------------------------------------------------------------------------------------

REGISTRATION = [
    conv("h4_reg_want_to_be", ("我想当志愿者", state("REG_NAME"), not_ordering)),
    conv("h4_reg_typo", ("注册志原者", state("REG_NAME"))),
    conv("h4_reg_dialect", ("俺也想报名当个志愿者 帮帮人", state("REG_NAME"), not_ordering)),
    conv("h4_reg_name_then_gender",
         ("注册志愿者", state("REG_NAME")),
         ("我叫王建国", reg(name="王建国"), state("REG_GENDER")),
         ("男的", reg(gender="男"), state("REG_BIRTH"))),
    conv("h4_reg_woman_comrade",
         ("注册志愿者", state("REG_NAME")),
         ("张秀兰", reg(name="张秀兰"), state("REG_GENDER")),
         ("女同志", reg(gender="女"))),
    conv("h4_reg_weekday_mornings",
         ("周一到周五上午", avail("一二三四五", "上午"), state("REG_PHONE")), state="REG_TIMES", slots=REG_AT_TIMES),
    conv("h4_reg_usually_evenings",
         ("平时晚上", avail("一二三四五", "晚上")), state="REG_TIMES", slots=REG_AT_TIMES),
    conv("h4_reg_weekend_all_day",
         ("周末全天都行", avail("六日", "全天")), state="REG_TIMES", slots=REG_AT_TIMES),
    conv("h4_reg_libai_six_seven_pm",
         ("礼拜六礼拜天下午", avail("六日", "下午")), state="REG_TIMES", slots=REG_AT_TIMES),
    conv("h4_reg_every_morning",
         ("每天上午", avail("一二三四五六日", "上午")), state="REG_TIMES", slots=REG_AT_TIMES),
    conv("h4_reg_one_three_five",
         ("一三五下午", avail("一三五", "下午")), state="REG_TIMES", slots=REG_AT_TIMES),
    conv("h4_reg_two_parts",
         ("工作日下午 还有周六上午", avail("一二三四五", "下午", ("六", "上午"))),
         state="REG_TIMES", slots=REG_AT_TIMES),
    conv("h4_reg_tue_thu_evening",
         ("周二周四晚上有空", avail("二四", "晚上")), state="REG_TIMES", slots=REG_AT_TIMES),
    conv("h4_reg_team_by_words",
         ("平时晚上", avail("一二三四五", "晚上"), state("REG_PHONE")),
         ("幺三九幺二三四五六七八", state("REG_TEAM")),
         ("理发那个队", reg(team="barbers"), state("REG_CONSENT")),
         state="REG_TIMES", slots=REG_AT_TIMES, ctx=TEAMS),
    conv("h4_reg_team_by_number",
         ("周一到周五上午", state("REG_PHONE")),
         ("13912345678", state("REG_TEAM"), says_any("理发服务队")),
         ("2", reg(team="escorts"), state("REG_CONSENT")),
         state="REG_TIMES", slots=REG_AT_TIMES, ctx=TEAMS),
    conv("h4_reg_no_team",
         ("周末全天", state("REG_PHONE")),
         ("13912345678", state("REG_TEAM")),
         ("不进队 我自己来", reg(team=None), state("REG_CONSENT")),
         state="REG_TIMES", slots=REG_AT_TIMES, ctx=TEAMS),
]

# -- emergencies in the middle of anything -------------------------------------------------------------------------

EMERGENCIES = [
    conv("h4_sos_mum_fell_idle", ("我妈摔倒了起不来", *EMERGENCY_MEDICAL, state("IDLE"))),
    conv("h4_sos_mum_fell_confirm", CONFIRM, ("我妈摔倒了起不来了 咋办啊", *EMERGENCY_MEDICAL, state("IDLE"))),
    conv("h4_sos_breath_time",
         ("幸福小区3栋 理发", state("ORDER_TIME")),
         ("俺爹喘不上气了 脸都紫了", *EMERGENCY_MEDICAL), phone=PHONE),
    conv("h4_sos_stroke", ("老伴中风了 嘴歪了说不出话", *EMERGENCY_MEDICAL)),
    conv("h4_sos_chest_pain", ("我心口疼得厉害 直冒冷汗", *EMERGENCY_MEDICAL)),
    conv("h4_sos_pills_child", ("孙子把药瓶里的药吃了好多片", *EMERGENCY_MEDICAL)),
    conv("h4_sos_fire_registration",
         ("厨房着火了 冒好大的烟", says_any("119"), act("emergency")), state="REG_TIMES", slots=REG_AT_TIMES),
    conv("h4_sos_gas", ("屋里好大一股煤气味", says_any("开窗", "燃气", "阀", "119"), act("emergency"))),
    conv("h4_sos_burglar", ("有个人在撬我家门", says_any("110"), act("emergency"), not_ordering)),
    conv("h4_sos_self_harm", ("活着没意思 我不想活了", says_any("12356", "120", "110"), act("emergency"))),
    conv("h4_sos_flood", ("楼下发大水了 水都漫进屋了", says_any("119", "110", "高处", "电闸"), act("emergency"))),
    conv("h4_sos_during_handover",
         ("找个真人", state("HUMAN")),
         ("老头子晕倒了叫不醒", says_any("120"), act("emergency"))),
    conv("h4_sos_while_rating", ("我爸突然晕过去了", *EMERGENCY_MEDICAL), state="RATE"),
    conv("h4_sos_volunteer_on_task",
         ("老人家摔倒了头上流血了", says_any("120"), act("emergency"), no_act("complete")),
         roles=VOLUNTEER, ctx=TASKS),
    conv("h4_not_sos_old_fall_escort",
         ("我妈上个月摔了一跤 腿还疼 想找人陪她去医院看看", no_act("emergency"), ordering, never("120"))),
    conv("h4_not_sos_stove_repair",
         ("煤气灶打不着火了 找个人来修修", no_act("emergency"), never("119"))),
]

# -- ratings -------------------------------------------------------------------------------------------------------

RATINGS = [
    conv("h4_rate_after_command", ("评价 482913", state("RATE")), ("五颗心", act("rate"), hearts(5, 5))),
    conv("h4_rate_five_hearts_all", ("五颗心都给", act("rate"), hearts(5, 5)), state="RATE"),
    conv("h4_rate_so_so", ("还行吧", hearts(3, 4)), state="RATE"),
    conv("h4_rate_unhappy", ("不满意", hearts(0, 2)), state="RATE"),
    conv("h4_rate_black_stars", ("★★★★", hearts(4, 4)), state="RATE"),
    conv("h4_rate_yibanban", ("一般般吧", hearts(2, 3)), state="RATE"),
    conv("h4_rate_praise", ("挺好的 小伙子手艺不错", hearts(4, 5)), state="RATE"),
    conv("h4_rate_nobody_came_zero", ("人都没来 零分", hearts(0, 0)), state="RATE"),
    conv("h4_rate_four_hearts", ("给四颗心", hearts(4, 4)), state="RATE"),
    conv("h4_rate_digit", ("5", hearts(5, 5)), state="RATE"),
    conv("h4_rate_three_stars", ("三颗星", hearts(3, 3)), state="RATE"),
    conv("h4_rate_with_comment",
         ("四颗心", one_of(act("rate"), state("RATE_COMMENT"))),
         ("理得挺精神 就是来晚了一点", one_of(act("comment"), act("rate")), not_ordering),
         state="RATE"),
]

# -- ordering for family members -----------------------------------------------------------------------------------

FAMILY = [
    conv("h4_family_mum_all_in_one",
         ("给我老娘张桂兰约个理发 明天上午九点 幸福小区2栋 她电话13912345678", state("ORDER_CONFIRM"),
          says_any("张桂兰"), when(1, (9, 9))),
         ("中", SUBMITTED)),
    conv("h4_family_dad_all_in_one",
         ("帮我爸订个理发 后天下午三点 幸福小区6栋 我爸叫李福生 电话13811112222", says_any("李福生"),
          when(2, (15, 15)), draft_has("address", "6栋"))),
    conv("h4_family_mum_haircut_start", ("帮我妈点个理发", ordering, no_act("emergency"), no_act("submit_order"))),
    conv("h4_family_dad_escort", ("我爸腿脚不好 想找人陪他去医院看病", ordering, says_any("陪诊", "陪", "医院"),
                                  no_act("emergency"))),
    conv("h4_family_old_man_pipes", ("替我家老头子叫个人来修修水管 他一个人在家", ordering, says_any("水", "修"))),
    conv("h4_family_grandma_far_away",
         ("我在外地 帮我奶奶订个上门理发 她住阳光花园5号楼", ordering, no_act("submit_order"))),
    conv("h4_family_sos_mid_proxy",
         ("帮我爸约个理发", ordering),
         ("哎呀我爸摔倒了起不来了", *EMERGENCY_MEDICAL)),
    conv("h4_family_mum_fell_last_month",
         ("帮我妈约个陪诊 她上个月摔了一跤 下礼拜一上午", no_act("emergency"), when(7, (8, 12)))),
    conv("h4_family_cancel_mid_proxy",
         ("帮我妈约个理发", ordering),
         ("算了 我妈说不要了", *DROPPED)),
    conv("h4_family_mum_then_confirm_no",
         ("给我妈刘秀英约个理发 今天晌午 幸福小区4栋 电话13900002222", says_any("刘秀英"), when(0, (11, 13)), PAST),
         ("不对 是后天", when(2, (11, 13)), no_act("submit_order"))),
    conv("h4_family_haircut_service",
         ("给我老爹约个剃头的 明天上午十点 幸福小区1栋 他叫赵大山 电话13822223333", draft(service="haircut"),
          says_any("赵大山"))),
]

THEMES: dict[str, list[str]] = {
    "times": [c.name for c in TIMES],
    "corrections": [c.name for c in CORRECTIONS],
    "yes_no_cancel": [c.name for c in YES_NO],
    "status_people_points": [c.name for c in STATUS],
    "small_talk": [c.name for c in SMALL_TALK],
    "volunteers": [c.name for c in VOLUNTEERS],
    "registration": [c.name for c in REGISTRATION],
    "emergencies": [c.name for c in EMERGENCIES],
    "ratings": [c.name for c in RATINGS],
    "family": [c.name for c in FAMILY],
}

HELDOUT_V4: list[Conv] = [*TIMES, *CORRECTIONS, *YES_NO, *STATUS, *SMALL_TALK, *VOLUNTEERS, *REGISTRATION,
                          *EMERGENCIES, *RATINGS, *FAMILY]
