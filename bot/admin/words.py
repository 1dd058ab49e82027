"""The console's words for stored codes: order history triggers, audit actions and subjects, detail fields, and
who did something (a name, never an openid). One home: every page that shows one of these uses this table."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.people.volunteers import DISMISSAL_REASONS, STATUS_WORDS
from intents.masking import mask_phone
from storage.models import Membership, User, Volunteer
from storage.models_admin import StaffAccount

# order history (OrderEvent.trigger): the lifecycle's triggers and the events recorded beside them
TRIGGER_WORDS: Mapping[str, str] = {
    "submit": "下单", "dispatch": "派单", "accept": "接单", "give_back": "退单", "support": "确认配套",
    "complete": "完成", "rate": "评价", "close": "结束", "cancel": "取消", "expire": "过期",
    "service_change": "改服务", "requeue": "重新派单", "comment": "留言", "escalate": "转工作人员",
    "edit_time": "居民改时间", "edit_address": "居民改地址", "edit_phone": "居民改电话",  # bot.serviceloop.edits
    "edit_details": "居民补充内容",
    "nudge": "居民催单",  # bot.serviceloop.nudges
    "review": "核查低分评价",  # orders.review of an order closed before it was re-rated low
}

# the audit log (AuditLog.action)
ACTION_WORDS: Mapping[str, str] = {
    "staff_login": "登录后台", "staff_logout": "退出后台", "staff_create": "新建账号", "staff_enable": "启用账号",
    "staff_disable": "停用账号", "staff_password": "修改密码", "staff_link_code": "生成绑定微信二维码",
    "staff_link": "绑定微信", "staff_unlink": "解除微信绑定",
    "order_assign": "派单", "order_support": "确认配套", "order_cancel": "取消订单", "order_service": "改服务",
    "order_complete": "代登记完成", "order_confirm": "代确认完成", "order_review": "核查低分评价",
    "order_create": "代客下单", "order_rate": "代录评价",
    "volunteer_status": "改志愿者状态", "event_add": "新增活动", "event_move": "改活动时间", "event_cancel": "取消活动",
    "event_generate": "按规则生成活动", "broadcast_create": "新建群发", "callout_start": "发起紧急召集",
    "callout_close": "结束紧急召集", "incident_open": "记录紧急事件", "incident_handled": "紧急事件已处理",
    "catalogue_save": "保存服务目录", "example_add": "新增说法", "example_remove": "撤销说法",
    "example_restore": "恢复说法", "ledger_export": "导出台账", "outbox_resend": "重发消息",
    "outbox_dead": "消息发送失败", "outbox_undelivered": "消息未送达", "outbox_told": "登记电话告知",
    "hub_add": "新建站点",
    "wecom_link": "绑定企业微信", "handover_reply": "回复居民", "handover_back": "交还机器人",
    "team_create": "新建服务队", "team_update": "修改服务队", "team_leader": "设置队长", "team_join": "加入服务队",
    "team_leave": "离开服务队", "team_robot": "设置群机器人", "merchant_create": "添加商户",
    "merchant_update": "修改商户", "merchant_enable": "恢复商户", "merchant_disable": "停用商户",
    "order_intake": "代客下单", "order_phone_rating": "登记电话评价",
    "walkin_record": "登记现场服务", "points_adjust": "调整积分", "points_reverse": "冲正积分",
}

# what an audit row is about (AuditLog.subject is "<kind>:<id>")
SUBJECT_WORDS: Mapping[str, str] = {
    "order": "订单", "volunteer": "志愿者", "staff": "账号", "event": "活动", "events": "活动", "user": "居民",
    "outbox": "消息", "incident": "紧急事件", "broadcast": "群发", "callout": "紧急召集", "catalogue": "服务目录",
    "example": "说法", "ledger": "台账", "hub": "站点", "team": "服务队", "merchant": "商家",
}

# audit detail fields
DETAIL_WORDS: Mapping[str, str] = {
    "before": "原来", "to": "改为", "reason": "原因", "reason_code": "依据", "note": "说明", "volunteer_id": "志愿者",
    "service": "服务", "hours": "时长", "format": "格式", "rows": "条数", "made": "新建", "username": "账号",
    "handover": "会话", "title": "标题", "starts_at": "开始", "role": "角色", "display_name": "名字",
    "count": "数量", "text": "内容", "error": "原因",
}

POINT_KINDS: Mapping[str, str] = {"earn": "获得", "redeem": "兑换", "adjust": "调整", "reverse": "冲回",
                                  "expire": "过期"}
OFFER_OUTCOMES: Mapping[str, str] = {"accepted": "接单", "lost": "已由别人接单", "returned": "退单", "": "未回复"}
FORMAT_WORDS: Mapping[str, str] = {"csv": "CSV表格", "xlsx": "Excel表格"}
# how a volunteer applied (Membership.source: "chat", or "qr:<scene>" for a parameterised QR code)
SOURCE_WORDS: Mapping[str, str] = {"chat": "微信对话报名", "qr": "扫码报名"}

SYSTEM = "系统"
SYSTEM_ACTORS = frozenset({"auto", "system", "incident", "timeout"})
_CODE_LIKE = re.compile(r"[A-Za-z_]{2,}")  # a value that reads as a code, not as words
_SUBJECT = re.compile(r"(?P<kind>[a-z_]+):(?P<rest>.*)")


def source_in_words(source: str | None) -> str:
    if not source:
        return "未记录"
    return SOURCE_WORDS.get(source.split(":", 1)[0], "其他方式")


def trigger_in_words(trigger: str) -> str:
    return TRIGGER_WORDS.get(trigger, "其他变动")


_SERVICE_CHANGE = re.compile(r"(?P<old>[a-z][a-z0-9_]*)→(?P<new>[a-z][a-z0-9_]*)")  # "haircut→companionship"


def reason_in_words(reason: str | None, service_name: Callable[[str], str]) -> str:
    """An order event's reason as people read it: a service change's catalogue codes ("haircut→companionship",
    as the history stores it) shown as the services' names ("义务理发→陪伴聊天")."""
    return _SERVICE_CHANGE.sub(lambda m: f"{service_name(m['old'])}→{service_name(m['new'])}", reason or "")


def action_in_words(action: str) -> str:
    return ACTION_WORDS.get(action, "其他操作")


def subject_in_words(subject: str | None) -> str:
    """"order:12" -> "订单12", "catalogue:v3" -> "服务目录第3版", "ledger:2026-11" -> "台账2026-11"."""
    m = _SUBJECT.fullmatch(subject or "")
    if m is None:
        return ""
    kind, rest = SUBJECT_WORDS.get(m["kind"], "记录"), m["rest"]
    if re.fullmatch(r"v[0-9]+", rest):
        return f"{kind}第{rest[1:]}版"
    return f"{kind}{rest}" if re.fullmatch(r"[0-9\-]*", rest) else kind


def _value(key: str, value: Any, volunteer_name: Callable[[int], str], service_name: Callable[[str], str]) -> str:
    if key in ("before", "to") and isinstance(value, str):
        return STATUS_WORDS.get(value, value)
    if key == "reason_code" and isinstance(value, str):
        return DISMISSAL_REASONS.get(value, "")
    if key == "volunteer_id" and isinstance(value, int):
        return volunteer_name(value)
    if key == "service" and isinstance(value, str):
        return service_name(value)
    if key == "hours" and isinstance(value, int | float):
        return f"{value:g}小时"
    if key == "format" and isinstance(value, str):
        return FORMAT_WORDS.get(value, "")
    if key == "handover" and isinstance(value, int):
        return f"第{value}次"
    if isinstance(value, bool):
        return "是" if value else "否"
    text = str(value)
    return "" if _CODE_LIKE.search(text) and key not in ("reason", "note", "text", "title") else text


def details_in_words(detail: Mapping[str, Any] | None, *, volunteer_name: Callable[[int], str],
                     service_name: Callable[[str], str]) -> str:
    """An audit row's details as "原来：待审核，改为：已通过审核"; fields or values that are only codes are left out
    (a technical error stays in the record, the page shows it on hover)."""
    parts = []
    for key, value in (detail or {}).items():
        if value in (None, "") or key == "error" or key not in DETAIL_WORDS:
            continue
        words = _value(key, value, volunteer_name, service_name)
        if words:
            parts.append(f"{DETAIL_WORDS[key]}：{words}")
    return "，".join(parts)


def resident_name(user: User | None) -> str:
    if user is None:
        return "居民"
    return user.nickname or (f"居民{mask_phone(user.phone)}" if user.phone else "居民")


_USERNAME_LIKE = re.compile(r"[a-z][a-z0-9_.\-]{1,63}")


def actor_names(s: Session, hub_id: int, actors: Iterable[str]) -> dict[str, str]:
    """Who each stored actor is, in words: "系统" for the bot's own moves, a staff account's display name, the
    volunteer's name or the resident's nickname (or masked phone) for an openid. Two queries for any number."""
    wanted = set(actors)
    names: dict[str, str] = {}
    openids: dict[str, str] = {}  # openid -> actor
    usernames: dict[str, str] = {}
    for actor in wanted:
        if actor in SYSTEM_ACTORS or actor.startswith("worker"):
            names[actor] = SYSTEM
        elif actor == "cli":
            names[actor] = "后台命令"
        elif actor == "resident":
            names[actor] = "居民"
        elif actor.startswith("web:"):
            usernames[actor[4:]] = actor
        elif actor.startswith("wechat:"):
            openids[actor[7:]] = actor
        elif actor:
            openids[actor] = actor  # an openid, or "--actor xiaoli" on a command: a staff account's username
    # "--actor xiaoli": a username as staff type them (lower case); an openid has capitals ("oAbC…"), and no query
    # is added for a page of residents' and volunteers' moves only
    bare = {actor for actor in openids if _USERNAME_LIKE.fullmatch(actor)}
    if usernames or bare:
        for username, display in s.execute(select(StaffAccount.username, StaffAccount.display_name)
                                           .where(StaffAccount.username.in_(set(usernames) | bare))):
            if username in usernames:
                names[usernames[username]] = display or username  # as the header names the signed-in person
            if username in bare:
                names[username] = display or username
    if openids:
        rows = s.execute(select(User, Volunteer.name).outerjoin(
            Membership, (Membership.user_id == User.id) & (Membership.hub_id == hub_id))
            .outerjoin(Volunteer, Volunteer.id == Membership.volunteer_id)
            .where(User.hub_id == hub_id, User.openid.in_(openids))).all()
        for user, volunteer in rows:
            names[openids[user.openid]] = volunteer or resident_name(user)
    for actor in wanted:  # a name typed with a command's --by ("小王"): as typed, no WeChat openid looks like it
        names.setdefault(actor, "工作人员" if actor.startswith("web:") else
                         f"{actor}（后台命令）" if re.search(r"[\u4e00-\u9fff]", actor) else "未知用户")
    return names
