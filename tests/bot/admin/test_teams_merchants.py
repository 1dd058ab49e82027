"""Teams and merchants kept in /admin (bot.admin.pages_teams over bot.community.teamchat and bot.people.merchants)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.services import Services
from storage.models import AuditLog, Merchant, Team, TeamMember
from tests.bot.admin.test_admin import Seeded, login, post, text

ROBOT_KEY = "1a2b3c4d-5e6f-4a0b-8c9d-0e1f2a3b9abc"
WEBHOOK = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={ROBOT_KEY}"




def _team(services: Services, team_id: int) -> Team:
    with services.sessions() as s:
        team = s.get(Team, team_id)
        assert team is not None
        s.expunge(team)
        return team


def _team_ids(services: Services, team_id: int) -> set[int]:
    with services.sessions() as s:
        return set(s.scalars(select(TeamMember.volunteer_id).where(TeamMember.team_id == team_id)))


def _audit(services: Services) -> list[tuple[str, str, dict[str, Any]]]:
    with services.sessions() as s:
        return [(a.action, a.subject, a.detail) for a in s.execute(select(AuditLog).order_by(AuditLog.id)).scalars()]


def _other_hub_team(services: Services, seeded: Seeded) -> int:
    with services.sessions() as s:
        return int(s.scalar(select(Team.id).where(Team.hub_id == seeded.other_hub_id)) or 0)


def _follow(client: Any, resp: Any) -> str:
    assert resp.status_code == 302, resp.status_code
    return text(client.get(resp.headers["Location"]))


def test_staff_create_a_team_and_edit_it(staff_client: Any, seeded: Seeded, services: Services) -> None:
    page = text(staff_client.get("/admin/teams"))
    assert "新建服务队" in page and 'value="haircut"' in page  # the catalogue's services to tick
    page = _follow(staff_client, post(staff_client, "/admin/teams", {
        "code": "elder_care", "name": "助老队", "services": ["haircut", "repair"], "emergency": "y"}))
    assert "服务队“助老队”已建好" in page and "助老队" in page
    with services.sessions() as s:
        team = s.execute(select(Team).where(Team.hub_id == seeded.hub_id, Team.code == "elder_care")).scalar_one()
        team_id = team.id
        assert team.services == ["haircut", "repair"] and team.emergency
    page = _follow(staff_client, post(staff_client, f"/admin/teams/{team_id}", {"name": "助老服务队",
                                                                               "services": ["repair"]}))
    assert "助老服务队已保存" in page
    saved = _team(services, team_id)
    assert (saved.name, saved.services, saved.emergency) == ("助老服务队", ["repair"], False)
    actions = [(a, d) for a, subj, d in _audit(services) if subj == f"team:{team_id}"]
    assert [a for a, _ in actions] == ["team_create", "team_update"]
    assert actions[1][1]["before"]["name"] == "助老队"


def test_team_refusals_are_plain_chinese(staff_client: Any, seeded: Seeded, services: Services) -> None:
    page = _follow(staff_client, post(staff_client, "/admin/teams", {"code": "haircut", "name": "又一个理发队"}))
    assert "队伍代码“haircut”已经有了" in page
    page = _follow(staff_client, post(staff_client, "/admin/teams", {"code": "Lao Ren", "name": "老人队"}))
    assert "队伍代码：小写字母开头" in page
    page = _follow(staff_client, post(staff_client, "/admin/teams", {"code": "walk", "name": "陪走队",
                                                                     "services": ["fly_to_moon"]}))
    assert "服务目录里没有：fly_to_moon" in page
    with services.sessions() as s:
        assert s.scalar(select(Team.id).where(Team.code.in_(("walk", "lao ren")))) is None


def test_members_and_leader(staff_client: Any, seeded: Seeded, services: Services) -> None:
    team = seeded.repair_team
    page = _follow(staff_client, post(staff_client, f"/admin/teams/{team}/members", {"volunteer_id": seeded.barber}))
    assert "张师傅已加入" in page and seeded.barber in _team_ids(services, team)
    # an application not yet approved, and a volunteer of another hub, cannot join
    page = _follow(staff_client, post(staff_client, f"/admin/teams/{team}/members",
                                      {"volunteer_id": seeded.applicant}))
    assert "赵小红还不是审核通过" in page
    page = _follow(staff_client, post(staff_client, f"/admin/teams/{team}/members",
                                      {"volunteer_id": seeded.other_volunteer}))
    assert f"本站没有编号为{seeded.other_volunteer}的志愿者" in page
    assert {seeded.applicant, seeded.other_volunteer}.isdisjoint(_team_ids(services, team))
    page = _follow(staff_client, post(staff_client, f"/admin/teams/{team}/leader", {"volunteer_id": seeded.barber}))
    assert "张师傅现在是" in page and _team(services, team).leader_volunteer_id == seeded.barber
    # the leader leaves only once someone else leads
    page = _follow(staff_client, post(staff_client, f"/admin/teams/{team}/members/{seeded.barber}/remove"))
    assert "请先换一位队长" in page and seeded.barber in _team_ids(services, team)
    page = _follow(staff_client, post(staff_client, f"/admin/teams/{team}/leader", {"volunteer_id": ""}))
    assert "暂时没有队长" in page and _team(services, team).leader_volunteer_id is None
    page = _follow(staff_client, post(staff_client, f"/admin/teams/{team}/members/{seeded.barber}/remove"))
    assert "张师傅已离开" in page and seeded.barber not in _team_ids(services, team)
    assert [a for a, subj, _ in _audit(services) if subj == f"team:{team}"] == [
        "team_join", "team_leader", "team_leader", "team_leave"]


def test_robot_key_is_validated_and_only_ever_shown_masked(staff_client: Any, seeded: Seeded,
                                                           services: Services) -> None:
    team = seeded.repair_team
    seen: list[str] = []
    page = _follow(staff_client, post(staff_client, f"/admin/teams/{team}/robot", {"robot_key": "abc123"}))
    assert "群机器人的key格式不对" in page and _team(services, team).robot_key is None
    page = _follow(staff_client, post(staff_client, f"/admin/teams/{team}/robot", {"robot_key": ""}))
    assert "请粘贴群机器人的key" in page
    resp = post(staff_client, f"/admin/teams/{team}/robot", {"robot_key": f"  {WEBHOOK} "})
    seen.append(_follow(staff_client, resp))
    assert _team(services, team).robot_key == ROBOT_KEY  # stored whole: the sender needs it
    assert "已设置（末4位 9abc）" in seen[-1]
    seen += [text(staff_client.get(f"/admin/teams/{team}")), text(staff_client.get("/admin/teams")),
             text(staff_client.get("/admin/audit"))]
    resp = post(staff_client, f"/admin/teams/{team}/robot", {"robot_key": ROBOT_KEY.upper()})
    seen.append(_follow(staff_client, resp))
    resp = post(staff_client, f"/admin/teams/{team}/robot", {"clear": "y"})
    seen.append(_follow(staff_client, resp))
    assert "群机器人：未设置" in seen[-1] and _team(services, team).robot_key is None
    details = [str(d) for a, _, d in _audit(services) if a == "team_robot"]
    assert len(details) == 3 and "末4位 9abc" in details[0]
    for shown in seen + details:
        assert ROBOT_KEY not in shown and ROBOT_KEY.upper() not in shown and ROBOT_KEY[:8] not in shown


def test_merchant_create_edit_disable(staff_client: Any, seeded: Seeded, services: Services) -> None:
    page = _follow(staff_client, post(staff_client, "/admin/merchants", {
        "code": "fruit_shop", "name": "阿姨水果店", "address": "幸福路8号 ", "phone": "021-5555 1234",
        "services": ["repair"], "accepts_redemptions": "y", "shows_qr": "y", "staff_openid": "oFruitAyi01"}))
    assert "商户“阿姨水果店”已添加" in page
    with services.sessions() as s:
        m = s.execute(select(Merchant).where(Merchant.code == "fruit_shop")).scalar_one()
        mid = m.id
        assert (m.address, m.services, m.accepts_redemptions, m.staff_openid, m.service_point) == (
            "幸福路8号", ["repair"], True, "oFruitAyi01", False)
    page = text(staff_client.get(f"/admin/merchants/{mid}"))
    assert f"merchant_redeem_{mid}" in page and "接受（志愿者出示兑换码" in page
    page = _follow(staff_client, post(staff_client, f"/admin/merchants/{mid}", {
        "name": "阿姨水果店（幸福路）", "service_point": "y", "staff_openid": ""}))
    assert "已保存" in page and "暂不接受" in page and f"merchant_redeem_{mid}" not in page
    with services.sessions() as s:
        m = s.get(Merchant, mid)
        assert m is not None and (m.name, m.accepts_redemptions, m.staff_openid, m.service_point, m.services) == (
            "阿姨水果店（幸福路）", False, None, True, [])
    page = _follow(staff_client, post(staff_client, f"/admin/merchants/{mid}/disable"))
    assert "已停用" in page
    with services.sessions() as s:
        assert s.scalar(select(Merchant.active).where(Merchant.id == mid)) is False
    page = _follow(staff_client, post(staff_client, f"/admin/merchants/{mid}/enable"))
    assert "已恢复合作" in page
    page = _follow(staff_client, post(staff_client, "/admin/merchants", {"code": "fruit_shop", "name": "重复"}))
    assert "商家代码“fruit_shop”已存在" in page
    page = _follow(staff_client, post(staff_client, f"/admin/merchants/{mid}", {"name": "x", "phone": "打电话给我"}))
    assert "电话：请填写电话号码" in page
    assert [a for a, subj, _ in _audit(services) if subj == f"merchant:{mid}"] == [
        "merchant_create", "merchant_update", "merchant_disable", "merchant_enable"]


def test_a_leader_keeps_only_their_own_team_members(client: Any, seeded: Seeded, services: Services) -> None:
    login(client, "laowang")  # leader of the haircut team
    page = text(client.get("/admin/teams"))
    assert "理发" in page and "维修" not in page and "新建服务队" not in page
    page = text(client.get(f"/admin/teams/{seeded.haircut_team}"))
    assert "member-form" in page and "robot-form" not in page and "leader-form" not in page
    assert client.get(f"/admin/teams/{seeded.repair_team}").status_code == 404
    page = _follow(client, post(client, f"/admin/teams/{seeded.haircut_team}/members",
                                {"volunteer_id": seeded.repairer}))
    assert "王师傅已加入" in page and seeded.repairer in _team_ids(services, seeded.haircut_team)
    assert post(client, f"/admin/teams/{seeded.repair_team}/members",
                {"volunteer_id": seeded.barber}).status_code == 404
    for path, data in ((f"/admin/teams/{seeded.haircut_team}/robot", {"robot_key": ROBOT_KEY}),
                       (f"/admin/teams/{seeded.haircut_team}/leader", {"volunteer_id": seeded.repairer}),
                       (f"/admin/teams/{seeded.haircut_team}", {"name": "我的队"}),
                       ("/admin/teams", {"code": "mine", "name": "我的队"}),
                       ("/admin/merchants", {"code": "mine", "name": "我的店"}),
                       (f"/admin/merchants/{seeded.merchant}/disable", {})):
        assert post(client, path, data).status_code == 403, path
    team = _team(services, seeded.haircut_team)
    assert team.robot_key is None and team.name != "我的队"


def test_a_merchant_sees_only_its_own_and_edits_nothing(client: Any, seeded: Seeded, services: Services) -> None:
    with services.sessions() as s:
        s.add(Merchant(hub_id=seeded.hub_id, code="tea", name="街口茶馆", created_at=services.clock.now()))
        s.commit()
        tea = int(s.scalar(select(Merchant.id).where(Merchant.code == "tea")) or 0)
    login(client, "shop")
    page = text(client.get("/admin/merchants"))
    assert "老街理发店" in page and "街口茶馆" not in page and "添加商户" not in page
    page = text(client.get(f"/admin/merchants/{seeded.merchant}"))
    assert "老街理发店" in page and "merchant-edit-form" not in page
    assert client.get(f"/admin/merchants/{tea}").status_code == 404
    assert client.get("/admin/teams").status_code == 403
    assert client.get(f"/admin/teams/{seeded.haircut_team}").status_code == 403
    for path, data in ((f"/admin/merchants/{seeded.merchant}", {"name": "改名"}),
                       (f"/admin/merchants/{seeded.merchant}/disable", {}),
                       (f"/admin/teams/{seeded.haircut_team}/members", {"volunteer_id": seeded.repairer})):
        assert post(client, path, data, page="/admin/merchants").status_code == 403, path
    with services.sessions() as s:
        assert s.scalar(select(Merchant.name).where(Merchant.id == seeded.merchant)) == "老街理发店"


def test_another_hubs_team_and_merchant_are_not_found(client: Any, seeded: Seeded, services: Services) -> None:
    login(client, "east")  # staff of the other hub
    for path in (f"/admin/teams/{seeded.haircut_team}", f"/admin/merchants/{seeded.merchant}"):
        assert client.get(path).status_code == 404, path
    for path, data in ((f"/admin/teams/{seeded.haircut_team}", {"name": "东城接管"}),
                       (f"/admin/teams/{seeded.haircut_team}/robot", {"robot_key": ROBOT_KEY}),
                       (f"/admin/teams/{seeded.haircut_team}/members", {"volunteer_id": seeded.other_volunteer}),
                       (f"/admin/teams/{seeded.haircut_team}/members/{seeded.barber}/remove", {}),
                       (f"/admin/teams/{seeded.haircut_team}/leader", {"volunteer_id": ""}),
                       (f"/admin/merchants/{seeded.merchant}", {"name": "东城接管"}),
                       (f"/admin/merchants/{seeded.merchant}/disable", {})):
        assert post(client, path, data).status_code == 404, path
    team = _team(services, seeded.haircut_team)
    assert team.name != "东城接管" and team.robot_key is None
    assert seeded.barber in _team_ids(services, seeded.haircut_team)
    # and the other way: the default hub's staff do not reach the east team
    login(client, "xiaoli")
    assert client.get(f"/admin/teams/{_other_hub_team(services, seeded)}").status_code == 404


def test_every_new_form_refuses_a_missing_csrf_token(staff_client: Any, seeded: Seeded, services: Services) -> None:
    team, merchant = seeded.haircut_team, seeded.merchant
    for path, data in (("/admin/teams", {"code": "nocsrf", "name": "无令牌队"}),
                       (f"/admin/teams/{team}", {"name": "无令牌队"}),
                       (f"/admin/teams/{team}/leader", {"volunteer_id": seeded.repairer}),
                       (f"/admin/teams/{team}/members", {"volunteer_id": seeded.repairer}),
                       (f"/admin/teams/{team}/members/{seeded.barber}/remove", {}),
                       (f"/admin/teams/{team}/robot", {"robot_key": ROBOT_KEY}),
                       ("/admin/merchants", {"code": "nocsrf", "name": "无令牌店"}),
                       (f"/admin/merchants/{merchant}", {"name": "无令牌店"}),
                       (f"/admin/merchants/{merchant}/disable", {})):
        assert staff_client.post(path, data=data).status_code == 400, path
    saved = _team(services, team)
    assert saved.name != "无令牌队" and saved.robot_key is None and saved.leader_volunteer_id != seeded.repairer
    assert seeded.barber in _team_ids(services, team)
    with services.sessions() as s:
        m = s.get(Merchant, merchant)
        assert m is not None and m.active and m.name == "老街理发店"
        assert s.scalar(select(Team.id).where(Team.code == "nocsrf")) is None


def test_the_counter_person_is_given_by_phone(staff_client: Any, seeded: Seeded, services: Services) -> None:
    """Outside tester out9: the merchant form asked staff for an openid, which nobody knows. A phone of someone who
    wrote to the account finds them; a phone nobody left is said plainly and nothing is saved."""
    from storage.models import User

    now = services.clock.now()
    with services.sessions() as s, s.begin():
        s.add(User(hub_id=seeded.hub_id, openid="oCounterAyi01", roles=[], subscribed=True, phone="13655556666",
                   created_at=now))
    page = _follow(staff_client, post(staff_client, "/admin/merchants", {
        "code": "tea_shop", "name": "茶叶店", "accepts_redemptions": "y", "staff_openid": "13655556666"}))
    assert "商户“茶叶店”已添加" in page, page
    with services.sessions() as s:
        m = s.execute(select(Merchant).where(Merchant.code == "tea_shop")).scalar_one()
        assert m.staff_openid == "oCounterAyi01"
    page = _follow(staff_client, post(staff_client, "/admin/merchants", {
        "code": "rice_shop", "name": "米店", "staff_openid": "13900009999"}))
    assert "没有找到留了手机号139****9999的公众号用户" in page, page
    with services.sessions() as s:
        assert s.execute(select(Merchant).where(Merchant.code == "rice_shop")).scalar_one_or_none() is None
