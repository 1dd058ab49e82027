"""Volunteer registration through the webhook: the whole dialogue, bad ID numbers, minors, corrections,
a second hub reusing the person, approval and the applicant's notices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.clock import FakeClock
from bot.devtools.seed import STAFF_OPENID
from bot.people.idprotect import IdProtector
from intents.idcard import check_digit
from storage.db import transaction
from storage.models import Conversation, Membership, MembershipEvent, TeamMember, User, Volunteer
from tests.conftest import fixture_xml
from tests.dialog import Chat, verify_dialog

A = "oApplicant001"
KID = "oApplicantKid"


def idno(first17: str) -> str:
    return first17 + check_digit(first17)


ADULT_ID = idno("44080219800101123")  # born 1980-01-01, gender digit 3: male
MINOR_ID = idno("44080220120501004")  # born 2012-05-01 (14 on the test day), gender digit 4: female


def volunteer(services: Any, name: str) -> tuple[Volunteer, Membership]:
    with services.sessions() as s:
        vol = s.execute(select(Volunteer).where(Volunteer.name == name)).scalar_one()
        member = s.execute(select(Membership).where(Membership.volunteer_id == vol.id)).scalar_one()
        return vol, member


def register_adult(chat: Chat, who: str = A) -> None:
    verify_dialog(chat, [
        (who, "注册志愿者", "您的姓名"),
        (who, "王建国", "性别"),
        (who, "1", "出生日期或年龄"),
        (who, "46岁", "身份证号"),
        (who, ADULT_ID, "您能提供哪些服务"),
        (who, "2 3", "什么时候有空"),
        (who, "周六上午、工作日晚上", "手机号"),
        (who, "13811112222", "想加入哪个服务队"),
        (who, "1", "志愿者守则"),
        (who, "同意", "请核对您的报名信息"),
    ])


def test_adult_registers_and_is_approved(chat: Chat, services: Any) -> None:
    register_adult(chat)
    reply = chat.say(A, "1")
    assert reply is not None and "报名已提交" in reply
    vol, member = volunteer(services, "王建国")
    assert member.status == "applied" and member.source == "chat"
    assert vol.gender == "男" and vol.phone == "13811112222" and vol.skills == ["repair", "haircut"]
    assert {"weekday": 5, "period": "am"} in vol.availability and {"weekday": 0, "period": "eve"} in vol.availability
    assert vol.id_number_masked == ADULT_ID[:3] + "*" * 11 + ADULT_ID[-4:]
    # encrypted at rest, found again by the keyed hash, never stored plainly anywhere we wrote
    protector = IdProtector(services.config.secret_key)
    assert vol.id_number_enc and ADULT_ID not in vol.id_number_enc
    assert protector.decrypt(vol.id_number_enc) == ADULT_ID
    assert vol.id_number_hash == protector.lookup_hash(ADULT_ID) and ADULT_ID not in vol.id_number_hash
    with services.sessions() as s:
        convs = [str(c.slots) for c in s.execute(select(Conversation)).scalars()]
        assert not any(ADULT_ID in c for c in convs)
        user = s.execute(select(User).where(User.openid == A)).scalar_one()
        assert user.volunteer_id == vol.id and "applicant" in user.roles
        teams = s.execute(select(TeamMember).where(TeamMember.volunteer_id == vol.id)).scalars().all()
        assert len(teams) == 1 and member.team_id == teams[0].team_id
    got = chat.deliver()
    assert "新的志愿者报名：王建国" in got[STAFF_OPENID][0] and ADULT_ID not in got[STAFF_OPENID][0]
    # asking again says where they stand instead of starting over
    assert "待审核" in (chat.say(A, "注册志愿者") or "")


def test_bad_id_numbers_are_explained_and_asked_again(chat: Chat, services: Any) -> None:
    wrong_check = ADULT_ID[:17] + ("0" if ADULT_ID[17] != "0" else "1")
    verify_dialog(chat, [
        (A, "我想当志愿者", "您的姓名"),
        (A, "王建国", "性别"),
        (A, "男", "出生日期"),
        (A, "1980年1月1日", "身份证号"),
        (A, "4408021980010112", "18位"),
        (A, wrong_check, "校验不通过"),
        (A, "44080219800231123X", "出生日期不对"),
        (A, ADULT_ID, "您能提供哪些服务"),
    ])


def test_id_must_agree_with_stated_birth_date_and_gender(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [
        (A, "注册志愿者", "姓名"),
        (A, "李芳", "性别"),
        (A, "2", "出生日期"),  # says female; the ID's gender digit says male
        (A, "1980-01-01", "身份证号"),
        (A, ADULT_ID, "性别是“男”"),
        (A, "改性别", "1 男，2 女"),
        (A, "1", "身份证号"),
        (A, ADULT_ID, "您能提供哪些服务"),
    ])
    verify_dialog(chat, [
        (KID, "注册志愿者", "姓名"),
        (KID, "赵小明", "性别"),
        (KID, "1", "出生日期"),
        (KID, "30岁", "身份证号"),
        (KID, ADULT_ID, "今年46周岁，和您说的30岁不一致"),
    ])


def test_minor_needs_guardian_and_sees_only_services_for_minors(chat: Chat, services: Any) -> None:
    replies = verify_dialog(chat, [
        (KID, "注册志愿者", "姓名"),
        (KID, "赵小雨", "性别"),
        (KID, "女", "出生日期"),
        (KID, "14岁", "身份证号"),
        (KID, MINOR_ID, "监护人的姓名"),
        (KID, "赵大海", "手机号"),
        (KID, "13900001111", "监护人同意请回复"),
        (KID, "好", "同意"),  # not a consent: asked again
        (KID, "同意", "未成年志愿者可以参加"),
    ])
    menu = replies[-1] or ""
    assert "陪伴" in menu or "聊天" in menu
    assert "理发" not in menu and "维修" not in menu
    verify_dialog(chat, [
        (KID, "1 2", "什么时候有空"),
        (KID, "周末下午", "手机号"),
        (KID, "13900002222", "服务队"),
        (KID, "0", "志愿者守则"),
        (KID, "同意", "9 监护人：赵大海"),
        (KID, "1", "监护人已同意"),
    ])
    vol, member = volunteer(services, "赵小雨")
    assert vol.guardian == {"name": "赵大海", "phone": "13900001111", "consent": True}
    with services.sessions() as s:
        names = {svc.code: svc for svc in services.nlu.catalogue}
        assert vol.skills and all(names[c].minors_ok for c in vol.skills)
        assert s.get(Membership, member.id).status == "applied"


def test_too_young_is_turned_away_kindly(chat: Chat) -> None:
    young = idno("44080220200501004")  # six years old
    verify_dialog(chat, [
        (KID, "注册志愿者", "姓名"),
        (KID, "赵小小", "性别"),
        (KID, "2", "出生日期"),
        (KID, "6岁", "身份证号"),
        (KID, young, "8岁以上才能报名"),
    ])


def test_corrections_from_the_summary(chat: Chat, services: Any) -> None:
    register_adult(chat)
    verify_dialog(chat, [
        (A, "2", "要改哪一项"),
        (A, "7", "手机号"),
        (A, "13833334444", "7 电话：13833334444"),
        (A, "2", "要改哪一项"),
        (A, "5", "您能提供哪些服务"),
        (A, "4", "想加入哪个服务队"),  # the old team followed the old skills: asked again
        (A, "0", "8 服务队：不限"),
        (A, "2", "要改哪一项"),
        (A, "1", "姓名"),
        (A, "王建民", "1 姓名：王建民"),
        (A, "1", "报名已提交"),
    ])
    vol, member = volunteer(services, "王建民")
    assert vol.phone == "13833334444" and len(vol.skills) == 1


def test_cancel_midway_leaves_nothing(chat: Chat, services: Any) -> None:
    verify_dialog(chat, [
        (A, "注册志愿者", "姓名"),
        (A, "王建国", "性别"),
        (A, "取消", "已取消"),
    ])
    with services.sessions() as s:
        assert s.execute(select(Volunteer).where(Volunteer.name == "王建国")).first() is None


def test_qr_scene_starts_registration(chat: Chat, services: Any) -> None:
    xml = fixture_xml("event_subscribe_qrscene.xml").replace("1795390000", str(int(chat.clock.now().timestamp())))
    reply = chat._post(xml, "oResident0001")
    assert reply is not None and "欢迎报名成为志愿者" in reply and "您的姓名" in reply
    verify_dialog(chat, [("oResident0001", "王建国", "性别")])


def test_same_person_in_a_second_hub_reuses_the_volunteer(chat: Chat, services: Any, clock: FakeClock) -> None:
    register_adult(chat)
    chat.say(A, "1")
    vol, member = volunteer(services, "王建国")
    with transaction(services.sessions) as s:
        from storage.models import Hub

        other = Hub(slug="second", name="第二个雷锋超市", settings={}, created_at=clock.now())
        s.add(other)
        s.flush()
        user = User(hub_id=other.id, openid="oOtherHub01", roles=[], subscribed=True, created_at=clock.now())
        s.add(user)
        s.flush()
        from bot.people import volunteers

        reg = volunteers.Registration(name="王建国", gender="男", birth_date=vol.birth_date.date(),
                                      id_enc=vol.id_number_enc, id_hash=vol.id_number_hash,
                                      id_masked=vol.id_number_masked, phone="13811112222", skills=("repair",),
                                      availability=(), team=None, guardian=None)
        m2 = volunteers.register(s, hub_id=other.id, user=user, reg=reg, now=clock.now(), service_teams={})
        assert m2.volunteer_id == vol.id and m2.hub_id == other.id
    with services.sessions() as s:
        assert s.query(Volunteer).filter(Volunteer.name == "王建国").count() == 1
        assert s.query(Membership).filter(Membership.volunteer_id == vol.id).count() == 2
        assert s.query(MembershipEvent).count() == 2
