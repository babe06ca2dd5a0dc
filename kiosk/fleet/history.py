"""The fleet console's 24-hour health history, kept in SQLite so a console restart keeps the charts.

Compact: one row per kiosk per minute (``PRIMARY KEY (device_id, slot)``,
a slot being ``bucket`` seconds, 60 by default), rows older than 24 h
deleted. 5,000 kiosks reporting every minute make
7.2 M rows at most (≈ 0.4 GB); a county console holds a few hundred kiosks.
Samples arrive on the MQTT network thread and only go into a small
in-memory batch there; a supervised loop (kiosk.core.supervised) writes the
batch every few seconds in one transaction, so neither the broker
subscription nor a page request waits on the disk. Within a minute the
last sample wins, except ``online``, which keeps the worst (an offline
blip of a few seconds still shows on the chart).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from kiosk.core.supervised import start_loop

log = logging.getLogger("kiosk.fleet.history")

DAY = 24 * 3600
FIELDS = ("ts", "online", "outbox", "paper", "disk_free_mb")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    device_id TEXT NOT NULL, slot INTEGER NOT NULL, ts INTEGER NOT NULL, online INTEGER NOT NULL,
    outbox INTEGER, paper TEXT, disk_free_mb INTEGER, PRIMARY KEY (device_id, slot)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_ts ON samples (ts);
"""
_UPSERT = """
INSERT INTO samples (device_id, slot, ts, online, outbox, paper, disk_free_mb) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (device_id, slot) DO UPDATE SET ts = excluded.ts, online = MIN(online, excluded.online),
    outbox = excluded.outbox, paper = excluded.paper, disk_free_mb = excluded.disk_free_mb
"""


class HistoryStore:
    """``add`` from any thread (cheap); ``samples`` for the chart; ``start`` the writer loop."""

    def __init__(self, path: Path | None, flush_every: float = 2.0, bucket: int = 60) -> None:
        self.path, self.bucket_ms = path, bucket * 1000
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path) if path is not None else ":memory:", check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a crash may lose the last batch, never the file
        self._db.executescript(_SCHEMA)
        self._db_lock = threading.Lock()
        self._pending: dict[tuple[str, int], tuple[Any, ...]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._trimmed = 0.0
        self.flush_every = flush_every
        self._thread: threading.Thread | None = None

    def add(self, device_id: str, sample: dict[str, Any]) -> None:
        ts = int(sample["ts"])
        row = (
            device_id,
            ts // self.bucket_ms,
            ts,
            1 if sample.get("online") else 0,
            sample.get("outbox"),
            sample.get("paper"),
            sample.get("disk_free_mb"),
        )
        key = (device_id, row[1])
        with self._lock:
            old = self._pending.get(key)
            if old is not None and not old[3]:
                row = (*row[:3], 0, *row[4:])  # the worst of the minute, as the upsert does
            self._pending[key] = row

    def flush(self, now: float | None = None) -> int:
        """Write the batch (one transaction) and trim rows older than 24 h; rows written."""
        with self._lock:
            batch, self._pending = list(self._pending.values()), {}
        now = now or time.time()
        with self._db_lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(_UPSERT, batch)
                if now - self._trimmed >= 60:
                    self._db.execute("DELETE FROM samples WHERE ts < ?", (int((now - DAY) * 1000),))
                    self._trimmed = now
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                with self._lock:  # nothing lost: put the batch back under newer samples
                    for row in batch:
                        self._pending.setdefault((row[0], row[1]), row)
                raise
        return len(batch)

    def samples(self, device_id: str, now: float | None = None) -> list[dict[str, Any]]:
        """The kiosk's samples of the last 24 h, oldest first (what is still in the batch included)."""
        since = int(((now or time.time()) - DAY) * 1000)
        with self._db_lock:
            rows = self._db.execute(
                "SELECT slot, ts, online, outbox, paper, disk_free_mb FROM samples "
                "WHERE device_id = ? AND ts >= ? ORDER BY slot",
                (device_id, since),
            ).fetchall()
        by_slot = {r[0]: r[1:] for r in rows}
        with self._lock:
            for (dev, slot), row in self._pending.items():
                if dev == device_id and row[2] >= since:
                    older = by_slot.get(slot)
                    online = row[3] if older is None else min(row[3], older[1])
                    by_slot[slot] = (row[2], online, *row[4:])
        return [
            {"ts": r[0], "online": bool(r[1]), "outbox": r[2], "paper": r[3], "disk_free_mb": r[4]}
            for _m, r in sorted(by_slot.items())
        ]

    def start(self) -> HistoryStore:
        self._thread = start_loop("fleet-history", lambda: (self.flush(), self.flush_every)[1], self._stop, logger=log)
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            self.flush()
        except sqlite3.Error as exc:
            log.error("fleet history: last batch not written: %s", exc)
        with self._db_lock:
            self._db.close()
