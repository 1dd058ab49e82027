"""A fake WeChat (and WeCom robot and WeCom app) API server on loopback, for tests and the demo.

It implements the endpoints the bot calls, records every call, can be told to fail, and shows
what it received at GET /__sent__. Failure injection: POST /__fail__ with JSON
{"path": "/cgi-bin/message/custom/send", "errcode": 45015, "times": 1}
(or "http_status": 500, or "delay": seconds to simulate a timeout); POST /__expire_token__ makes
every issued access token invalid (the next call gets 40001); POST /__reset__ clears everything.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class _Failure:
    path: str
    times: int
    errcode: int | None = None
    http_status: int | None = None
    delay: float = 0.0


@dataclass
class FakeState:
    calls: list[dict[str, Any]] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    token_counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    msg_counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    lock: threading.Lock = field(default_factory=threading.Lock)


def create_fake_app(state: FakeState | None = None) -> Flask:
    app = Flask("fake_wechat")
    st = state or FakeState()
    app.extensions["fake_state"] = st

    def take_failure(path: str) -> _Failure | None:
        with st.lock:
            for f in st.failures:
                if f.path == path and f.times > 0:
                    f.times -= 1
                    return f
        return None

    def record(result: dict[str, Any], status: int = 200) -> None:
        body = request.get_json(silent=True, force=True) if request.method == "POST" else None
        with st.lock:
            st.calls.append({"path": request.path, "method": request.method, "params": dict(request.args),
                             "body": body, "status": status, "result": result, "at": time.time()})

    def answer(result: dict[str, Any], status: int = 200) -> Response:
        record(result, status)
        resp = jsonify(result)
        resp.status_code = status
        return resp

    def authorised() -> bool:
        with st.lock:
            return request.args.get("access_token", "") in st.valid_tokens

    @app.before_request
    def inject_failure() -> Response | None:
        if request.path.startswith("/__"):
            return None
        failure = take_failure(request.path)
        if failure is None:
            return None
        if failure.delay:
            time.sleep(failure.delay)
        if failure.http_status:
            return answer({"error": "injected"}, failure.http_status)
        if failure.errcode is not None:
            return answer({"errcode": failure.errcode, "errmsg": "injected failure"})
        return None

    @app.get("/cgi-bin/token")
    def token() -> Response:
        if not request.args.get("appid") or not request.args.get("secret"):
            return answer({"errcode": 41002, "errmsg": "appid missing"})
        token = f"FAKE_TOKEN_{next(st.token_counter)}"
        with st.lock:
            st.valid_tokens.add(token)
        return answer({"access_token": token, "expires_in": 7200})

    def api(result: dict[str, Any]) -> Response:
        if not authorised():
            return answer({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        return answer({"errcode": 0, "errmsg": "ok", **result})

    @app.post("/cgi-bin/message/custom/send")
    def custom_send() -> Response:
        return api({})

    @app.post("/cgi-bin/message/template/send")
    def template_send() -> Response:
        return api({"msgid": next(st.msg_counter)})

    @app.post("/cgi-bin/menu/create")
    def menu_create() -> Response:
        return api({})

    @app.get("/cgi-bin/user/info")
    def user_info() -> Response:
        openid = request.args.get("openid", "")
        return api({"subscribe": 1, "openid": openid, "nickname": f"用户{openid[-4:]}", "language": "zh_CN"})

    @app.post("/cgi-bin/qrcode/create")
    def qrcode_create() -> Response:
        n = next(st.msg_counter)
        return api({"ticket": f"FAKE_TICKET_{n}", "expire_seconds": 2592000, "url": f"http://weixin.qq.com/q/fake{n}"})

    @app.post("/cgi-bin/webhook/send")
    def robot_send() -> Response:
        if not request.args.get("key"):
            return answer({"errcode": 93000, "errmsg": "invalid webhook url"})
        body = request.get_json(silent=True, force=True) or {}
        content = (body.get("text") or body.get("markdown") or {}).get("content", "")
        if len(content.encode("utf-8")) > 4096:
            return answer({"errcode": 40058, "errmsg": "content exceed max length"})
        return answer({"errcode": 0, "errmsg": "ok"})

    # -- WeCom (企业微信) app API: gettoken, message/send, appchat/send --
    @app.get("/cgi-bin/gettoken")
    def wecom_token() -> Response:
        if not request.args.get("corpid") or not request.args.get("corpsecret"):
            return answer({"errcode": 40013, "errmsg": "invalid corpid"})
        token = f"FAKE_WECOM_TOKEN_{next(st.token_counter)}"
        with st.lock:
            st.valid_tokens.add(token)
        return answer({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    @app.post("/cgi-bin/message/send")
    def wecom_message_send() -> Response:
        body = request.get_json(silent=True, force=True) or {}
        if not body.get("touser") or not body.get("agentid"):
            return answer({"errcode": 40003 if not body.get("touser") else 40056, "errmsg": "invalid touser/agentid"})
        return api({"invaliduser": "", "msgid": f"wecom{next(st.msg_counter)}"})

    @app.post("/cgi-bin/appchat/send")
    def wecom_appchat_send() -> Response:
        body = request.get_json(silent=True, force=True) or {}
        if not body.get("chatid"):
            return answer({"errcode": 86003, "errmsg": "chat not exists"})
        return api({})

    @app.get("/__sent__")
    def sent() -> Response:
        path = request.args.get("path")
        with st.lock:
            calls = [c for c in st.calls if path is None or c["path"] == path]
        return jsonify(calls)

    @app.post("/__fail__")
    def fail() -> Response:
        spec = request.get_json(force=True)
        with st.lock:
            st.failures.append(_Failure(path=spec["path"], times=int(spec.get("times", 1)),
                                        errcode=spec.get("errcode"), http_status=spec.get("http_status"),
                                        delay=float(spec.get("delay", 0))))
        return jsonify({"ok": True})

    @app.post("/__expire_token__")
    def expire_token() -> Response:
        with st.lock:
            st.valid_tokens.clear()
        return jsonify({"ok": True})

    @app.post("/__reset__")
    def reset() -> Response:
        with st.lock:
            st.calls.clear()
            st.failures.clear()
            st.valid_tokens.clear()
        return jsonify({"ok": True})

    return app


class FakeWeChatServer:
    """The fake server on a background thread; `port=0` picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = FakeState()
        self.app = create_fake_app(self.state)
        self._server: BaseWSGIServer = make_server(host, port, self.app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        self._thread = threading.Thread(target=lambda: self._server.serve_forever(poll_interval=0.05),
                                        name="fake-wechat", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeWeChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(c) for c in self.state.calls if path is None or c["path"] == path]

    def fail(self, path: str, *, errcode: int | None = None, http_status: int | None = None,
             delay: float = 0.0, times: int = 1) -> None:
        with self.state.lock:
            self.state.failures.append(_Failure(path, times, errcode, http_status, delay))

    def expire_tokens(self) -> None:
        with self.state.lock:
            self.state.valid_tokens.clear()

    def __enter__(self) -> FakeWeChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(host: str, port: int) -> None:
    """Run in the foreground (the `leifeng fake-wechat` command)."""
    server = make_server(host, port, create_fake_app(), threaded=True)
    print(f"fake WeChat API on http://{host}:{server.server_port}  (GET /__sent__ shows what it received)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
