"""``kiosk fleet console``: the fleet table in a browser, live, with history and command buttons.

A small HTTP server (standard library, loopback by default) in front of the
same :class:`kiosk.fleet.status.FleetView` as ``kiosk fleet status``, kept
live by one broker subscription. It also keeps each kiosk's health for the
last 24 hours for the small chart, in SQLite under ``--state-dir``
(:mod:`kiosk.fleet.history`), so a restarted console still has them. Commands are signed here with the operator key the console was
started with; the browser never sees the key.

    GET  /                     the page (Chinese UI; filters by county and "problems only")
    GET  /api/fleet            rows, problems first (as ``kiosk fleet status --json``)
    GET  /api/history?device=  [{ts, online, outbox, paper, disk_free_mb}] of the last 24 h
    POST /api/cmd              {"device_id", "action", "args"} -> the kiosk's ack
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kiosk.fleet import topics
from kiosk.fleet.history import HistoryStore
from kiosk.fleet.link import Link
from kiosk.fleet.operator import build_command, send
from kiosk.fleet.signing import OperatorKey
from kiosk.fleet.status import FleetView, watch

log = logging.getLogger("kiosk.fleet.console")

PAGE = Path(__file__).with_name("console.html")
ACTIONS = ("selftest", "restart", "logs", "reprint_faults")


class HistoryView(FleetView):
    """A FleetView that also keeps every kiosk's health samples of the last 24 h (in ``store``)."""

    def __init__(self, store: HistoryStore) -> None:
        super().__init__()
        self.store = store

    def feed(self, topic: str, payload: bytes, now: float | None = None) -> None:
        super().feed(topic, payload, now)
        parsed = topics.parse(topic)
        if parsed is None or parsed.leaf not in (topics.HEALTH, topics.STATE):
            return
        now = now or time.time()
        with self.lock:
            k = self.kiosks.get(parsed.device_id)
            if k is None:
                return
            h = k.health
            sample = {
                "ts": int(now * 1000),
                "online": k.online is True,
                "outbox": (h.get("outbox") or {}).get("pending"),
                "paper": h.get("paper"),
                "disk_free_mb": (h.get("disk") or {}).get("free_mb"),
            }
        self.store.add(parsed.device_id, sample)


class Console:
    def __init__(
        self,
        link: Link,
        key: OperatorKey | None,
        county: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: Path | None = None,
        bucket: int = 60,
    ) -> None:
        """``state_dir``: where the history file lives (None: in memory only); ``bucket``: seconds per row."""
        self.link = link
        self.key = key
        self.history = HistoryStore(state_dir / "history.sqlite3" if state_dir else None, bucket=bucket)
        self.view = HistoryView(self.history)
        self.client, self.subscribed = watch(link, county, self.view)
        console = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug("console: " + fmt, *args)

            def _send(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def _json(self, code: int, doc: Any) -> None:
                self._send(code, json.dumps(doc, ensure_ascii=False).encode(), "application/json; charset=utf-8")

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                q = parse_qs(url.query)
                if url.path == "/":
                    self._send(200, PAGE.read_bytes(), "text/html; charset=utf-8")
                elif url.path == "/api/fleet":
                    self._json(200, console.view.rows())
                elif url.path == "/api/history":
                    dev = (q.get("device") or [""])[0]
                    self._json(200, console.history.samples(dev))
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                if urlsplit(self.path).path != "/api/cmd":
                    self._json(404, {"error": "not found"})
                    return
                try:
                    req = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                    dev, action = str(req["device_id"]), str(req["action"])
                except (ValueError, KeyError, TypeError):
                    self._json(400, {"status": "failed", "reason": "malformed request"})
                    return
                self._json(200, console.command(dev, action, req.get("args") or {}))

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fleet-console", daemon=True)

    def command(self, device_id: str, action: str, args: dict[str, Any]) -> dict[str, Any]:
        if action not in ACTIONS:
            return {"status": "failed", "reason": f"the console offers {', '.join(ACTIONS)}"}
        if self.key is None:
            return {"status": "failed", "reason": "no operator key (kiosk fleet keygen)"}
        with self.view.lock:
            k = self.view.kiosks.get(device_id)
        if k is None:
            return {"status": "failed", "reason": "unknown kiosk"}
        doc = build_command(self.key, device_id, action, args, ttl=600)
        try:
            ack = send(self.link, k.county, doc, wait=60)
        except (OSError, ConnectionError) as exc:
            return {"status": "failed", "reason": f"broker: {exc}"}
        return ack or {"id": doc["id"], "status": "no_ack", "reason": "no answer within 60 s (offline?)"}

    def start(self) -> Console:
        self.history.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.client.loop_stop()
        self.client.disconnect()
        self.history.close()
