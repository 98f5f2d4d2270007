"""A webhook receiver on loopback for the alert tests: answers as told, keeps what it got."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookServer:
    """`behaviour`: "ok" (204), "error" (500), "slow" (answers after `delay` seconds)."""

    def __init__(self, behaviour: str = "ok", delay: float = 5.0) -> None:
        self.behaviour = behaviour
        self.delay = delay
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                if outer.behaviour == "slow":
                    time.sleep(outer.delay)
                code = 500 if outer.behaviour == "error" else 204
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
