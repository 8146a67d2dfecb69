"""A loopback HTTP proxy that sends each request to the next of several backends in turn, as a
load balancer in front of a catalogue's web pods does (no stickiness: any request may land anywhere)."""
from __future__ import annotations

import itertools
import threading
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from faultproxy import relay, send_back


class RoundRobin:
    """``with RoundRobin([url1, url2]) as proxy: proxy.url``; ``proxy.served`` counts requests per backend."""

    def __init__(self, backends: list[str], port: int = 0) -> None:
        self.backends = [urllib.parse.urlsplit(b) for b in backends]
        self.turn = itertools.cycle(range(len(backends)))
        self.lock = threading.Lock()
        self.served: Counter[int] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                proxy.forward(self, None)

            def do_POST(self) -> None:  # noqa: N802
                proxy.forward(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RoundRobin:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def forward(self, req: BaseHTTPRequestHandler, body: bytes | None) -> None:
        """Send the request to the next backend and its answer back as it came."""
        with self.lock:
            index = next(self.turn)
            self.served[index] += 1
        send_back(req, *relay(self.backends[index], req, body, timeout=300, keep_host=True))
