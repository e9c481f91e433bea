"""Local receivers on loopback: an HTTP server with scripted replies and an aiosmtpd SMTP server."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["HttpReceiver", "SmtpReceiver", "http_receiver", "smtp_receiver"]


@dataclass
class HttpReceiver:
    url: str
    #: replies to give in order (status, headers, delay seconds); the last one repeats
    script: list[tuple[int, dict[str, str], float]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@contextmanager
def http_receiver(path: str = "/hook") -> Iterator[HttpReceiver]:
    box: list[HttpReceiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            rec = box[0]
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            rec.paths.append(self.path)
            status, headers, delay = rec.script.pop(0) if len(rec.script) > 1 else rec.script[0]
            if delay:
                time.sleep(delay)
            try:
                rec.bodies.append(json.loads(raw))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.append(HttpReceiver(f"http://127.0.0.1:{server.server_address[1]}{path}", [(200, {}, 0.0)]))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class SmtpReceiver:
    host: str
    port: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    #: replies to DATA in order; the last one repeats
    replies: list[str] = field(default_factory=lambda: ["250 OK"])
    logins: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def smtp_receiver(*, password: str | None = None) -> Iterator[SmtpReceiver]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rec = SmtpReceiver("127.0.0.1", port)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            reply = rec.replies.pop(0) if len(rec.replies) > 1 else rec.replies[0]
            if reply.startswith("250"):
                rec.messages.append(
                    {
                        "from": envelope.mail_from,
                        "to": list(envelope.rcpt_tos),
                        "data": envelope.content.decode(),
                    }
                )
            return reply

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password.decode() == password
        if isinstance(data, LoginPassword):
            rec.logins.append((data.login.decode(), "***"))
        return AuthResult(success=ok)

    kwargs: dict[str, Any] = {}
    if password is not None:
        kwargs = {"authenticator": authenticate, "auth_require_tls": False}
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield rec
    finally:
        controller.stop()
