"""What a person asks to see of the service loop: my orders (open and the last 30 days'), my tasks, and the open
orders that fit a volunteer ("有什么任务"). Read-only: queries that return rows, and the chat's words for them.

Whether an order fits a volunteer is the dispatch room's rule and 接单's (orders.accept): offered to them or their
team, or a candidate by `dispatch.candidates` (skill or team, minors only by their own skills, free then, under
their task limit). Nothing here decides it a second time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.people import volunteers
from bot.people.volunteers import ACTIVE_STATUSES, MemberStatus, membership_of
from bot.serviceloop import orders
from bot.serviceloop.dispatch import HELD_STATES, RETURNED, WITHDRAWN, fits
from bot.serviceloop.lifecycle import PLAIN_WORDS, OrderState
from bot.serviceloop.records import NotAVolunteerError, S, TooManyTasksError, when_text
from intents.masking import coarse_address, mask_phone
from storage.models import Membership, Order, OrderOffer, PointsEntry, Team, User, Volunteer
from storage.sealed import phone_lookup

RECENT_DAYS = 30  # "我的订单" shows the finished orders of this many days
MAX_ORDERS = 8  # ... and at most this many orders in all (open ones first)
MAX_OPEN_TASKS = 5  # "有什么任务" lists a handful, the closest appointment first
MAX_CHECKED = 12  # ... looking at no more than this many open orders of the volunteer's services

IN_PROGRESS = (S.SUBMITTED, S.DISPATCHED, S.ACCEPTED, S.SUPPORTED)
FINISHED = (S.COMPLETED, S.RATED, S.CLOSED, S.CANCELLED, S.EXPIRED)  # done with, or waiting only for a rating
TAKEABLE = (S.SUBMITTED.value, S.DISPATCHED.value)  # nobody holds them: a volunteer may still 接单


# -- 我的订单 ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyOrders:
    in_progress: Sequence[Order]  # newest first
    finished: Sequence[Order]  # of the last RECENT_DAYS, newest first
    more: bool  # there were more than MAX_ORDERS to show


def my_orders(s: Session, hub_id: int, user: User, now: datetime, limit: int = MAX_ORDERS) -> MyOrders:
    """The user's orders (ordered by them or for them) still under way, then the ones finished (or awaiting
    their rating) in the last RECENT_DAYS days: one statement, at most `limit` rows."""
    link_family_orders(s, hub_id, user)
    in_progress = [st.value for st in IN_PROGRESS]
    mine = or_(Order.ordered_by_user_id == user.id, Order.resident_user_id == user.id)
    recent = and_(Order.state.in_([st.value for st in FINISHED]), Order.updated_at >= now - timedelta(days=RECENT_DAYS))
    rows = list(s.execute(
        select(Order).where(Order.hub_id == hub_id, mine, or_(Order.state.in_(in_progress), recent))
        .order_by(case((Order.state.in_(in_progress), 0), else_=1), Order.id.desc()).limit(limit + 1)).scalars())
    shown = rows[:limit]
    return MyOrders(in_progress=[o for o in shown if o.state in in_progress],
                    finished=[o for o in shown if o.state not in in_progress], more=len(rows) > limit)


def link_family_orders(s: Session, hub_id: int, user: User) -> None:
    """Orders a family member placed for this user (代点单, the contact phone theirs) before their phone was on file,
    or before they first wrote: linked to them now (resident_user_id), as submit_order links them when it can, so
    "我的订单" lists them and their later notices reach them. Never an order they placed, nor one linked already."""
    if not user.phone:
        return
    for order in s.execute(select(Order).where(
            Order.hub_id == hub_id, Order.resident_user_id.is_(None), Order.resident_name.is_not(None),
            Order.ordered_by_user_id != user.id, phone_lookup(s, Order.phone_hash, user.phone))).scalars():
        order.resident_user_id = user.id


FAMILY_NOT_FOUND = "您家人替您下的单，我这边查不到，请让家人告诉您，或回复“人工”。"


def _finished_words(o: Order) -> str:
    if o.state == S.COMPLETED.value:
        return f"服务已完成，等您评价：回复“评价 {o.ref}”打分"
    words = PLAIN_WORDS[OrderState(o.state)]
    if o.rating is not None and o.state in (S.RATED.value, S.CLOSED.value):
        return f"{words}，您评了{o.rating}颗心"
    return words


def _who_comes(s: Session, o: Order) -> str:
    """"（张师傅，电话 139****0001）" once accepted: who comes, as the accept notice said it (the phone masked)."""
    if o.volunteer_id is None or o.state not in HELD_STATES:
        return ""
    vol = s.get(Volunteer, o.volunteer_id)
    if vol is None:
        return ""
    phone = f"，电话 {mask_phone(vol.phone)}" if vol.phone else ""
    return f"（{vol.name}{phone}）"


def open_orders_text(s: Session, hub_id: int, user: User, names: Mapping[str, str], now: datetime,
                     by_family: bool = False) -> str:
    """"我的订单": what is under way, and what was done lately (with how to rate one not rated yet). ``by_family``:
    asked after an order a family member placed ("我闺女给我约了陪诊 是哪天来"): with none found, said plainly that
    it cannot be seen from here."""
    found = my_orders(s, hub_id, user, now)
    if by_family and not found.in_progress and not found.finished:
        return FAMILY_NOT_FOUND

    def head(o: Order) -> str:
        return f"订单{o.ref} {names.get(o.service_code, o.service_code)} {when_text(o)}"

    if not found.in_progress and not found.finished:
        return "您现在没有进行中的订单。需要帮忙直接说，比如“明天上午来修水管”。"
    lines = ["您的订单："] if found.in_progress else ["您现在没有进行中的订单。"]
    lines += [f"{head(o)}：{PLAIN_WORDS[OrderState(o.state)]}{_who_comes(s, o)}" for o in found.in_progress]
    if found.finished:
        lines.append(f"最近{RECENT_DAYS}天的订单：")
        lines += [f"{head(o)}：{_finished_words(o)}" for o in found.finished]
    if found.more:
        lines.append(f"（只列出最近的{MAX_ORDERS}个）")
    if found.in_progress:
        lines.append("取消订单请回复“取消订单 编号”。")
    return "\n".join(lines)


# -- 我的任务 ----------------------------------------------------------------------------------------


def _points_by_order(s: Session, hub_id: int, volunteer_id: int, order_ids: Sequence[int]) -> dict[int, int]:
    """The points each of these orders earned the volunteer here (earned, less any reversed), in one statement."""
    if not order_ids:
        return {}
    rows = s.execute(select(PointsEntry.order_id, func.sum(PointsEntry.points)).where(
        PointsEntry.hub_id == hub_id, PointsEntry.volunteer_id == volunteer_id,
        PointsEntry.order_id.in_(list(order_ids)), PointsEntry.kind.in_(("earn", "reverse")))
        .group_by(PointsEntry.order_id)).all()
    return {int(order_id): int(points or 0) for order_id, points in rows if order_id is not None}


_HELD_WORDS = {S.ACCEPTED.value: "您已接下", S.SUPPORTED.value: "您已接下，社区已配套"}  # the volunteer's side


def _task_done_words(o: Order, points: int | None) -> str:
    hours = f"服务{o.hours:g}小时，" if o.hours else ""
    if o.state == S.COMPLETED.value:
        return f"{hours}等居民评价后计积分"
    return f"{hours}得了{points}积分" if points else f"{hours}没有积分"


def tasks_text(s: Session, hub_id: int, user: User, names: Mapping[str, str], now: datetime) -> str:
    """"我的任务" (and a volunteer's "我的订单"): the tasks in progress, the ones finished in the last RECENT_DAYS
    days with the points each earned, and the ones offered to them that nobody has taken yet."""
    member = membership_of(s, hub_id, user)
    if member is None:
        return "您还不是志愿者。回复“注册志愿者”报名。"
    held = (S.ACCEPTED.value, S.SUPPORTED.value)
    done = (S.COMPLETED.value, S.RATED.value, S.CLOSED.value)
    recent = and_(Order.state.in_(done), Order.completed_at >= now - timedelta(days=RECENT_DAYS))
    rows = s.execute(select(Order).where(Order.hub_id == hub_id, Order.volunteer_id == member.volunteer_id,
                                         or_(Order.state.in_(held), recent))
                     .order_by(Order.id.desc()).limit(MAX_ORDERS * 2 + 1)).scalars().all()
    in_progress = sorted((o for o in rows if o.state in held), key=lambda o: o.id)
    finished = [o for o in rows if o.state in done][:MAX_ORDERS]
    offers = s.execute(select(Order).join(OrderOffer, OrderOffer.order_id == Order.id).where(
        OrderOffer.volunteer_id == member.volunteer_id, or_(OrderOffer.outcome.is_(None),
                                                            OrderOffer.outcome.not_in((RETURNED, WITHDRAWN))),
        Order.state == S.DISPATCHED.value, Order.hub_id == hub_id).order_by(Order.id)).scalars().all()
    if not in_progress and not finished and not offers:
        return "您现在没有任务，最近30天也没有做完的任务。有新任务时会通知您。"
    names_of = names.get
    lines = ["进行中的任务：" if in_progress else "您现在没有进行中的任务。"]
    lines += [f"订单{o.ref} {names_of(o.service_code, o.service_code)} {when_text(o)} {o.address or ''}："
              f"{_HELD_WORDS[o.state]}，做完回复“完成 {o.ref} 小时数”" for o in in_progress]
    if finished:
        points = _points_by_order(s, hub_id, member.volunteer_id, [o.id for o in finished])
        lines.append(f"最近{RECENT_DAYS}天做完的任务：")
        lines += [f"订单{o.ref} {names_of(o.service_code, o.service_code)}：{_task_done_words(o, points.get(o.id))}"
                  for o in finished]
        total = sum(points.values())
        if total:
            lines.append(f"最近{RECENT_DAYS}天共得{total}积分，谢谢您！")
    if offers:
        lines.append("等人接的任务（回复“接单 编号”）：")
        lines += [f"订单{o.ref} {names_of(o.service_code, o.service_code)} {when_text(o)}" for o in offers]
    return "\n".join(lines)


# -- 有什么任务 --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenTasks:
    """The open orders a volunteer could take now, or why they cannot take any."""

    status: str  # the membership's status ("" for no membership in this hub)
    orders: Sequence[Order] = ()
    held: int = 0  # their open tasks
    limit: int = 0  # their open-task limit (max_open_tasks)
    # orders listed because they were offered to them or their team's group, though they fall outside the hours the
    # volunteer gave (dispatch.fits says no): listed last and said so
    outside_hours: frozenset[int] = frozenset()

    @property
    def at_limit(self) -> bool:
        return self.held >= self.limit


def _services_of(s: Session, member: Membership, vol: Volunteer, now: datetime) -> set[str]:
    """Every service the volunteer could fit: their skills, and their team's services unless they are a minor
    (a superset of `candidates`' rule, which then decides each order)."""
    codes = set(vol.skills or [])
    if member.team_id is not None and not volunteers.is_minor(vol, now):
        team = s.get(Team, member.team_id)
        codes |= set(team.services or []) if team is not None else set()
    return codes


def open_tasks(s: Session, hub_id: int, user: User, now: datetime, limit: int = MAX_OPEN_TASKS) -> OpenTasks:
    """The hub's open orders (submitted or dispatched, appointment not passed) that this volunteer may take, the
    closest appointment first, at most `limit`: each one offered to them or their team, or one `candidates` finds
    them fit for (the rule 接单 applies)."""
    member = membership_of(s, hub_id, user)
    if member is None:
        return OpenTasks(status="")
    if member.status not in ACTIVE_STATUSES:
        return OpenTasks(status=member.status)
    held = s.scalar(select(func.count()).select_from(Order).where(
        Order.volunteer_id == member.volunteer_id, Order.state.in_(HELD_STATES))) or 0
    if held >= member.max_open_tasks:
        return OpenTasks(status=member.status, held=held, limit=member.max_open_tasks)
    vol = s.get_one(Volunteer, member.volunteer_id)
    codes = _services_of(s, member, vol, now)
    if not codes:
        return OpenTasks(status=member.status, held=held, limit=member.max_open_tasks)
    soonest = func.coalesce(Order.start_at, Order.created_at)
    gave_back = exists().where(OrderOffer.order_id == Order.id, OrderOffer.volunteer_id == member.volunteer_id,
                               OrderOffer.outcome == RETURNED)  # 退单: open for others, not listed to them again
    near = s.execute(select(Order).where(Order.hub_id == hub_id, Order.state.in_(TAKEABLE),
                                         Order.volunteer_id.is_(None), Order.service_code.in_(sorted(codes)),
                                         orders.time_left(now), ~gave_back)
                     .order_by(soonest, Order.id).limit(MAX_CHECKED)).scalars().all()
    fit: list[Order] = []
    offered_only: list[Order] = []  # offered to them or their team, outside their hours (or other rules of fits)
    for order in near:
        if fits(s, order, now, member.volunteer_id):
            fit.append(order)
            if len(fit) == limit:
                break
        elif len(offered_only) < limit and orders.offered_to(s, order, member):  # may_take's other half
            offered_only.append(order)
    listed = (fit + offered_only)[:limit]
    return OpenTasks(status=member.status, orders=listed, held=held, limit=member.max_open_tasks,
                     outside_hours=frozenset(o.id for o in listed if o not in fit))


def open_tasks_text(s: Session, hub_id: int, user: User, names: Mapping[str, str], now: datetime,
                    numbered: bool = False) -> str:
    """"有什么任务": the open orders that fit the volunteer, each with how to take it; `numbered` (a bare 接单): each
    with its number too, which the reply right after may give instead (bot.dialogue.volunteering.on_accept_pick)."""
    found = open_tasks(s, hub_id, user, now)
    if found.status == MemberStatus.APPLIED:
        return "您的志愿者报名还在审核中，审核通过后就能接任务了，请耐心等一等。"
    if found.status == MemberStatus.SUSPENDED:
        return "您的志愿服务现在暂停中，暂时不能接任务。有疑问请回复“人工”。"
    if found.status not in ACTIVE_STATUSES:
        return str(NotAVolunteerError())
    if found.at_limit:
        return f"{TooManyTasksError(found.held)}回复“我的任务”查看。"  # 接单's own words for the limit
    if not found.orders:
        return "现在没有适合您的待接订单。有新任务时会马上通知您，谢谢您的热心！"
    lines = ["适合您的待接订单（时间近的在前）："]
    for i, o in enumerate(found.orders, 1):
        outside = "（不在您登记的空闲时间）" if o.id in found.outside_hours else ""
        lines.append(f"{f'{i} ' if numbered else ''}订单{o.ref} {names.get(o.service_code, o.service_code)} "
                     f"{when_text(o)}{outside} {coarse_address(o.address)}：回复“接单 {o.ref}”")
    if numbered:
        lines.append(f"也可以只回复序号，比如“1”就是接订单{found.orders[0].ref}。")
    lines.append("接下后会告诉您详细地址和联系电话。")
    return "\n".join(lines)
