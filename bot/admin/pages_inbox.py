"""The hand-over inbox (residents who asked for a person: transcript, reply, hand back to the bot) and staff who
link their WeChat to their account (a temporary QR code), both through bot.inbox.handover."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.admin.auth import Staff
from bot.admin.context import (
    ID,
    bp,
    hub_id,
    now,
    reading,
    rejected,
    requires,
    run_change,
    safe_next,
    services,
    staff,
)
from bot.admin.forms import ActionForm, NoteForm
from bot.admin.scope import team_condition
from bot.clock import as_utc
from bot.inbox import handover
from intents.masking import mask_name, mask_phone
from intents.normalise import fold_width
from intents.phone import find_phone
from storage.models import Order, User
from storage.models_admin import StaffAccount

# a reply's delivery (bot.outbox / bot.worker.sender statuses) in words
DELIVERY_WORDS = {"pending": "待发送", "sending": "发送中", "sent": "已发出", "dead": "发送失败",
                  "undelivered": "没送到，请电话联系", "skipped": "没有发送", "told": "没送到，已电话告知"}
AUTHOR_WORDS = {"resident": "居民", "bot": "小助手", "staff": "工作人员"}
# the QR code's picture comes from WeChat: this page alone may show an image from there
QR_PAGE_CSP = ("default-src 'self'; img-src 'self' data: https://mp.weixin.qq.com; style-src 'self'; "
               "script-src 'self'; frame-ancestors 'none'; form-action 'self'")


def _scope(s: Session, me: Staff) -> list[int] | None:
    """The residents whose hand-overs this person may see (None: all of the hub). A team leader: those with an
    order of the team."""
    if me.role != "leader":
        return None
    rows = s.scalars(select(Order.ordered_by_user_id).where(Order.hub_id == hub_id(),
                                                            team_condition(s, hub_id(), me.team_id or 0)).distinct())
    return [int(r) for r in rows]


def _masks(me: Staff) -> bool:
    """Phones and names are masked for whoever does not see them in full on orders (a team leader)."""
    return me.role == "leader"


def _masked_text(text: str) -> str:
    out = fold_width(text) if find_phone(text) else text
    for _ in range(10):
        found = find_phone(out)
        if found is None:
            break
        digits, start, end = found
        out = out[:start] + mask_phone(digits) + out[end:]
    return out


def _name(me: Staff, nickname: str | None) -> str:
    if not nickname:
        return "居民"
    return mask_name(nickname) if _masks(me) else nickname


def _phone(me: Staff, phone: str | None) -> str:
    if not phone:
        return "未留电话"
    return mask_phone(phone) if _masks(me) else phone


@bp.context_processor
def _inbox_nav() -> dict[str, Any]:
    """The nav link: None when the person has no inbox, else how many residents wait for an answer."""
    me = g.get("staff")
    if me is None or not me.can("inbox"):
        return {"inbox_nav": None}
    with reading() as s:
        return {"inbox_nav": handover.waiting_count(s, hub_id(), user_ids=_scope(s, me))}


@bp.get("/inbox")
@requires("inbox")
def inbox_page() -> str:
    me, at = staff(), now()
    with reading() as s:
        rows = handover.inbox(s, hub_id(), user_ids=_scope(s, me))
    items = [{"id": w.handover_id, "name": _name(me, w.name), "phone": _phone(me, w.phone),
              "waiting_minutes": int((at - as_utc(w.waiting_since)).total_seconds() // 60)
              if w.waiting_since else None,
              "opened_at": w.opened_at, "last_message_at": w.last_message_at,
              "last_text": _masked_text(w.last_text) if _masks(me) else w.last_text} for w in rows]
    return render_template("admin/inbox.html", items=items)


def _visible(s: Session, me: Staff, handover_id: int) -> Any:
    h = handover.handover_of(s, hub_id(), handover_id)
    scope = _scope(s, me)
    if h is None or (scope is not None and h.user_id not in scope):
        abort(404)
    return h


@bp.get(f"/inbox/<{ID}:handover_id>")
@requires("inbox")
def conversation_page(handover_id: int) -> str:
    me, at = staff(), now()
    with reading() as s:
        h = _visible(s, me, handover_id)
        user = s.get(User, h.user_id)
        lines = handover.transcript(s, hub_id(), h.user_id)
        facts = {"id": h.id, "name": _name(me, user.nickname if user else None),
                 "phone": _phone(me, user.phone if user else None), "opened_at": h.opened_at,
                 "open": h.closed_at is None, "closed_at": h.closed_at,
                 "waiting_minutes": int((at - as_utc(h.waiting_since)).total_seconds() // 60)
                 if h.waiting_since else None, "note_sent_at": h.note_sent_at}
    shown = [{"side": line.direction, "who": line.staff_name if line.author == "staff" and line.staff_name
              else AUTHOR_WORDS.get(line.author, line.author),
              "author": line.author, "at": line.at,
              "text": _masked_text(line.text) if _masks(me) else line.text,
              "delivery": DELIVERY_WORDS.get(line.delivery or "", line.delivery or "") if line.delivery else None,
              "failed": line.delivery in ("dead", "undelivered", "skipped")} for line in lines]
    return render_template("admin/conversation.html", c=facts, lines=shown, form=NoteForm(),
                           action_form=ActionForm())


@bp.post(f"/inbox/<{ID}:handover_id>/reply")
@requires("inbox")
def conversation_reply(handover_id: int) -> Response:
    back = url_for("admin.conversation_page", handover_id=handover_id)
    form = NoteForm()  # the reply: at most 500 characters, as handover.REPLY_MOST
    if rejected(form):
        return redirect(back)
    me = staff()

    def change(s: Session) -> str:
        _visible(s, me, handover_id)
        handover.reply(s, hub_id=hub_id(), handover_id=handover_id, text=form.note.data or "",
                       staff_name=me.display_name, actor=me.actor, now=now())
        return "已发送，下面可以看到是否送达。"
    return run_change(change, back)


@bp.post(f"/inbox/<{ID}:handover_id>/back")
@requires("inbox")
def conversation_back(handover_id: int) -> Response:
    form = ActionForm()
    if rejected(form):
        return redirect(url_for("admin.conversation_page", handover_id=handover_id))
    me = staff()

    def change(s: Session) -> str:
        _visible(s, me, handover_id)
        handover.hand_back(s, hub_id=hub_id(), handover_id=handover_id, actor=me.actor, now=now())
        return "已交还机器人，居民再发消息由小助手回答。"
    return run_change(change, url_for("admin.inbox_page"))


# -- staff linking their WeChat --------------------------------------------------------------------------------


def _may_link(me: Staff, account_id: int) -> None:
    if not (me.can("staff.manage") or me.id == account_id):
        abort(403)


@bp.get(f"/staff/<{ID}:account_id>/wechat")
def staff_wechat(account_id: int) -> Response:
    me = staff()
    _may_link(me, account_id)
    with reading() as s:
        account = s.get(StaffAccount, account_id)
        if account is None:
            abort(404)
        linked = s.get(User, account.wechat_user_id) if account.wechat_user_id else None
        facts = {"id": account.id, "username": account.username, "name": account.display_name or "",
                 "role": account.role, "linked": linked is not None,
                 "linked_name": (linked.nickname or "微信用户") if linked else "",
                 "linkable": account.role in handover.LINKABLE_ROLES and account.active}
        code = handover.current_code(s, account_id, now())
    page = render_template("admin/staff_wechat.html", a=facts, code=code, action_form=ActionForm())
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = QR_PAGE_CSP
    return response


@bp.post(f"/staff/<{ID}:account_id>/wechat")
def staff_wechat_code(account_id: int) -> Response:
    me = staff()
    _may_link(me, account_id)
    back = url_for("admin.staff_wechat", account_id=account_id)
    form = ActionForm()
    if rejected(form):
        return redirect(back)
    try:
        code = handover.make_link_code(services(), account_id, actor=me.actor)
    except handover.HandoverError as exc:
        flash(str(exc), "error")
    else:
        minutes = int((code.expires_at - now()).total_seconds() // 60)
        flash(f"请用要绑定的微信扫下面的二维码（{minutes}分钟内有效，只能用一次）。", "ok")
    return redirect(back)


@bp.post(f"/staff/<{ID}:account_id>/unlink")
def staff_wechat_unlink(account_id: int) -> Response:
    me = staff()
    _may_link(me, account_id)
    form = ActionForm()
    if rejected(form):
        return redirect(url_for("admin.staff_wechat", account_id=account_id))

    def change(s: Session) -> str:
        account = s.get(StaffAccount, account_id)
        if account is None:
            abort(404)
        if not handover.unlink(s, account, actor=me.actor, now=now()):
            return "这个账号没有绑定微信。"
        return f"已解绑，{account.username} 的微信不再收到工作提醒。"
    return run_change(change, safe_next(request.form.get("next")) if request.form.get("next")
                      else url_for("admin.staff_wechat", account_id=account_id))
