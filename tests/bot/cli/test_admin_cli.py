"""`leifeng staff ...`: the first admin from the command line, then signing in with it."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from bot.cli.main import cli
from bot.services import Services
from storage.models import AuditLog
from storage.models_admin import StaffAccount
from tests.bot.admin.test_admin import login


def run(services: Services, *args: str, stdin: str | None = None) -> Any:
    env = {"LEIFENG_DATABASE_URL": str(services.config.database_url)}
    return CliRunner().invoke(cli, list(args), env=env, input=stdin)


def test_create_the_first_admin_and_sign_in(services: Services, client: Any) -> None:
    res = run(services, "staff", "create", "--username", "Boss", "--role", "admin", "--hub", "default",
              "--password-stdin", stdin="a-long-password-1\n")
    assert res.exit_code == 0, res.output
    assert "账号boss（系统管理员，站点default）已创建" in res.output
    with services.sessions() as s:
        account = s.execute(select(StaffAccount)).scalar_one()
        audit = s.execute(select(AuditLog).where(AuditLog.action == "staff_create")).scalar_one()
    assert account.role == "admin" and account.password_hash.startswith("$argon2id$") and audit.actor == "cli"
    assert login(client, "boss", "a-long-password-1").status_code == 302
    assert client.get("/admin/staff").status_code == 200


def test_password_is_prompted_twice(services: Services) -> None:
    res = run(services, "staff", "create", "--username", "amy", "--role", "staff",
              stdin="a-long-password-1\na-long-password-1\n")
    assert res.exit_code == 0, res.output
    res = run(services, "staff", "create", "--username", "bob", "--role", "staff",
              stdin="a-long-password-1\ndifferent-password\n")
    assert res.exit_code != 0  # the two entries must match (click asks again, then input runs out)


def test_refusals_are_one_line(services: Services) -> None:
    pw = "a-long-password-1\n"
    cases = [(("--username", "xx1", "--role", "admin"), "short\n", "密码至少10位"),
             (("--username", "xx2", "--role", "admin", "--hub", "nowhere"), pw, "没有站点"),
             (("--username", "xx3", "--role", "leader"), pw, "队长账号要指定"),
             (("--username", "xx4", "--role", "merchant", "--merchant", "nope"), pw, "商户账号要指定"),
             (("--username", "no spaces", "--role", "staff"), pw, "用户名只能用")]
    for args, stdin, words in cases:
        res = run(services, "staff", "create", *args, "--password-stdin", stdin=stdin)
        assert res.exit_code != 0 and words in res.output, (args, res.output)
    run(services, "staff", "create", "--username", "dup", "--role", "staff", "--password-stdin",
        stdin="a-long-password-1\n")
    res = run(services, "staff", "create", "--username", "dup", "--role", "staff", "--password-stdin",
              stdin="a-long-password-1\n")
    assert res.exit_code != 0 and "已被使用" in res.output


def test_list_password_disable_enable(services: Services, client: Any) -> None:
    assert "还没有账号" in run(services, "staff", "list").output
    run(services, "staff", "create", "--username", "amy", "--role", "staff", "--password-stdin",
        stdin="a-long-password-1\n")
    assert "amy\t社区工作人员\tdefault\t在用" in run(services, "staff", "list").output
    assert run(services, "staff", "password", "amy", "--password-stdin", stdin="new-password-22\n").exit_code == 0
    assert login(client, "amy", "a-long-password-1").status_code == 401
    assert login(client, "amy", "new-password-22").status_code == 302
    assert run(services, "staff", "disable", "amy").exit_code == 0
    assert client.get("/admin/dashboard").status_code == 302  # the open session ended
    assert "已停用" in run(services, "staff", "list").output
    assert run(services, "staff", "enable", "amy").exit_code == 0
    assert run(services, "staff", "disable", "nobody").exit_code != 0
