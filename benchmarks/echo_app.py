"""The bare baseline for benchmarks/webhook.py: the least a safe-mode (AES) WeChat webhook can do.

Flask + wechatpy only: verify the signature, decrypt with WeChatCrypto, parse with parse_message,
answer with a TextReply encrypted back. No database, no dedupe, no dialogue. It reads the same
LEIFENG_WECHAT_TOKEN / LEIFENG_WECHAT_APPID / LEIFENG_WECHAT_AES_KEY as the real app.

    gunicorn --workers 2 --worker-class sync --pythonpath benchmarks 'echo_app:create_app()'
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature


def create_app() -> Flask:
    token = os.environ["LEIFENG_WECHAT_TOKEN"]
    appid = os.environ["LEIFENG_WECHAT_APPID"]
    crypto = WeChatCrypto(token, os.environ["LEIFENG_WECHAT_AES_KEY"], appid)
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    @app.post("/wechat")
    def receive() -> Response:
        args = request.args
        try:
            check_signature(token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
            plain = crypto.decrypt_message(request.get_data(), args.get("msg_signature", ""),
                                           args.get("timestamp", ""), args.get("nonce", ""))
        except InvalidSignatureException:
            return Response("forbidden", status=403, mimetype="text/plain")
        msg = parse_message(plain)
        xml = TextReply(message=msg, content=f"echo: {getattr(msg, 'content', '')}").render()
        body = crypto.encrypt_message(xml, args.get("nonce", ""), args.get("timestamp"))
        return Response(body, status=200, mimetype="application/xml")

    return app
