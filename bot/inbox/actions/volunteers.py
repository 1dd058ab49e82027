"""The volunteer topic's dialogue actions: registration, profile, points, redemption, time bank.

Each runs inside the message's transaction (bot/inbox/actions/registry.perform); a refusal from this topic's
domain becomes its plain-Chinese message and leaves nothing behind (its own savepoint).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import wraps
from typing import Any

from sqlalchemy import select

from bot.dialogue import registration, volunteering
from bot.dialogue.core import State, kept
from bot.inbox.actions.context import MAX_ORDER_ID, ActionContext, Run, order_number, shown
from bot.outbox import enqueue
from bot.people import merchants, points, timebank, volunteers
from bot.people.idprotect import IdProtector
from bot.people.merchants import MerchantError
from bot.people.points import PointsError
from bot.people.timebank import TimeBankError
from bot.people.volunteers import VolunteerError
from bot.serviceloop.orders import OrderError, _get_order, notify_staff, settings_for
from storage.conversations import change_conversation
from storage.models import Hub, Membership, Volunteer

REFUSALS = (VolunteerError, PointsError, MerchantError, TimeBankError, OrderError)
NOT_VOLUNTEER = "您还不是本站志愿者。想加入请回复“注册志愿者”。"


def refusals_as_text(run: Run) -> Run:
    @wraps(run)
    def wrapped(ac: ActionContext, data: Mapping[str, Any]) -> str:
        if not ac.savepoints:  # a refusal goes up to registry.perform, which has the message's write done again
            return run(ac, data)
        try:
            with ac.s.begin_nested():
                return run(ac, data)
        except REFUSALS as exc:
            return str(exc)

    return wrapped


def _member(ac: ActionContext) -> Membership | None:
    return volunteers.membership_of(ac.s, ac.hub_id, ac.user)


def _on_roll(ac: ActionContext) -> Membership | None:
    """The sender's membership if it keeps their points (active, approved or suspended), else None."""
    member = _member(ac)
    return member if member is not None and member.status in volunteers.ON_ROLL else None


def _hub_name(ac: ActionContext) -> str:
    return str(ac.s.scalar(select(Hub.name).where(Hub.id == ac.hub_id)) or "本站")


# -- registration -------------------------------------------------------------------------------


@refusals_as_text
def stash_id(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """Encrypt and hash the ID number into the registration's slots, so the plain number is never stored."""
    protector = IdProtector(ac.secret_key)
    number = str(data["id"])
    id_hash = protector.lookup_hash(number)
    vol = volunteers.find_by_id_hash(ac.s, id_hash)
    if vol is not None:
        member = ac.s.execute(select(Membership).where(Membership.hub_id == ac.hub_id,
                                                      Membership.volunteer_id == vol.id)).scalar_one_or_none()
        if member is not None and member.status != "rejected":
            change_conversation(ac.s, hub_id=ac.hub_id, user_id=ac.user_id, now=ac.now, create=False,
                                edit=lambda _state, slots: (State.IDLE, kept(slots)))
            word = volunteers.STATUS_WORDS.get(member.status, member.status)
            ac.instead_of_reply.append("stash_id")  # the registration ends here: not its next question
            return f"这个身份证号已经在本站报过名了（状态：{word}），不用重复报名。有疑问请回复“人工”。"
    sealed = {"id_enc": protector.encrypt(number), "id_hash": id_hash}

    def stash(state: str, slots: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
        return (state, {**slots, **sealed}) if state.startswith("REG_") else None

    change_conversation(ac.s, hub_id=ac.hub_id, user_id=ac.user_id, now=ac.now, create=False, edit=stash)
    return ""


@refusals_as_text
def register_volunteer(ac: ActionContext, data: Mapping[str, Any]) -> str:
    if not data:  # asked to register while already on file: say where they stand
        member = _member(ac)
        if member is None:
            return "请回复“注册志愿者”开始报名。"
        word = volunteers.STATUS_WORDS.get(member.status, member.status)
        extra = "，请耐心等待社区审核" if member.status == "applied" else ""
        return f"您已经是本站志愿者（状态：{word}{extra}）。回复“我的资料”查看或修改资料。"
    reg = volunteers.Registration.from_data(data)
    teams = {svc.code: svc.team for svc in ac.nlu.catalogue}
    member = volunteers.register(ac.s, hub_id=ac.hub_id, user=ac.user, reg=reg, now=ac.now, service_teams=teams)
    notify_staff(ac.s, ac.hub_id, f"新的志愿者报名：{reg.name}（{reg.id_masked}），编号{member.volunteer_id}。"
                 "请在管理后台的“志愿者”里审核。", ac.now,
                 key=f"applied:{member.id}:{ac.now:%s}")
    minor = "（监护人已同意）" if reg.guardian else ""
    return (f"报名已提交{minor}，谢谢您！社区工作人员审核后会发消息通知您，一般1到3个工作日。\n"
            "回复“我的资料”可以查看报名信息。")


# -- profile ------------------------------------------------------------------------------------


@refusals_as_text
def profile(ac: ActionContext, data: Mapping[str, Any]) -> str:
    member = _member(ac)
    if member is None:
        return NOT_VOLUNTEER
    vol = ac.s.get(Volunteer, member.volunteer_id)
    assert vol is not None
    names = {svc.code: svc.name for svc in ac.nlu.catalogue}
    rules = settings_for(ac.s, ac.hub_id)
    return volunteers.profile_text(ac.s, ac.hub_id, vol, member, names, ac.now, rules.star_hours)


@refusals_as_text
def update_profile(ac: ActionContext, data: Mapping[str, Any]) -> str:
    minors_ok = frozenset(svc.code for svc in ac.nlu.catalogue if svc.minors_ok)
    done = volunteers.update_profile(ac.s, hub_id=ac.hub_id, user=ac.user, field=str(data["field"]),
                                     value=data["value"], now=ac.now, minors_ok=minors_ok)
    return done + "回复“我的资料”再看看。"


# -- points and redemption ----------------------------------------------------------------------


POINTS_ARE = ("积分是给志愿者的：志愿者上门服务后，按服务时长和居民给的几颗心得到积分，"
              "可以到社区的合作商家换东西。居民找志愿者帮忙是免费的，不用积分。")
BECOME = ("想当志愿者攒积分，回复“注册志愿者”报名（要填姓名、身份证号、会做什么、有空的时间），"
          "社区审核通过后就能接单服务。")


def _shops(ac: ActionContext) -> str:
    shops = [m.name for m in merchants.merchants(ac.s, ac.hub_id) if m.active and m.accepts_redemptions]
    return f"能换积分的商家：{'、'.join(shops[:6])}。" if shops else ""


@refusals_as_text
def show_points(ac: ActionContext, data: Mapping[str, Any]) -> str:
    member = _member(ac)
    if member is None:
        return f"{POINTS_ARE}{_shops(ac)}\n{BECOME}"
    return points.points_text(ac.s, ac.hub_id, member.volunteer_id, settings_for(ac.s, ac.hub_id), ac.now)


@refusals_as_text
def points_info(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """"积分怎么换东西" / "积分是干啥用的": what points are and where they are spent; for a resident how to become a
    volunteer, for a volunteer their balance and how to redeem."""
    member = _member(ac)
    if member is None:
        return f"{POINTS_ARE}{_shops(ac)}\n{BECOME}"
    have = points.balance(ac.s, ac.hub_id, member.volunteer_id)
    return (f"{POINTS_ARE}{_shops(ac)}\n您现在有{have}积分。换东西请回复“兑换”，把兑换码给商家核销；"
            "回复“积分”看明细和星级。")


@refusals_as_text
def redeem(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """A code to show at a partner merchant's counter."""
    member = _on_roll(ac)
    if member is None:
        return NOT_VOLUNTEER
    rules = settings_for(ac.s, ac.hub_id)
    have = points.balance(ac.s, ac.hub_id, member.volunteer_id)
    if have <= 0:
        return "您现在没有可兑换的积分。服务完成、居民评价后就会有积分。"
    code = merchants.issue_code(ac.s, hub_id=ac.hub_id, volunteer_id=member.volunteer_id, now=ac.now, rules=rules)
    shops = [m.name for m in merchants.merchants(ac.s, ac.hub_id) if m.active and m.accepts_redemptions]
    where = f"可兑换的商家：{'、'.join(shops)}。" if shops else ""
    # The same code as a QR the merchant can scan with WeChat (created by the outbox sender, not here).
    enqueue(ac.s, hub_id=ac.hub_id, to=ac.user.openid, kind="qrcode_link", now=ac.now,
            text="也可以打开下面的链接，请商家用微信扫码核销：",
            extra={"scene": f"{volunteering.CODE_SCAN_PREFIX}{code.code}",
                   "expire_seconds": rules.redemption_code_minutes * 60},
            idempotency_key=f"redeem-qr:{ac.hub_id}:{code.code}")
    return (f"您的兑换码：{code.code}（{rules.redemption_code_minutes}分钟内有效，用一次作废）。\n"
            f"现有积分{have}分。{where}请把兑换码给商家工作人员，由商家在公众号里核销；"
            "也可以直接扫商家的兑换二维码。")


@refusals_as_text
def merchant_redeem(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """A merchant's staff enters a volunteer's code and the points."""
    rules = settings_for(ac.s, ac.hub_id)
    done = merchants.redeem_code(ac.s, hub_id=ac.hub_id, staff_openid=ac.user.openid, code=str(data["code"]),
                                 amount=int(data["points"]), now=ac.now, rules=rules)
    return (f"核销成功：志愿者{done.volunteer.name}兑换{-done.entry.points}积分（流水号{done.entry.id}），"
            f"请提供相应的商品或服务。")


@refusals_as_text
def redeem_at_merchant(ac: ActionContext, data: Mapping[str, Any]) -> str:
    member = _on_roll(ac)
    if member is None:
        return NOT_VOLUNTEER
    rules = settings_for(ac.s, ac.hub_id)
    done = merchants.redeem_by_scan(ac.s, hub_id=ac.hub_id, volunteer_id=member.volunteer_id,
                                    merchant_id=int(data["merchant"]), amount=int(data["points"]),
                                    actor=ac.user.openid, now=ac.now, rules=rules)
    return (f"兑换成功：在{done.merchant.name}用了{-done.entry.points}积分，剩余{done.balance}分。"
            f"请把这条消息给商家看（流水号{done.entry.id}）。")


# -- time bank ----------------------------------------------------------------------------------


def _account(ac: ActionContext) -> timebank.Account | None:
    member = _member(ac)
    return None if member is None else timebank.Account(ac.hub_id, volunteer_id=member.volunteer_id)


@refusals_as_text
def passbook(ac: ActionContext, data: Mapping[str, Any]) -> str:
    account = _account(ac)
    if account is None:
        return "存折记录志愿服务时长。您还不是志愿者，想加入请回复“注册志愿者”。"
    return timebank.passbook_text(ac.s, account)


@refusals_as_text
def pay_with_hours(ac: ActionContext, data: Mapping[str, Any]) -> str:
    """Pay one's own open order (for oneself or a family member, 代点单) with banked hours."""
    account = _account(ac)
    if account is None:
        return "只有登记的志愿者才能用存折里的时长预约服务。"
    order = _get_order(ac.s, ac.hub_id, order_number(ac, data))
    if order.ordered_by_user_id != ac.user.id:
        return f"订单{order.ref}不是您下的，不能用您的时长支付。"
    duration = ac.nlu.service(order.service_code).duration_minutes if order.service_code in ac.nlu.catalogue else 60
    have = timebank.balance(ac.s, account)
    wanted = round(float(data["hours"]) * 60) if data.get("hours") else int(duration)
    if wanted <= 0:
        return "支付的时长要大于0，比如“时长支付 订单号 1.5”。"
    if not data.get("hours") and 0 < have < wanted:  # (out10) what is there is held, said so; never more than it
        wanted = have
    held = timebank.pay_order(ac.s, account=account, order=order, minutes=wanted, actor=ac.user.openid,
                              now=ac.now)
    left = timebank.hours_text(timebank.balance(ac.s, account))
    return (f"订单{order.ref}改为用存折时长支付：先预扣{timebank.hours_text(held)}，服务完成后按实际时长结算，"
            f"多退少补（不会超过余额）；订单取消会全部退回。\n余额：{left}")


@refusals_as_text
def donate(ac: ActionContext, data: Mapping[str, Any]) -> str:
    account = _account(ac)
    if account is None:
        return "只有登记的志愿者才能捐赠时长。"
    if not data.get("recipient"):
        people = timebank.recipients(ac.s, ac.hub_id)
        if not people:
            return "社区暂时没有登记需要受赠时长的老人。"
        lines = ["可以把存折里的时长捐给这些社区困难老人：",
                 *(f"{p.id}号 {p.name}  {p.note or ''}".rstrip() for p in people),
                 f"您的余额：{timebank.hours_text(timebank.balance(ac.s, account))}。",
                 "回复“捐 编号 小时数”，比如“捐 1 2”。"]
        return "\n".join(lines)
    assert account.volunteer_id is not None
    recipient = int(data["recipient"])
    if not 1 <= recipient <= MAX_ORDER_ID:  # no row can have it (and PostgreSQL refuses it as a bigint)
        return f"没有编号为 {shown(recipient)} 的受赠老人。回复“捐赠”看看名单。"
    who = timebank.donate(ac.s, hub_id=ac.hub_id, volunteer_id=account.volunteer_id,
                          recipient_id=recipient, minutes=int(data["minutes"]), actor=ac.user.openid,
                          now=ac.now)
    return (f"已把{timebank.hours_text(int(data['minutes']))}捐给{who.name}，谢谢您的爱心！"
            f"余额：{timebank.hours_text(timebank.balance(ac.s, account))}。")


ACTIONS: dict[str, Run] = {
    "register_volunteer": register_volunteer,
    "stash_id": stash_id,
    "profile": profile,
    "update_profile": update_profile,
    "points": show_points,
    "points_info": points_info,
    "redeem": redeem,
    "merchant_redeem": merchant_redeem,
    "redeem_at_merchant": redeem_at_merchant,
    "passbook": passbook,
    "pay_with_hours": pay_with_hours,
    "donate": donate,
}
assert registration.ASK_ID.startswith("REG_")  # stash_id relies on the registration states' prefix
