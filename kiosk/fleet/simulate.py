"""``kiosk fleet simulate``: N kiosks in one process, on the kiosk's own fleet client code.

Each simulated kiosk is a :class:`kiosk.fleet.client.FleetClient` on one shared
:class:`kiosk.fleet.loop.Loop` (one thread, one socket per kiosk), with made-up
health: most are healthy, every 10th has paper near its end, every 25th has
its ID-card reader unplugged, and every 20th "flaps" (drops its link without a
DISCONNECT every 20-60 s, like a village link going down). Commands are
checked by the same :class:`kiosk.fleet.guard.Guard` as on a real kiosk.
"""

from __future__ import annotations

import logging
import random
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from kiosk import __version__
from kiosk.fleet.client import FleetClient, Hooks
from kiosk.fleet.eventqueue import MemoryQueue
from kiosk.fleet.guard import Guard, SeenIds
from kiosk.fleet.link import Backoff, Link, SessionCounter
from kiosk.fleet.loop import Loop

log = logging.getLogger("kiosk.fleet.simulate")


class SimKiosk:
    def __init__(
        self,
        loop: Loop,
        link: Link,
        county: str,
        device_id: str,
        index: int,
        *,
        health_interval: float,
        jitter: bool,
        reconnect_max: float,
        keys: Any,
        first_attempt_at: float,
        rng: random.Random,
    ) -> None:
        self.index = index
        self.rng = rng
        self.paper = "near_end" if index % 10 == 3 else "ok"
        self.idcard = "offline" if index % 25 == 11 else "online"
        self.flapping = index % 20 == 7
        self.settings: dict[str, Any] = {}
        self.guard = Guard(device_id, keys, SeenIds())
        self.visits = rng.randint(0, 30)
        # Session numbers start from the clock: no per-kiosk file, still growing across runs.
        self.client = FleetClient(
            loop,
            link,
            county,
            device_id,
            hooks=Hooks(state_extra=self._state_extra, health=self._health, on_command=self._on_command),
            queue=MemoryQueue(),
            sessions=SessionCounter(start=int(time.time() * 10)),
            health_interval=health_interval,
            backoff=Backoff(cap=reconnect_max, jitter=jitter, rng=rng),
            first_attempt_at=first_attempt_at,
        )
        # Spread health reports over the interval instead of all at once after a mass connect.
        self.client.hooks.on_connected = lambda c: setattr(c, "_next_health", time.time() + rng.uniform(0, 2))
        self._next_flap = time.monotonic() + rng.uniform(20, 60)

    def _state_extra(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "catalog_version": 3,
            "config_hash": "sim",
            "since": int((self.client.stats.connected_since or time.time()) * 1000),
            "simulated": True,
        }

    def _health(self) -> dict[str, Any]:
        return {
            "paper": self.paper,
            "devices": {
                "idcard": {"status": self.idcard},
                "sscard": {"status": "online"},
                "printer": {"status": "paper_near_end" if self.paper != "ok" else "online"},
                "camera": {"status": "online"},
            },
            "outbox": {"pending": 0, "oldest_age_s": 0},
            "watchdog": {"ok": True},
            "visits_today": self.visits,
            "last_visit": int((time.time() - 600) * 1000),
            "version": __version__,
            "disk": {"free_mb": 20000},
            "uptime_s": 3600,
        }

    def tick(self) -> None:
        if self.flapping and time.monotonic() >= self._next_flap and self.client.connected:
            self._next_flap = time.monotonic() + self.rng.uniform(20, 60)
            self.client.fail(ConnectionResetError("simulated link loss"))

    def _on_command(self, client: FleetClient, cmd_id: str, doc: Any) -> None:
        reason = self.guard.check(cmd_id, doc)
        if reason:
            client.ack(cmd_id, "refused", reason=reason)
            return
        action, args = doc["action"], doc.get("args") or {}
        if action == "selftest":
            ok = self.paper == "ok" and self.idcard == "online"
            client.ack(
                cmd_id,
                "ok" if ok else "failed",
                result={
                    "ok": ok,
                    "simulated": True,
                    "checks": [
                        {"name": "printer", "ok": self.paper == "ok", "status": "ok" if self.paper == "ok" else "warn"},
                        {
                            "name": "idcard",
                            "ok": self.idcard == "online",
                            "status": "ok" if self.idcard == "online" else "fail",
                        },
                    ],
                },
            )
        elif action == "set_config":
            self.settings[str(args.get("key"))] = args.get("value")
            client.ack(cmd_id, "ok", result={"key": args.get("key"), "value": args.get("value")})
        elif action == "logs":
            client.ack(
                cmd_id, "ok", result={"lines": [f"simulated log line {i}" for i in range(int(args.get("n", 10)))]}
            )
        elif action == "restart":
            client.ack(cmd_id, "ok", result={"restarting": True})
            client.event("restart", by="fleet", command=cmd_id)
        else:
            client.ack(cmd_id, "ok", result={"simulated": True})


class Fleet:
    def __init__(
        self,
        link: Link,
        count: int,
        *,
        prefix: str = "SIM",
        counties: list[str] | None = None,
        health_interval: float = 60.0,
        jitter: bool = True,
        reconnect_max: float = 300.0,
        keys_path: str | None = None,
        ramp: float | None = None,
        seed: int = 1,
    ) -> None:
        self.loop = Loop("fleet-sim", tick_every=0.5 if count <= 100 else 1.0)
        counties = counties or ["临县", "兴县", "方山县"]
        rng = random.Random(seed)
        keys = _keys_loader(keys_path)
        ramp = count / 500 if ramp is None else ramp
        start = time.monotonic()
        self.kiosks = [
            SimKiosk(
                self.loop,
                link,
                counties[i % len(counties)],
                f"{prefix}-{i:05d}",
                i,
                health_interval=health_interval,
                jitter=jitter,
                reconnect_max=reconnect_max,
                keys=keys,
                first_attempt_at=start + rng.uniform(0, ramp),
                rng=random.Random(seed + i),
            )
            for i in range(count)
        ]
        for k in self.kiosks:
            self.loop.clients.append(k.client)
        self.loop.clients.append(_Flapper(self.kiosks))

    def connected(self) -> int:
        return sum(1 for k in self.kiosks if k.client.connected)

    def start(self) -> Fleet:
        self.loop.start()
        return self

    def stop(self) -> None:
        self.loop.stop(10)


class _Flapper:
    """Ticks the flapping kiosks (a pseudo-client of the loop)."""

    device_id = "flapper"

    def __init__(self, kiosks: list[SimKiosk]) -> None:
        self.kiosks = [k for k in kiosks if k.flapping]

    def tick(self, now: float) -> None:
        for k in self.kiosks:
            k.tick()

    def on_readable(self) -> None:
        pass

    def on_writable(self) -> None:
        pass

    def fail(self, exc: BaseException) -> None:
        pass


def _keys_loader(path: str | None):
    if not path:
        return dict
    from kiosk.fleet.agent import KeyFile

    return KeyFile(Path(path))


def run(link: Link, count: int, **kw: Any) -> int:
    """Run until SIGTERM/SIGINT; print a READY line once all are connected, then a status line every 10 s."""
    # Thousands of kiosks: per-connection lines would drown the output.
    logging.getLogger("kiosk.fleet.client").setLevel(logging.WARNING)
    fleet = Fleet(link, count, **kw).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_a: stop.set())
    ready = False
    last_report = 0.0
    while not stop.wait(0.2):
        n = fleet.connected()
        if not ready and n >= count:
            ready = True
            print(f"READY {count} simulated kiosks connected to {link.url}", flush=True)
        if time.monotonic() - last_report >= 10:
            last_report = time.monotonic()
            published = sum(k.client.stats.published for k in fleet.kiosks)
            print(f"status: {n}/{count} connected, {published} messages published", flush=True)
    fleet.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover - use `kiosk fleet simulate`
    sys.exit("use: kiosk fleet simulate --broker URL --count N")
