#!/usr/bin/env python3
"""Fleet figures: N simulated kiosks (``kiosk fleet simulate``) against Mosquitto on loopback.

1. Connect: seconds until all N kiosks are online (ramped over N/500 s).
2. Steady load at one health report per kiosk per 60 s: messages/s seen by the
   ``fleet status`` view (kiosk.fleet.status.FleetView) and the broker's own
   ``$SYS`` received rate.
3. Capacity: the same N kiosks reporting health every second: messages/s the
   simulator gets through the broker into the status view, against a baseline
   in the same run: one bare paho client publishing QoS 0 messages of the same
   size as fast as it can into the same view.
4. Death: kill -9 of a one-kiosk simulator → ``offline`` in the status view
   (median of --kills runs, while the N kiosks run).
5. Broker restart: seconds until all N are online again, with reconnect
   jitter and, in a second fleet, without.

    python bench/fleet.py [--count 5000] [--kills 5] [--steady 30] [--capacity 20]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from kiosk.fleet import topics  # noqa: E402
from kiosk.fleet.broker import start_broker  # noqa: E402
from kiosk.fleet.status import FleetView  # noqa: E402


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by mosquitto and the simulator
    return hard


class Watcher:
    """The status view, live: every state/health message fed to a FleetView, counted."""

    def __init__(self, port: int) -> None:
        self.view = FleetView()
        self.count = 0
        self.offline_at: dict[str, float] = {}
        self.born: set[str] = set()  # kiosks whose birth (online state) this watcher saw
        self.born_at: list[float] = []
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:6]}")
        self.ready = threading.Event()
        self.c.on_connect = lambda c, *_a: c.subscribe([(topics.fleet_filter(topics.STATE), 1),
                                                        (topics.fleet_filter(topics.HEALTH), 0),
                                                        (topics.fleet_filter("test"), 0)])
        self.c.on_subscribe = lambda *_a: self.ready.set()
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port, 60)
        self.c.loop_start()
        assert self.ready.wait(10)

    def _on_message(self, _c, _u, msg) -> None:
        self.count += 1
        now = time.monotonic()
        self.view.feed(msg.topic, msg.payload)
        if msg.topic.endswith("/state"):
            k = self.view.kiosks.get(topics.parse(msg.topic).device_id)
            if k is not None and k.online is False and k.device_id not in self.offline_at:
                self.offline_at[k.device_id] = now
            if k is not None and k.online and k.device_id not in self.born:
                self.born.add(k.device_id)
                self.born_at.append(now)

    def online(self, prefix: str = "") -> int:
        with self.view.lock:
            return sum(1 for k in self.view.kiosks.values() if k.online and k.device_id.startswith(prefix))

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def simulate(url: str, count: int, prefix: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "kiosk", "fleet", "simulate", "--broker", url, "--count",
                             str(count), "--prefix", prefix, *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)


def read_ready(proc: subprocess.Popen) -> str:
    for line in proc.stdout:
        if line.startswith("READY"):
            # Keep reading its status lines, or the simulator blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return line.strip()
    raise RuntimeError(f"simulator exited (code {proc.wait()}) before all kiosks connected")


def wait_until(pred, timeout: float, step: float = 0.05) -> float | None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return time.monotonic() - t0
        time.sleep(step)
    return None


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rate(w: Watcher, seconds: float) -> float:
    n0, t0 = w.count, time.monotonic()
    time.sleep(seconds)
    return (w.count - n0) / (time.monotonic() - t0)


def peak_per_window(times: list[float], window: float = 0.5) -> int:
    """Most births in any ``window`` seconds: the reconnect peak the broker had to absorb."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def restart_recovery(broker, url: str, count: int, prefix: str, timeout: float) -> tuple[float | None, int, dict]:
    broker.restart()
    t0 = time.monotonic()
    w = Watcher(broker.port)  # the broker lost its retained state: only fresh births count
    # "Back" = reconnected at least once since the restart; the flapping kiosks (1 in 20)
    # are never all online at the same instant.
    def back() -> int:
        return sum(1 for d in list(w.born) if d.startswith(prefix))
    try:
        took = wait_until(lambda: back() >= count, timeout, 0.1)
        at = sorted(t - t0 for t in w.born_at)
        spread = {"peak_births_per_0.5s": peak_per_window(at),
                  "half_back_s": round(at[len(at) // 2], 2) if at else None,
                  "p90_back_s": round(at[int(len(at) * 0.9)], 2) if at else None}
        return (None if took is None else time.monotonic() - t0), back(), spread
    finally:
        w.close()


def bare_baseline(port: int, w: Watcher, payload: str, seconds: float) -> float:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare")
    c.connect("127.0.0.1", port, 60)
    c.loop_start()
    topic = topics.topic("基准", "BARE-0", "test")
    n0, t0 = w.count, time.monotonic()
    while time.monotonic() - t0 < seconds:
        for _ in range(200):
            c.publish(topic, payload, qos=0)
        while len(c._out_packet) > 2000:  # do not let the client queue grow without bound
            time.sleep(0.001)
    time.sleep(1.0)  # let the view catch up
    got = w.count - n0
    c.loop_stop()
    c.disconnect()
    return got / (time.monotonic() - t0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--steady", type=float, default=60.0, help="seconds (one full health cycle by default)")
    ap.add_argument("--capacity", type=float, default=20.0)
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    n = args.count
    fd = raise_fd_limit()
    load0 = os.getloadavg()[0]
    out: dict = {"count": n, "fd_limit": fd, "load_start": round(load0, 2)}
    broker = start_broker()
    url = broker.url
    print(f"mosquitto at {url}; {n} kiosks; fd limit {fd}; load {load0:.2f}", flush=True)
    try:
        w = Watcher(broker.port)
        # 1. connect
        t0 = time.monotonic()
        fleet = simulate(url, n, "J", "--health-interval", "60")
        line = read_ready(fleet)
        out["connect_s"] = round(time.monotonic() - t0, 2)
        print(f"1. connect: {line.strip()} after {out['connect_s']} s", flush=True)
        wait_until(lambda: w.online("J") >= n, 30)
        time.sleep(5)  # past the first health burst that follows the connects
        # 2. steady
        r = rate(w, args.steady)
        out["steady_msgs_per_s"] = round(r, 1)
        print(f"2. steady (health every 60 s): status view {r:.1f} msg/s (health alone: {n / 60:.0f}; "
              f"the rest is the flapping 1 in 20)", flush=True)
        # 4. death
        kills = []
        for i in range(args.kills):
            one = simulate(url, 1, f"K{i}", "--ramp", "0")
            read_ready(one)
            dev = f"K{i}-00000"
            wait_until(lambda: w.online(f"K{i}") >= 1, 10)
            time.sleep(0.5)
            t_kill = time.monotonic()
            one.send_signal(signal.SIGKILL)
            one.wait()
            wait_until(lambda: dev in w.offline_at, 120, 0.01)
            if dev in w.offline_at:
                kills.append(w.offline_at[dev] - t_kill)
        out["kill9_to_offline_s"] = [round(k, 3) for k in kills]
        out["kill9_to_offline_median_s"] = round(statistics.median(kills), 3) if kills else None
        print(f"4. kill -9 -> offline in status: median {out['kill9_to_offline_median_s']} s over {kills}", flush=True)
        # 5a. broker restart with jitter
        took, seen, spread = restart_recovery(broker, url, n, "J", 600)
        out["restart_all_back_jitter_s"] = None if took is None else round(took, 2)
        out["restart_jitter_spread"] = spread
        print(f"5. broker restart, jitter: all {n} back after {took} s ({seen} seen); {spread}", flush=True)
        w.close()
        stop(fleet)
        time.sleep(2)
        # 5b. without jitter: a second fleet
        w = Watcher(broker.port)
        fleet = simulate(url, n, "N", "--health-interval", "60", "--no-jitter")
        read_ready(fleet)
        wait_until(lambda: w.online("N") >= n, 30)
        w.close()
        took, seen, spread = restart_recovery(broker, url, n, "N", 600)
        out["restart_all_back_nojitter_s"] = None if took is None else round(took, 2)
        out["restart_nojitter_spread"] = spread
        print(f"5. broker restart, no jitter: all {n} back after {took} s ({seen} seen); {spread}", flush=True)
        stop(fleet)
        time.sleep(2)
        # 3. capacity vs bare paho
        w = Watcher(broker.port)
        # 0.25 s is below the simulator's 1 s tick: every kiosk reports once per tick, N msg/s offered.
        fleet = simulate(url, n, "C", "--health-interval", "0.25")
        read_ready(fleet)
        wait_until(lambda: w.online("C") >= n, 30)
        time.sleep(3)
        cap = rate(w, args.capacity)
        out["capacity_fleet_msgs_per_s"] = round(cap, 1)
        print(f"3. capacity: {n} kiosks with health every ~1 s: status view {cap:.1f} msg/s "
              f"(offered {n}/s)", flush=True)
        stop(fleet)
        time.sleep(2)
        health = next((k.health for k in w.view.kiosks.values() if k.health), {})
        payload = json.dumps(health, ensure_ascii=False, separators=(",", ":"))
        base = bare_baseline(broker.port, w, payload, args.capacity)
        out["health_payload_bytes"] = len(payload.encode())
        out["baseline_bare_paho_msgs_per_s"] = round(base, 1)
        out["capacity_ratio"] = round(cap / base, 3) if base else None
        print(f"3. baseline: one bare paho client, QoS 0, {len(payload.encode())} B: status view {base:.1f} msg/s; "
              f"fleet/bare = x{out['capacity_ratio']}", flush=True)
        w.close()
    finally:
        broker.cleanup()
    out["load_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
