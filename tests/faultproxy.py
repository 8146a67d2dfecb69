"""A loopback HTTP proxy in front of the sandbox that injects faults or latency.

Faults, each chosen for a given share of calls (seeded, so a run can be repeated):
  500, 502, 503  answered by the proxy, the server never sees the call;
  429            answered with Retry-After;
  drop           the connection is closed before the call is forwarded;
  lost           the call is forwarded (the server commits it), then the connection is
                 closed: the answer never arrives.
``rewrite`` changes a call's JSON on its way, as a plugin that keeps something else would.
Every call the server saw is logged (action, the ids in it, its status), so a test can
count how many times a change really landed.
"""
from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("500", "502", "503", "429", "drop", "lost")


def relay(backend: urllib.parse.SplitResult, req: BaseHTTPRequestHandler, body: bytes | None,
          timeout: float = 120, keep_host: bool = False) -> tuple[int, list, bytes]:
    """Send a proxied request on to ``backend``: (status, headers, body) of its answer."""
    conn = http.client.HTTPConnection(backend.hostname, backend.port, timeout=timeout)
    dropped = ("connection", "content-length") if keep_host else ("host", "connection", "content-length")
    headers = {k: v for k, v in req.headers.items() if k.lower() not in dropped}
    if body is not None:
        headers["Content-Length"] = str(len(body))
    conn.request(req.command, req.path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp.getheaders(), data


def send_back(req: BaseHTTPRequestHandler, status: int, headers: list, data: bytes) -> None:
    """Answer the proxied request with what the backend answered."""
    req.send_response(status)
    for key, value in headers:
        if key.lower() not in ("transfer-encoding", "connection", "content-length"):
            req.send_header(key, value)
    req.send_header("Content-Length", str(len(data)))
    req.end_headers()
    req.wfile.write(data)


class FaultProxy:
    """Start with ``with FaultProxy(backend, share=0.2) as proxy: proxy.url``."""

    def __init__(self, backend: str, share: float = 0.0, latency: float = 0.0, seed: int = 1,
                 faults: tuple[str, ...] = FAULTS, only_writes: bool = False) -> None:
        self.backend = urllib.parse.urlsplit(backend)
        self.share, self.latency, self.faults, self.only_writes = share, latency, faults, only_writes
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.forwarded: list[dict[str, Any]] = []  # calls the server answered
        self.injected: list[str] = []
        # a plugin that keeps something else than it was sent: (action, JSON body) -> the body the server gets
        self.rewrite: Any = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                proxy.handle(self, None)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                proxy.handle(self, self.rfile.read(length))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _pick(self, action: str) -> str | None:
        write = not action.endswith(("_show", "_search", "_list")) and action not in ("status_show",)
        with self.lock:
            if self.only_writes and not write:
                return None
            if self.rng.random() >= self.share:
                return None
            fault = self.rng.choice(self.faults)
            self.injected.append(fault)
            return fault

    def handle(self, req: BaseHTTPRequestHandler, body: bytes | None) -> None:
        if self.latency:
            time.sleep(self.latency)
        action = req.path.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
        fault = self._pick(action)
        if fault in ("500", "502", "503", "429"):
            payload = b"<html>injected fault</html>"
            req.send_response(int(fault))
            if fault == "429":
                req.send_header("Retry-After", "0")
            req.send_header("Content-Type", "text/html")
            req.send_header("Content-Length", str(len(payload)))
            req.end_headers()
            req.wfile.write(payload)
            return
        if fault == "drop":
            self._drop(req)
            return
        if self.rewrite is not None and body:
            try:
                body = json.dumps(self.rewrite(action, json.loads(body))).encode()
            except ValueError:
                pass  # not JSON (an upload): sent as it came
        status, headers, answer = self._forward(req, body)
        self._log(action, body, status)
        if fault == "lost":
            self._drop(req)
            return
        send_back(req, status, headers, answer)

    def _forward(self, req: BaseHTTPRequestHandler, body: bytes | None) -> tuple[int, list, bytes]:
        return relay(self.backend, req, body, timeout=120)

    def _log(self, action: str, body: bytes | None, status: int) -> None:
        ids: list[str] = []
        try:
            data = json.loads(body or b"{}")
            for key in ("id", "name", "package_id"):
                if isinstance(data.get(key), str):
                    ids.append(data[key])
            match = data.get("match")
            if isinstance(match, dict) and isinstance(match.get("id"), str):
                ids.append(match["id"])
        except ValueError:
            pass
        with self.lock:
            self.forwarded.append({"action": action, "ids": ids, "status": status})

    @staticmethod
    def _drop(req: BaseHTTPRequestHandler) -> None:
        req.close_connection = True
        try:
            req.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
