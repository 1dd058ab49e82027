"""intents/ is pure: importing and using it loads no web, database or network modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("flask", "sqlalchemy", "requests", "urllib3", "socket", "ssl", "http.client", "psycopg", "redis",
             "wechatpy", "bot", "storage")

SCRIPT = """
import json, sys, datetime, zoneinfo
import intents
from intents import Matcher, load_catalogue, understand
m = Matcher(load_catalogue())
understand(m, "明天下午三点来理发，电话13812345678", datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")))
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_and_using_intents_loads_no_io_modules() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(out.stdout))
    bad = sorted(m for m in loaded if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN)
    assert bad == []
    # jieba's dictionary loading must not chatter on stderr
    assert "Building prefix dict" not in out.stderr
    assert "Loading model" not in out.stderr
