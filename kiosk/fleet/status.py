"""The county technician's view of the fleet: who is online, what needs a visit.

Reads the retained ``state`` and ``health`` of every kiosk (one subscription
per leaf) and keeps the newest per kiosk. A ``state`` whose session is older
than the one already seen is ignored: that is a late Last Will of a
connection the kiosk has already replaced.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.fleet import topics
from kiosk.fleet.link import Link

STALE_AFTER = 3  # health intervals without a report: "health stale"


@dataclass
class KioskView:
    device_id: str
    county: str
    online: bool | None = None
    session: int = -1
    since: int | None = None  # ms: online since, or last seen before going offline
    state: dict[str, Any] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    offline_at: float | None = None  # s, when this viewer saw it go offline (live mode)

    def feed_state(self, doc: dict[str, Any], now: float) -> None:
        session = doc.get("session")
        if not isinstance(session, int) or session < self.session:
            return  # late Will or a replay of an older birth
        was = self.online
        self.session = session
        self.online = bool(doc.get("online"))
        if self.online:
            self.state = doc
            self.since = doc.get("since") or doc.get("ts")
            self.offline_at = None
        else:
            if was:
                self.offline_at = now
            self.since = self.health.get("ts") or self.since

    def feed_health(self, doc: dict[str, Any]) -> None:
        self.health = doc
        if self.online is False:
            self.since = doc.get("ts") or self.since

    # -- what the technician reads ----------------------------------------------
    @property
    def paper(self) -> str:
        return str(self.health.get("paper", "unknown"))

    def problems(self, now: float | None = None) -> list[str]:
        now = now or time.time()
        h = self.health
        out: list[str] = []
        if self.online is None:
            out.append("no state seen")
        elif not self.online:
            out.append("offline")
        if self.paper in ("out", "near_end"):
            out.append(f"paper {self.paper.replace('_', ' ')}")
        for name, dev in sorted((h.get("devices") or {}).items()):
            status = dev.get("status") if isinstance(dev, dict) else dev
            if status in ("offline", "no_device", "error", "unplugged"):
                out.append(f"{name} {status}")
        outbox = h.get("outbox") or {}
        if (outbox.get("oldest_age_s") or 0) > 3600:
            out.append(f"outbox {outbox.get('pending')} waiting {outbox['oldest_age_s'] / 3600:.0f} h")
        if h and h.get("clock_ok") is False:
            out.append("clock not synced")
        wd = h.get("watchdog") or {}
        if wd.get("ok") is False:
            out.append("watchdog: " + str(wd.get("problem") or "unhealthy"))
        disk = h.get("disk") or {}
        if disk and disk.get("free_mb", 1 << 30) < 500:
            out.append(f"disk {disk['free_mb']} MB free")
        interval = h.get("health_interval") or 60
        if self.online and h.get("ts") and now - h["ts"] / 1000 > STALE_AFTER * interval:
            out.append("health stale")
        return out

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        h = self.health
        return {
            "device_id": self.device_id,
            "county": self.county,
            "online": self.online is True,
            "since": self.since,
            "session": self.session,
            "problems": self.problems(now),
            "paper": self.paper,
            "devices": h.get("devices") or {},
            "outbox": (h.get("outbox") or {}).get("pending"),
            "version": self.state.get("version") or h.get("version"),
            "catalog_version": self.state.get("catalog_version"),
            "disclosure_version": self.state.get("disclosure_version"),
            "voice_version": self.state.get("voice_version"),
            "config_hash": self.state.get("config_hash"),
            "last_visit": h.get("last_visit"),
            "visits_today": h.get("visits_today"),
        }


class FleetView:
    def __init__(self) -> None:
        self.kiosks: dict[str, KioskView] = {}
        self.messages = 0
        self.lock = threading.Lock()

    def feed(self, topic: str, payload: bytes, now: float | None = None) -> None:
        parsed = topics.parse(topic)
        if parsed is None or parsed.leaf not in (topics.STATE, topics.HEALTH):
            return
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            return
        if not isinstance(doc, dict):
            return
        with self.lock:
            self.messages += 1
            k = self.kiosks.get(parsed.device_id)
            if k is None:
                k = self.kiosks[parsed.device_id] = KioskView(parsed.device_id, parsed.county)
            if parsed.leaf == topics.STATE:
                k.feed_state(doc, now or time.time())
            else:
                k.feed_health(doc)

    def rows(self, county: str | None = None, now: float | None = None) -> list[dict[str, Any]]:
        """Problems first (offline first of all), then by device id."""
        with self.lock:
            rows = [k.to_dict(now) for k in self.kiosks.values() if county is None or k.county == county]
        return sorted(rows, key=lambda r: (not r["problems"], r["online"], r["device_id"]))


def connect(link: Link, name: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:8]}", clean_session=True)
    if link.username:
        c.username_pw_set(link.username, link.password or None)
    ctx = link.tls_context()
    if ctx is not None:
        c.tls_set_context(ctx)
    return c


def watch(link: Link, county: str | None, view: FleetView) -> tuple[mqtt.Client, threading.Event]:
    """Subscribe ``view`` to the fleet; returns the running client and an event set at SUBACK."""
    subscribed = threading.Event()
    c = connect(link, "fleet-status")
    c.on_message = lambda _c, _u, msg: view.feed(msg.topic, bytes(msg.payload))
    c.on_subscribe = lambda *_a: subscribed.set()

    def on_connect(client, _u, _f, rc, _p) -> None:
        if not rc.is_failure:
            client.subscribe(
                [(topics.fleet_filter(topics.STATE, county), 1), (topics.fleet_filter(topics.HEALTH, county), 0)]
            )

    c.on_connect = on_connect
    c.connect(link.host, link.port, 30)
    c.loop_start()
    return c, subscribed


def collect(link: Link, county: str | None = None, settle: float = 0.5, timeout: float = 10.0) -> FleetView:
    """The retained picture: subscribe, then wait until messages stop arriving for ``settle`` s."""
    view = FleetView()
    c, subscribed = watch(link, county, view)
    try:
        if not subscribed.wait(timeout):
            raise ConnectionError(f"no answer from the broker at {link.url} within {timeout:.0f}s")
        deadline = time.monotonic() + timeout
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if view.messages != last:
                last, quiet_since = view.messages, time.monotonic()
            elif time.monotonic() - quiet_since >= settle:
                break
    finally:
        c.loop_stop()
        c.disconnect()
    return view


def _ago(ms: int | None, now: float) -> str:
    if not ms:
        return "-"
    s = now - ms / 1000
    if s < 90:
        return f"{s:.0f}s ago"
    if s < 5400:
        return f"{s / 60:.0f}min ago"
    if s < 172800:
        return f"{s / 3600:.0f}h ago"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ms / 1000))


def format_table(rows: list[dict[str, Any]], now: float | None = None) -> str:
    now = now or time.time()
    head = ["DEVICE", "COUNTY", "ONLINE", "SINCE", "PAPER", "OUTBOX", "VERSION", "LAST VISIT", "PROBLEMS"]
    table = [head]
    for r in rows:
        table.append(
            [
                r["device_id"],
                r["county"],
                "online" if r["online"] else "OFFLINE",
                _ago(r["since"], now),
                r["paper"],
                "-" if r["outbox"] is None else str(r["outbox"]),
                str(r["version"] or "-"),
                _ago(r["last_visit"], now),
                ", ".join(r["problems"]) or "ok",
            ]
        )
    from kiosk.hardware.escpos_commands import display_width

    widths = [max(display_width(row[i]) for row in table) for i in range(len(head))]
    lines = [
        "  ".join(cell + " " * (w - display_width(cell)) for cell, w in zip(row, widths, strict=False)).rstrip()
        for row in table
    ]
    online = sum(1 for r in rows if r["online"])
    problems = sum(1 for r in rows if r["problems"])
    lines.append(f"{len(rows)} kiosks: {online} online, {len(rows) - online} offline, {problems} with problems")
    return "\n".join(lines)
