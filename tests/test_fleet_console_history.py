"""The console's 24-h health history survives a restart of the console process (real Mosquitto,
real simulator and console processes, the real SQLite file); compaction and trimming on a real file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kiosk.fleet.broker import start_broker
from kiosk.fleet.history import DAY, HistoryStore

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
DEV = "HIS-00001"


def test_one_row_per_kiosk_per_minute_offline_blips_kept_and_trimmed_to_24h(tmp_path):
    path = tmp_path / "h" / "history.sqlite3"
    store = HistoryStore(path)
    t0 = 1_800_000_000.0 - 1_800_000_000.0 % 60  # a minute boundary
    for i in range(90):  # 3 minutes of health every 2 s, two kiosks
        for dev in ("A", "B"):
            online = not (dev == "B" and i == 40)  # B's Will arrives once in the second minute
            store.add(dev, {"ts": int((t0 + 2 * i) * 1000), "online": online, "outbox": i, "paper": "ok",
                            "disk_free_mb": 900})
        if i % 25 == 0:
            store.flush(now=t0 + 2 * i)
    store.flush(now=t0 + 180)
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT device_id, COUNT(*) FROM samples GROUP BY device_id").fetchall() == [("A", 3), ("B", 3)]
    db.close()
    store = HistoryStore(path)  # reopened: what the chart gets
    b = store.samples("B", now=t0 + 180)
    assert [s["online"] for s in b] == [True, False, True]  # the blip in minute 2 is not overwritten
    assert [s["outbox"] for s in b] == [29, 59, 89]  # otherwise the minute's last sample
    # A day later the old rows go at the next flush.
    store.add("A", {"ts": int((t0 + DAY + 300) * 1000), "online": True})
    store.flush(now=t0 + DAY + 300)
    assert len(store.samples("A", now=t0 + DAY + 300)) == 1 and store.samples("B", now=t0 + DAY + 300) == []
    store.close()


def get(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def start_console(broker_url: str, state: Path) -> tuple[subprocess.Popen, str]:
    p = subprocess.Popen([sys.executable, "-m", "kiosk", "fleet", "console", "--broker", broker_url, "--port", "0",
                          "--key", str(state / "no.key"), "--state-dir", str(state), "--history-bucket", "1"],
                         cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("fleet console at "), p.stderr.read() if p.poll() is not None else line
    return p, line.split()[3]


def persisted(path: Path) -> set[int]:
    db = sqlite3.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT ts FROM samples WHERE device_id = ?", (DEV,))}
    except sqlite3.OperationalError:
        return set()
    finally:
        db.close()


@pytest.mark.slow
def test_a_restarted_console_still_has_the_history(tmp_path):
    broker = start_broker(workdir=tmp_path / "mosquitto")
    state = tmp_path / "console"
    sim = subprocess.Popen([sys.executable, "-m", "kiosk", "fleet", "simulate", "--broker", broker.url, "--count",
                            "3", "--prefix", "HIS", "--ramp", "0", "--health-interval", "1"],
                           cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs = [sim]
    try:
        assert sim.stdout.readline().startswith("READY 3")
        console, url = start_console(broker.url, state)
        procs.append(console)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(persisted(state / "history.sqlite3")) < 4:
            time.sleep(0.3)
        before = persisted(state / "history.sqlite3")
        assert len(before) >= 4, "the console wrote no history to its file"
        # kill -9: what was written stays; the batch in memory (≤ 2 s) may be lost.
        console.send_signal(signal.SIGKILL)
        console.wait(10)
        sim.terminate()  # the kiosks go quiet (offline) while the console is down
        sim.wait(10)
        console, url = start_console(broker.url, state)
        procs.append(console)
        after = {s["ts"] for s in get(f"{url}/api/history?device={DEV}")}
        assert before <= after  # every sample from before the restart is on the chart again
        deadline = time.monotonic() + 10  # and the chart goes on: the retained offline state is a new point
        while time.monotonic() < deadline and get(f"{url}/api/history?device={DEV}")[-1]["online"]:
            time.sleep(0.2)
        assert get(f"{url}/api/history?device={DEV}")[-1]["online"] is False
        # A clean stop (SIGTERM, as systemd does) writes the last batch too.
        time.sleep(1.5)
        shown = {s["ts"] for s in get(f"{url}/api/history?device={DEV}")}
        console.send_signal(signal.SIGTERM)
        assert console.wait(10) == 0
        assert shown <= persisted(state / "history.sqlite3")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        broker.cleanup()
