"""`leifeng staff link / unlink`: a staff account's WeChat from the command line (a QR code, or an openid)."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli.main import cli
from bot.devtools.fake_wechat import FakeWeChatServer
from bot.services import Services
from storage.db import transaction
from storage.models import AuditLog, Merchant, User
from storage.models_admin import StaffAccount, StaffLinkScene
from tests.bot.admin.test_admin import _create_account


def run(services: Services, fake: FakeWeChatServer, *args: str) -> Any:
    env = {"LEIFENG_DATABASE_URL": str(services.config.database_url), "LEIFENG_WECHAT_API_BASE_URL": fake.url,
           "LEIFENG_WECHAT_APPID": "wxtestappid0001", "LEIFENG_WECHAT_SECRET": "testsecret"}
    return CliRunner().invoke(cli, list(args), env=env)


def _setup(services: Services) -> None:
    now = services.clock.now()
    with transaction(services.sessions) as s:
        for username, role, extra in (("xiaoli", "staff", {}), ("shop", "merchant", {})):
            if role == "merchant":
                s.add(Merchant(hub_id=1, code="barbershop", name="老街理发店", address="幸福路1号",
                               service_point=True, services=["haircut"], accepts_redemptions=True, created_at=now))
                s.flush()
                extra = {"merchant_code": "barbershop"}
            _create_account(s, username=username, password="correct-horse-battery", role=role, hub_slug="default",
                            now=now, actor="test", **extra)
        s.add(User(hub_id=1, openid="oXiaoliWx", roles=[], subscribed=True, created_at=now))


def test_link_by_openid_then_unlink(services: Services, fake_wechat: FakeWeChatServer) -> None:
    _setup(services)
    res = run(services, fake_wechat, "staff", "link", "xiaoli", "--openid", "oXiaoliWx")
    assert res.exit_code == 0, res.output
    with services.sessions() as s:
        user = s.execute(select(User).where(User.openid == "oXiaoliWx")).scalar_one()
        account = s.execute(select(StaffAccount).where(StaffAccount.username == "xiaoli")).scalar_one()
        assert "staff" in user.roles and account.wechat_user_id == user.id
        assert s.execute(select(AuditLog).where(AuditLog.action == "staff_link")).scalar_one().actor == "cli"
    assert "已绑定微信" in run(services, fake_wechat, "staff", "list").output
    res = run(services, fake_wechat, "staff", "unlink", "xiaoli")
    assert res.exit_code == 0 and "已解除微信绑定" in res.output
    with services.sessions() as s:
        assert "staff" not in s.execute(select(User).where(User.openid == "oXiaoliWx")).scalar_one().roles
    assert "没有绑定微信" in run(services, fake_wechat, "staff", "unlink", "xiaoli").output


def test_link_prints_a_temporary_qr_code(services: Services, fake_wechat: FakeWeChatServer) -> None:
    _setup(services)
    res = run(services, fake_wechat, "staff", "link", "xiaoli")
    assert res.exit_code == 0, res.output
    assert "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=FAKE_TICKET_" in res.output
    with services.sessions() as s:
        scene = s.execute(select(StaffLinkScene)).scalar_one()
    assert scene.ticket and scene.used_at is None and scene.scene.startswith("stafflink_")
    created = [c for c in fake_wechat.calls() if c["path"].endswith("/qrcode/create")]
    assert created and created[-1]["body"]["action_name"] == "QR_STR_SCENE"
    assert created[-1]["body"]["expire_seconds"] == 600  # the hub's staff_link_minutes
    assert created[-1]["body"]["action_info"]["scene"]["scene_str"] == scene.scene


def test_refusals_are_one_line(services: Services, fake_wechat: FakeWeChatServer) -> None:
    _setup(services)
    for args, words in ((("link", "nobody"), "没有账号nobody"),
                        (("link", "xiaoli", "--openid", "oNeverWrote"), "请先让他发一条消息"),
                        (("link", "shop", "--openid", "oXiaoliWx"), "只有系统管理员和社区工作人员"),
                        (("link", "shop"), "只有系统管理员和社区工作人员")):
        res = run(services, fake_wechat, "staff", *args)
        assert res.exit_code != 0 and words in res.output and "Traceback" not in res.output, (args, res.output)
