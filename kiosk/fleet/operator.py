"""The operator side of a command: sign it, send it, wait for the kiosk's acknowledgement."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from kiosk.fleet import topics
from kiosk.fleet.link import Link
from kiosk.fleet.signing import OperatorKey
from kiosk.fleet.status import connect

FINAL = ("ok", "failed", "refused")


def build_command(
    key: OperatorKey | None,
    device_id: str,
    action: str,
    args: dict[str, Any] | None = None,
    ttl: float = 600.0,
    cmd_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    now = time.time() if now is None else now
    doc = {
        "id": cmd_id or uuid.uuid4().hex,
        "device_id": device_id,
        "action": action,
        "args": args or {},
        "issued": int(now),
        "expires": int(now + ttl),
    }
    return key.sign(doc) if key is not None else doc


def find_county(link: Link, device_id: str, timeout: float = 3.0) -> str | None:
    """The county of a kiosk, from its retained ``state``."""
    found: dict[str, str] = {}
    got = threading.Event()
    c = connect(link, "fleet-find")

    def on_message(_c, _u, msg) -> None:
        parsed = topics.parse(msg.topic)
        if parsed is not None:
            found["county"] = parsed.county
            got.set()

    c.on_message = on_message
    c.on_connect = lambda client, _u, _f, rc, _p: (
        None
        if rc.is_failure
        else client.subscribe(
            f"{topics.ROOT}/{topics.VERSION}/+/{topics.check_segment(device_id, 'device id')}/state", 1
        )
    )
    c.connect(link.host, link.port, 30)
    c.loop_start()
    try:
        got.wait(timeout)
    finally:
        c.loop_stop()
        c.disconnect()
    return found.get("county")


def send(
    link: Link, county: str, doc: dict[str, Any], wait: float = 30.0, raw_payload: bytes | None = None
) -> dict[str, Any] | None:
    """Publish ``doc`` (QoS 1) and return the final ack, or None if none came within ``wait`` s."""
    device_id, cmd_id = doc["device_id"], doc["id"]
    acks: list[dict[str, Any]] = []
    final = threading.Event()
    ready = threading.Event()
    c = connect(link, "fleet-cmd")

    def on_message(_c, _u, msg) -> None:
        try:
            ack = json.loads(msg.payload)
        except ValueError:
            return
        acks.append(ack)
        if ack.get("status") in FINAL:
            final.set()

    c.on_message = on_message
    c.on_subscribe = lambda *_a: ready.set()
    c.on_connect = lambda client, _u, _f, rc, _p: (
        None if rc.is_failure else client.subscribe(topics.ack(county, device_id, cmd_id), 1)
    )
    c.connect(link.host, link.port, 30)
    c.loop_start()
    try:
        if not ready.wait(min(wait, 10) or 10):
            raise ConnectionError(f"no answer from the broker at {link.url}")
        payload = raw_payload if raw_payload is not None else json.dumps(doc, ensure_ascii=False)
        c.publish(topics.cmd(county, device_id, cmd_id), payload, qos=1).wait_for_publish(10)
        final.wait(wait)
    finally:
        c.loop_stop()
        c.disconnect()
    finals = [a for a in acks if a.get("status") in FINAL]
    return finals[-1] if finals else None


def publish_desired(
    link: Link, county: str, device_id: str, settings: dict[str, Any], rev: int, key: OperatorKey | None
) -> None:
    """Retained ``config/desired`` (signed like a command)."""
    doc: dict[str, Any] = {"rev": rev, "device_id": device_id, "settings": settings, "issued": int(time.time())}
    if key is not None:
        doc = key.sign(doc)
    c = connect(link, "fleet-config")
    c.connect(link.host, link.port, 30)
    c.loop_start()
    try:
        c.publish(
            topics.topic(county, device_id, topics.CONFIG_DESIRED),
            json.dumps(doc, ensure_ascii=False),
            qos=1,
            retain=True,
        ).wait_for_publish(10)
    finally:
        c.loop_stop()
        c.disconnect()
