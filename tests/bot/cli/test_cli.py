"""The leifeng command line, run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.devtools.fake_wechat import FakeWeChatServer

COMMANDS = ["qrcode", "orders", "orders assign", "events", "broadcast", "callout", "wecom", "staff",
            "volunteers", "teams", "merchants", "points", "timebank", "report", "export", "serve", "worker",
            "db", "db upgrade", "db current", "fake-wechat", "chat", "demo", "menu", "menu push", "hubs",
            "hubs list", "hubs add", "secrets", "secrets rotate"]


def leifeng(*args: str, env: dict[str, str] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LEIFENG_")}
    full_env["LEIFENG_ENV"] = "development"  # the published development secrets; a test may say production
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", "from bot.cli.main import main; main()", *args], capture_output=True,
                          text=True, env=full_env, input=input, timeout=120)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    from click.testing import CliRunner

    from bot.cli.main import cli

    res = CliRunner().invoke(cli, [*command.split(), "--help"])
    assert res.exit_code == 0, res.output
    assert "Usage:" in res.output


def test_the_installed_entry_point_runs() -> None:
    res = leifeng("--help")
    assert res.returncode == 0 and "demo" in res.stdout


def test_unmigrated_database_is_one_clear_line(tmp_path: Path) -> None:
    res = leifeng("worker", "--once", env={"LEIFENG_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert res.returncode == 1
    assert "leifeng db upgrade" in res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_upgrade_then_hubs_then_menu_push(tmp_path: Path) -> None:
    with FakeWeChatServer() as fake:
        env = {"LEIFENG_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "LEIFENG_WECHAT_API_BASE_URL": fake.url}
        assert leifeng("db", "upgrade", env=env).returncode == 0
        assert "up to date" in leifeng("db", "current", env=env).stdout
        res = leifeng("hubs", "add", "--slug", "baolian", "--name", "宝莲社区雷锋超市", env=env)
        assert res.returncode == 0, res.stderr
        dup = leifeng("hubs", "add", "--slug", "baolian", "--name", "again", env=env)
        assert dup.returncode == 1 and "already exists" in dup.stderr and "Traceback" not in dup.stderr
        assert "baolian" in leifeng("hubs", "list", env=env).stdout
        res = leifeng("menu", "push", env=env)
        assert res.returncode == 0, res.stderr
        (call,) = fake.calls("/cgi-bin/menu/create")
        assert call["body"]["button"][0]["name"] == "我要点单"
        bad = tmp_path / "bad.json"
        bad.write_text("{not json", encoding="utf-8")
        res = leifeng("menu", "push", "--file", str(bad), env=env)
        assert res.returncode == 1 and "not valid JSON" in res.stderr
        down = {**env, "LEIFENG_WECHAT_API_BASE_URL": "http://127.0.0.1:1", "LEIFENG_WECHAT_SECRET": "s3cr3t-value"}
        res = leifeng("menu", "push", env=down)  # WeChat unreachable: one line, and the AppSecret is not in it
        assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
        assert "s3cr3t-value" not in res.stderr + res.stdout and "access_token=" not in res.stderr
        fresh = {**down, "LEIFENG_DATABASE_URL": f"sqlite:///{tmp_path / 'y.db'}"}  # no token yet: fetching one
        assert leifeng("db", "upgrade", env=fresh).returncode == 0
        res = leifeng("menu", "push", env=fresh)
        assert res.returncode == 1 and "token request failed" in res.stderr and "s3cr3t-value" not in res.stderr


def test_worker_once_sends_nothing_on_empty_outbox(tmp_path: Path) -> None:
    env = {"LEIFENG_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    leifeng("db", "upgrade", env=env)
    res = leifeng("worker", "--once", env=env)
    assert res.returncode == 0 and "claimed 0" in res.stdout


@pytest.mark.parametrize("args", [("--script",), ()])  # asked for, or no terminal on stdin (a pipe here)
def test_demo_script_runs_the_loop_and_exits_zero(args: tuple[str, ...]) -> None:
    res = leifeng("demo", *args, input="")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "感谢关注" in res.stdout and "[客服消息 → oDemoStaff01]" in res.stdout
    assert "0 轮不符合预期" in res.stdout


@pytest.mark.parametrize("aes_key", ["", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"])  # plaintext, safe mode
def test_chat_against_a_running_demo_server_reads_stdin(tmp_path: Path, aes_key: str) -> None:
    """`leifeng chat` posts real signed (with an AES key: encrypted) XML to a webhook; here a served app."""
    import threading

    from werkzeug.serving import make_server

    from bot.app import create_app
    from storage.db import upgrade

    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    with FakeWeChatServer() as fake:
        settings = {"database_url": url, "wechat_api_base_url": fake.url, "wechat_token": "chat-token",
                    "wechat_aes_key": aes_key}
        app = create_app(settings)
        queries: list[str] = []

        def recording(environ: Any, start_response: Any) -> Any:
            queries.append(environ.get("QUERY_STRING", ""))
            return app(environ, start_response)

        server = make_server("127.0.0.1", 0, recording, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        env = {"LEIFENG_DATABASE_URL": url, "LEIFENG_WECHAT_TOKEN": "chat-token", "LEIFENG_WECHAT_AES_KEY": aes_key}
        res = leifeng("chat", "--url", f"http://127.0.0.1:{server.server_port}/wechat", env=env,
                      input="菜单\n/voice\n/quit\n")
        server.shutdown()
    assert res.returncode == 0, res.stderr
    assert "请回复数字" in res.stdout and "没有听清楚" in res.stdout
    assert len(queries) == 2 and all(("encrypt_type=aes" in q) == bool(aes_key) for q in queries)


def test_qrcode_for_a_merchant_counter(tmp_path: Path) -> None:
    with FakeWeChatServer() as fake:
        env = {"LEIFENG_DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}", "LEIFENG_WECHAT_API_BASE_URL": fake.url}
        leifeng("db", "upgrade", env=env)
        res = leifeng("qrcode", "--scene", "merchant_redeem_17", env=env)
        assert res.returncode == 0, res.stderr
        assert "showqrcode?ticket=FAKE_TICKET_" in res.stdout and "permanent" in res.stdout
        (call,) = fake.calls("/cgi-bin/qrcode/create")
        assert call["body"] == {"action_info": {"scene": {"scene_str": "merchant_redeem_17"}},
                                "action_name": "QR_LIMIT_STR_SCENE"}
        bad = leifeng("qrcode", "--scene", "有空格 的", env=env)
        assert bad.returncode != 0 and "scene must be" in bad.stderr


@pytest.mark.parametrize("command", ["fake-wechat", "serve"])
def test_a_port_out_of_range_is_one_clear_line(command: str) -> None:
    res = leifeng(command, "--port", "99999")
    assert res.returncode == 2 and "99999" in res.stderr and "Traceback" not in res.stderr


def test_terminal_chat_prints_the_users_own_outbox_messages(monkeypatch: Any, capsys: Any) -> None:
    from bot.devtools.chat import run_terminal_chat

    class Transport:
        fake_url = "http://fake"

        def send(self, who: str, line: str) -> str:
            return f"收到：{line}"

        def pushed(self) -> list[dict[str, Any]]:
            text = "/cgi-bin/message/custom/send"
            return [{"path": text, "body": {"touser": "oMe", "msgtype": "text", "text": {"content": "给我的"}}},
                    {"path": text, "body": {"touser": "oStaff", "msgtype": "text", "text": {"content": "给工作人员"}}}]

    lines = iter(["人工", "/quit"])
    monkeypatch.setattr("builtins.input", lambda _prompt: next(lines))
    run_terminal_chat(Transport(), "oMe", settle=0)  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert "收到：人工" in out and "给我的" in out and "给工作人员" not in out and "另有 1 条消息发给了别人" in out


def test_the_lazy_commands_listed_by_help_are_the_real_ones() -> None:
    """`leifeng --help` lists the other modules' groups from a table, without importing them: keep it true."""
    import importlib

    from bot.cli.main import LAZY_COMMANDS

    for name, lazy in LAZY_COMMANDS.items():
        command = getattr(importlib.import_module(lazy.module), lazy.attribute)
        assert command.name == name and command.get_short_help_str(500) == lazy.help, name


def test_help_imports_neither_the_database_nor_the_language_understanding() -> None:
    heavy = ("sqlalchemy", "flask", "jieba", "pypinyin", "bot.services", "intents.matcher", "bot.cli.orders")
    code = ("import sys\nfrom bot.cli.main import main\nmain(['--help'])\n"
            f"print('LOADED', [m for m in {heavy!r} if m in sys.modules])")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "orders" in res.stdout and "LOADED []" in res.stdout


PRODUCTION = {"LEIFENG_ENV": "production", "LEIFENG_WECHAT_TOKEN": "Wq7ZtK2pLm9xVb4N",
              "LEIFENG_SECRET_KEY": "new-key-for-the-rotation-test-0123456789"}


@pytest.mark.parametrize("command", [("worker", "--once"), ("hubs", "list"), ("orders", "list"), ("serve",),
                                     ("secrets", "rotate", "--old-key-stdin")])
def test_outside_development_commands_refuse_the_published_secrets(tmp_path: Path, command: tuple[str, ...]) -> None:
    env = {"LEIFENG_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert leifeng("db", "upgrade", env=env).returncode == 0  # the schema needs no secrets
    res = leifeng(*command, env={**env, "LEIFENG_ENV": "production"}, input="an-old-key\n")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    (line,) = res.stderr.strip().splitlines()
    assert "LEIFENG_WECHAT_TOKEN" in line and "LEIFENG_SECRET_KEY" in line


def test_secrets_rotate_moves_id_numbers_to_the_new_key(tmp_path: Path) -> None:
    from sqlalchemy import select

    from bot.clock import FakeClock
    from bot.people.idprotect import IdProtector
    from storage.db import transaction
    from storage.models import Volunteer
    from tests.conftest import make_services

    url = f"sqlite:///{tmp_path / 'r.db'}"
    env = {**PRODUCTION, "LEIFENG_DATABASE_URL": url}
    assert leifeng("db", "upgrade", env=env).returncode == 0
    old_key, number = "dev-secret-key-change-me", "11010519491231002X"  # what a first install ran with
    svc = make_services(url, FakeClock())
    with transaction(svc.sessions) as s:
        old = IdProtector(old_key)
        s.add(Volunteer(name="张三", id_number_enc=old.encrypt(number), id_number_hash=old.lookup_hash(number),
                        id_number_masked="110***********002X", created_at=svc.clock.now()))

    res = leifeng("secrets", "rotate", "--old-key-env", "LEIFENG_OLD_SECRET_KEY", "--dry-run",
                  env={**env, "LEIFENG_OLD_SECRET_KEY": old_key})
    assert res.returncode == 0, res.stderr
    assert "would move 1 ID numbers" in res.stdout and "nothing changed" in res.stdout
    res = leifeng("secrets", "rotate", "--old-key-env", "LEIFENG_OLD_SECRET_KEY",
                  env={**env, "LEIFENG_OLD_SECRET_KEY": old_key})
    assert res.returncode == 0, res.stderr
    assert "moved 1 ID numbers to the new key (0 already under it)" in res.stdout
    res = leifeng("secrets", "rotate", "--old-key-stdin", env=env, input=old_key + "\n")  # again: nothing to do
    assert res.returncode == 0 and "moved 0 ID numbers to the new key (1 already under it)" in res.stdout
    with svc.sessions() as s:
        vol = s.execute(select(Volunteer)).scalar_one()
        new = IdProtector(PRODUCTION["LEIFENG_SECRET_KEY"])
        assert vol.id_number_enc and new.decrypt(vol.id_number_enc) == number
        assert vol.id_number_hash == new.lookup_hash(number)
    svc.close()

    res = leifeng("secrets", "rotate", env=env)  # where is the old key?
    assert res.returncode == 2 and "--old-key-env VAR or --old-key-stdin" in res.stderr
    res = leifeng("secrets", "rotate", "--old-key-env", "NOT_SET_ANYWHERE", env=env)
    assert res.returncode == 1 and "NOT_SET_ANYWHERE is empty or not set" in res.stderr
    res = leifeng("secrets", "rotate", "--old-key-stdin", env=env, input=PRODUCTION["LEIFENG_SECRET_KEY"] + "\n")
    assert res.returncode == 1 and "the previous key is the current LEIFENG_SECRET_KEY" in res.stderr
    assert "--old-key " not in leifeng("secrets", "rotate", "--help").stdout  # never a command-line argument


def test_upgrade_makes_the_street_events_of_a_fresh_install(tmp_path: Path) -> None:
    """"活动" answers at once after `leifeng db upgrade`, before any worker ran (issue 15); without the secrets of
    production the schema is still made and the events are left to the worker, said in one line."""
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'e.db'}"
    res = leifeng("db", "upgrade", env={"LEIFENG_DATABASE_URL": url})
    assert res.returncode == 0, res.stderr
    assert "street events generated:" in res.stdout and "street events generated: 0" not in res.stdout
    engine = create_engine(url)
    with engine.connect() as conn:
        made = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
    assert made > 0
    again = leifeng("db", "upgrade", env={"LEIFENG_DATABASE_URL": url})
    assert "street events generated: 0" in again.stdout  # idempotent
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == made
    engine.dispose()
    other = f"sqlite:///{tmp_path / 'p.db'}"
    res = leifeng("db", "upgrade", env={"LEIFENG_DATABASE_URL": other, "LEIFENG_ENV": "production"})
    assert res.returncode == 0 and "Traceback" not in res.stderr
    assert "the worker makes them when it starts" in res.stdout
