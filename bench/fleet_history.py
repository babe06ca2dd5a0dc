#!/usr/bin/env python3
"""The fleet console's persisted history (kiosk.fleet.history) at fleet scale, on a real file.

Feeds ``--kiosks`` kiosks × ``--minutes`` minutes of health (one sample per
kiosk per ``--every`` seconds, as MQTT would deliver them) through
``HistoryStore.add`` with a flush every 2 s of simulated time, as the
console's writer loop does. Prints, with the in-memory deque the console used
before as the baseline in the same run:

* cost of ``add`` on the MQTT thread (µs per sample) and of each flush (ms);
* rows and file size after the run, bytes per row;
* time to serve one kiosk's 24-h chart (``samples``), from a reopened file.

    python bench/fleet_history.py [--kiosks 5000] [--minutes 30] [--every 60]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.fleet.history import HistoryStore  # noqa: E402


def samples(kiosks: int, minutes: int, every: int, t0: float):
    """(device, sample) in arrival order: each kiosk reports every ``every`` s, offset by its index."""
    for t in range(0, minutes * 60, 1):
        for k in range(t % every, kiosks, every):
            yield f"K-{k:05d}", {"ts": int((t0 + t) * 1000), "online": True, "outbox": k % 7, "paper": "ok",
                                 "disk_free_mb": 900}, t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kiosks", type=int, default=5000)
    ap.add_argument("--minutes", type=int, default=30)
    ap.add_argument("--every", type=int, default=60, help="health interval, seconds")
    a = ap.parse_args()
    t0 = time.time() - a.minutes * 60
    data = list(samples(a.kiosks, a.minutes, a.every, t0))

    # Baseline: the in-memory deques the console kept before (no persistence).
    mem: dict[str, collections.deque] = collections.defaultdict(collections.deque)
    start = time.perf_counter()
    for dev, s, _t in data:
        mem[dev].append(s)
    base_us = (time.perf_counter() - start) / len(data) * 1e6

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "history.sqlite3"
        store = HistoryStore(path)
        add_s, flushes, last_flush = 0.0, [], 0
        for dev, s, t in data:
            c = time.perf_counter()
            store.add(dev, s)
            add_s += time.perf_counter() - c
            if t - last_flush >= 2:
                last_flush = t
                c = time.perf_counter()
                store.flush(now=t0 + t)
                flushes.append(time.perf_counter() - c)
        store.close()
        size = sum(p.stat().st_size for p in Path(d).iterdir())
        store = HistoryStore(path)
        rows = store._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        c = time.perf_counter()
        for k in range(0, a.kiosks, max(1, a.kiosks // 100)):
            store.samples(f"K-{k:05d}", now=t0 + a.minutes * 60)
        chart_ms = (time.perf_counter() - c) / len(range(0, a.kiosks, max(1, a.kiosks // 100))) * 1e3
        store.close()

    add_us = add_s / len(data) * 1e6
    print(f"{a.kiosks} kiosks, {a.minutes} min of health every {a.every} s: {len(data)} samples")
    print(f"add on the MQTT thread:   {add_us:.2f} µs/sample  (baseline deque.append {base_us:.2f} µs; "
          f"ratio {add_us / base_us:.1f}x)")
    print(f"flush every 2 s:          median {statistics.median(flushes) * 1e3:.1f} ms, "
          f"max {max(flushes) * 1e3:.1f} ms ({len(flushes)} flushes)")
    print(f"file:                     {rows} rows, {size / 2**20:.1f} MiB, {size / max(rows, 1):.0f} B/row; "
          f"24 h x {a.kiosks} kiosks at 1/min ≈ {size / max(rows, 1) * a.kiosks * 1440 / 2**30:.2f} GiB")
    print(f"one kiosk's chart:        {chart_ms:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
