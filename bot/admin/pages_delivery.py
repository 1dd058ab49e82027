"""Messages that reached nobody (bot.outbox.undelivered): who, what, why in plain words, "tell them by phone" with
已告知 (who and when, audited), and 重新发送 where queuing it again may get through; and the 群发 quota line
(bot.admin.stats.mass_quota). Residents without WeChat (orders taken by phone) are on this call list for every notice
a WeChat resident would have received (bot.outbox.enqueue_call)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import redirect, render_template, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin.context import ID, audit, bp, hub_id, now, reading, rejected, requires, run_change, staff
from bot.admin.forms import ActionForm
from bot.admin.stats import mass_quota
from bot.community.wechat_tags import TAG_LIMIT
from bot.community.wechat_tags import WORDS as TAG_WORDS
from bot.errors import LeifengError
from bot.outbox import DEAD, NO_WECHAT, PHONE, TOLD, UNDELIVERED, Undelivered, mark_told, resend, undelivered
from intents.masking import mask_name, mask_phone
from storage.models import Order, Team, User, Volunteer

# Why a route was not taken (bot.outbox_rules, bot.worker.sender reason codes), as staff read it.
REASON_WORDS: dict[str, str] = {
    "window_closed": "对方48小时内没有给公众号发过消息，客服消息发不出去（或这段时间的条数已用完）",
    "quota_kept": "对方剩下的客服消息条数要留给更要紧的消息",
    "not_following": "对方已取消关注公众号",
    "not_a_service_notice": "这类消息不能用模板消息发（模板只能发对方办理的事项）",
    "no_template": "没有配置能发这类通知的模板消息（leifeng templates set）",
    "no_team_route": "志愿者所在服务队没有群机器人，也没有绑定企业微信",
    "template_rejected": "微信拒收了模板消息：模板编号或字段不对，请检查配置",
    "refuses_templates": "对方拒收模板消息",
    "mass_quota": "对方本月的群发次数已用完",
    TAG_LIMIT: TAG_WORDS[TAG_LIMIT],
    "not_subscribed": "对方订阅的通知已用完",
    "subscribe_refused": "对方关掉了订阅通知",
    NO_WECHAT: "居民没有微信（工作人员代客下单），请打电话告诉对方",
}
NOTICE_WORDS: dict[str, str] = {
    "callout": "紧急集合", "incident": "紧急求助", "reply": "回复", "task_offer": "派单通知",
    "order_status": "订单进展", "rate_ask": "邀请评价", "appointment": "服务提醒", "order_update": "订单变动",
    "membership": "审核结果", "staff_todo": "待办事项", "event_change": "活动变动", "event_reminder": "活动提醒",
    "points": "积分变动", "digest": "工作简报", "announcement": "群发通知", "chat": "消息",
}
STATUS_WORDS = {UNDELIVERED: "请电话告知", "skipped": "未送达", DEAD: "发送失败", TOLD: "已电话告知"}


class DeliveryError(LeifengError):
    """A resend the console refuses (the row is not the hub's, or not resendable)."""


def reasons_text(item: Undelivered) -> list[str]:
    words = [REASON_WORDS.get(code, code) for code in item.reasons]
    if item.status == DEAD:
        words.append("多次重试仍然失败（微信接口或网络出错）")
    return words or ["没有可用的发送方式"]


def _names(s: Session, items: list[Undelivered]) -> dict[str, str]:
    """Who each recipient is, by name: a volunteer's name, a resident's nickname or the name on their latest order,
    a team for its group robot."""
    openids = sorted({i.to for i in items if i.channel == "wechat"})
    names: dict[str, str] = {}
    if openids:
        for openid, nickname, vol_name, user_id in s.execute(
                select(User.openid, User.nickname, Volunteer.name, User.id)
                .outerjoin(Volunteer, Volunteer.id == User.volunteer_id)
                .where(User.hub_id == hub_id(), User.openid.in_(openids))):
            name = vol_name or nickname or s.scalar(
                select(Order.resident_name).where(Order.hub_id == hub_id(), Order.ordered_by_user_id == user_id,
                                                  Order.resident_name.is_not(None))
                .order_by(Order.created_at.desc(), Order.id.desc()).limit(1))
            if name:
                names[openid] = str(name)
    keys = sorted({i.to for i in items if i.channel == "wecom_robot"})
    if keys:
        for key, team in s.execute(select(Team.robot_key, Team.name).where(Team.hub_id == hub_id(),
                                                                           Team.robot_key.in_(keys))):
            names[str(key)] = f"{team}的群"
    return names


def _row(item: Undelivered, names: dict[str, str]) -> dict[str, Any]:
    """One line of the list. The phone and the name stay whole only where staff are to call the person."""
    call = item.status == UNDELIVERED
    name = names.get(item.to)
    if item.channel == PHONE:
        who = item.nickname or "居民（未留姓名）"
    elif item.channel == "wecom_robot":
        who = name or "服务队群（群机器人）"
    elif item.channel != "wechat" or item.to.startswith("wecom:"):
        who = name or "企业微信成员"
    else:
        who = (name if call else mask_name(name)) if name else "居民（未留姓名）"
    phone = (item.phone if call else mask_phone(item.phone)) if item.phone else ""
    return {"id": item.outbox_id, "at": item.at, "who": who, "phone": phone, "call": call,
            "notice": NOTICE_WORDS.get(item.notice, "消息"), "text": item.text,
            "status": STATUS_WORDS.get(item.status, item.status), "reasons": reasons_text(item),
            "error": item.error if item.status == DEAD else "", "resendable": item.resendable,
            "told": item.status == TOLD, "told_by": item.told_by or "", "told_at": _when(item.told_at)}


def _when(iso: str | None) -> datetime | None:
    """When a call was made (the payload keeps it as text)."""
    try:
        return datetime.fromisoformat(iso) if iso else None
    except ValueError:
        return None


@bp.get("/delivery")
@requires("dashboard")
def delivery_page() -> str:
    with reading() as s:
        items = undelivered(s, hub_id(), dead=True, told=True)
        names = _names(s, items)
        quota = mass_quota(s, hub_id(), now())
    rows = [_row(i, names) for i in items]
    return render_template("admin/delivery.html", rows=rows, quota=quota, form=ActionForm(),
                           calls=sum(1 for r in rows if r["call"]))


@bp.post(f"/delivery/<{ID}:outbox_id>/resend")
@requires("orders.act")
def delivery_resend(outbox_id: int) -> Any:
    back = url_for("admin.delivery_page")
    if rejected(ActionForm()):
        return redirect(back)

    def change(s: Session) -> str:
        if not resend(s, hub_id(), outbox_id, now()):
            raise DeliveryError("这条消息不能重新发送（已经重新排队，或者对方已取消关注）。")
        audit(s, "outbox_resend", f"outbox:{outbox_id}")
        return "已重新排队发送，稍后刷新本页看结果。"

    return run_change(change, back)


@bp.post(f"/delivery/<{ID}:outbox_id>/told")
@requires("orders.act")
def delivery_told(outbox_id: int) -> Any:
    """已告知: staff phoned the person; the row leaves the call list with who and when."""
    back = url_for("admin.delivery_page")
    if rejected(ActionForm()):
        return redirect(back)

    def change(s: Session) -> str:
        if not mark_told(s, hub_id(), outbox_id, staff().display_name, now()):
            raise DeliveryError("这条消息已经有人登记告知过了，或者不需要电话告知。")
        audit(s, "outbox_told", f"outbox:{outbox_id}")
        return "已登记电话告知。"

    return run_change(change, back)


@bp.app_template_global("mass_quota_line")
def mass_quota_line() -> Markup:
    """The 群发 quota line for any console page that shows it (the broadcast page): read only when rendered."""
    with reading() as s:
        quota = mass_quota(s, hub_id(), now())
    return Markup(render_template("admin/_mass_quota.html", quota=quota))  # noqa: S704 - a rendered template
