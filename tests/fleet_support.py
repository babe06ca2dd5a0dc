"""Helpers for fleet tests: a real Mosquitto on loopback, an MQTT listener, kiosk configs."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import queue
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.core import config as config_mod
from kiosk.fleet import signing


class Listener:
    """A plain MQTT subscriber recording (topic, payload-json, retain) in arrival order."""

    def __init__(self, url_port: int, *filters: str, username: str = "", password: str = "") -> None:
        self.messages: "queue.Queue[tuple[str, Any, bool]]" = queue.Queue()
        self.seen: list[tuple[str, Any, bool]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:6]}")
        if username:
            self.client.username_pw_set(username, password)
        ready = threading.Event()
        self.client.on_subscribe = lambda *_a: ready.set()
        self.client.on_connect = lambda c, *_a: c.subscribe([(f, 1) for f in filters])

        def on_message(_c, _u, msg) -> None:
            try:
                doc = json.loads(msg.payload) if msg.payload else None
            except ValueError:
                doc = msg.payload
            self.messages.put((msg.topic, doc, bool(msg.retain)))
        self.client.on_message = on_message
        self.client.connect("127.0.0.1", url_port, 30)
        self.client.loop_start()
        assert ready.wait(10), "listener did not subscribe"

    def wait_for(self, pred, timeout: float = 15.0) -> tuple[str, Any, bool]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(item)
            if pred(*item):
                return item
        raise AssertionError(f"no matching message within {timeout}s; seen: {self.seen[-10:]}")

    def publish(self, topic: str, payload: Any, retain: bool = False) -> None:
        text = payload if isinstance(payload, (str, bytes)) else json.dumps(payload, ensure_ascii=False)
        self.client.publish(topic, text, qos=1, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def make_keys(tmp_path: Path) -> tuple[signing.OperatorKey, Path]:
    key = signing.generate()
    pub = tmp_path / "operators.pub"
    pub.write_text(f"{signing.public_text(key.public)} test-operator\n", encoding="utf-8")
    return key, pub


def kiosk_cfg(tmp_path: Path, port: int, pub: Path, device_id: str = "SX-T-0001", county: str = "临县",
              health_interval: int = 5, **fleet: Any) -> config_mod.Config:
    cfg = config_mod.load(env={})
    cfg["site"]["device_id"] = device_id
    cfg["site"]["county"] = county
    cfg["storage"]["dir"] = str(tmp_path / "var")
    cfg["fleet"].update(broker=f"mqtt://127.0.0.1:{port}", start_broker=False, health_interval=health_interval,
                        operator_keys=str(pub), reconnect_max=5, keepalive=10, **fleet)
    return cfg


class HttpsFiles:
    """A real HTTPS server on loopback (certificate from a throw-away CA) serving ``root``."""

    def __init__(self, tmp_path: Path) -> None:
        import functools
        import http.server
        import ssl

        from tests.tls_support import TestCA

        ca = TestCA(tmp_path)
        crt, key = ca.issue("files", server=True)
        self.ca = ca.crt
        self.root = tmp_path / "www"
        self.root.mkdir()
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(self.root))
        handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.srv.shutdown()


def catalog_bundle(root: Path, suffix: str = "（新版）") -> bytes:
    """A valid catalog differing from the shipped one in its first item's name."""
    shipped = json.loads((Path(__file__).resolve().parent.parent / "config" / "catalog.json").read_text("utf-8"))
    shipped["items"][0]["name"] += suffix
    return json.dumps(shipped, ensure_ascii=False).encode()


def release_tree(tmp_path: Path, version: str) -> Path:
    """A release tree: this repository's real ``kiosk`` package plus VERSION.txt."""
    src = tmp_path / f"tree-{version}"
    shutil.copytree(Path(__file__).resolve().parent.parent / "kiosk", src / "kiosk",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (src / "VERSION.txt").write_text(version + "\n", encoding="utf-8")
    return src


def archive(tree: Path, extra: list[tuple[tarfile.TarInfo, bytes]] = ()) -> bytes:
    """A release archive (tar.gz) of ``tree``, plus hand-made members (unsafe ones for tests)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(tree, arcname=".")
        for info, data in extra:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buf.getvalue()
