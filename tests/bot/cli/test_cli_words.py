"""A mistyped command is told in Chinese: click's English usage messages do not reach the staff's error line
(outside tester out9)."""

from __future__ import annotations

import re

import pytest

from bot.cli.main import main


def error_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    return line


@pytest.mark.parametrize(("argv", "said"), [
    (("orders", "cancel"), "少了参数 'REF'"),
    (("orders", "cancel", "x", "1", "--frobnicate"), "没有 --frobnicate 这个选项"),
    (("nosuch",), "没有 nosuch 这个命令"),
    (("orders", "cancel", "--hub", "x", "abc", "--reason", "r"), "'REF' 的值不对（写的是 abc），要写正整数"),
    (("orders",), "要写出子命令"),
    (("orders", "cancel", "x", "1", "--reason"), "--reason 后面要跟一个值"),
    (("serve", "--port", "99999"), "'--port' 的值不对（写的是 99999），要写1到65535之间的整数"),
])
def test_usage_errors_are_plain_chinese(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], said: str) -> None:
    line = error_line(capsys, *argv)
    assert line.startswith("错误: 命令写得不对") and said in line and "--help" in line
    assert not re.search(r"Missing|No such|Invalid|requires|Usage|not a valid|Error", line), line


def test_a_mistyped_option_gets_the_close_one(capsys: pytest.CaptureFixture[str]) -> None:
    line = error_line(capsys, "orders", "cancel", "x", "1", "--reasn", "r")
    assert "没有 --reasn 这个选项，是不是 --reason" in line
