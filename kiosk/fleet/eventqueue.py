"""Durable outgoing queue for events and command acks (QoS 1, sent in order).

paho's own queue lives in memory and is lost with the process, so every
message that must arrive (faults, paper out, update results, acks) first goes
to a file: one file per message, ``<seq>.json``, written atomically (temp →
fsync → rename → fsync dir). A message leaves the queue only when the broker
has acknowledged it (PUBACK); after a crash or an outage the files are sent
again in sequence order, so the server sees events in order and may see one
twice (each carries a unique ``event_id`` for de-duplication).

The queue is bounded: beyond ``capacity`` messages the oldest are dropped and
counted (a kiosk offline for months must not fill its disk).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.core.storage import write_text_atomic

log = logging.getLogger("kiosk.fleet.queue")

DEFAULT_CAPACITY = 5000


@dataclass(frozen=True)
class Item:
    seq: int
    topic: str
    payload: str
    ts: float


class MemoryQueue:
    """Same interface, no files: the fleet simulator's thousands of kiosks."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self.dropped = 0
        self._items: dict[int, Item] = {}
        self._next = 1
        self._mutex = threading.Lock()

    def put(self, topic: str, payload: str) -> Item:
        with self._mutex:
            item = Item(self._next, topic, payload, time.time())
            self._next += 1
            self._store(item)
            self._items[item.seq] = item
            while len(self._items) > self.capacity:
                oldest = min(self._items)
                self._delete(oldest)
                del self._items[oldest]
                self.dropped += 1
                log.warning("fleet queue full (%d): dropped the oldest message", self.capacity)
            return item

    def peek(self, n: int, after: int = 0) -> list[Item]:
        with self._mutex:
            return [self._items[s] for s in sorted(self._items) if s > after][:n]

    def remove(self, seq: int) -> None:
        with self._mutex:
            if self._items.pop(seq, None) is not None:
                self._delete(seq)

    def depth(self) -> int:
        return len(self._items)

    def oldest_age(self, now: float | None = None) -> float:
        with self._mutex:
            if not self._items:
                return 0.0
            return max(0.0, (now or time.time()) - self._items[min(self._items)].ts)

    # file hooks (no-ops in memory)
    def _store(self, item: Item) -> None:
        pass

    def _delete(self, seq: int) -> None:
        pass


class FileQueue(MemoryQueue):
    def __init__(self, directory: str | os.PathLike, capacity: int = DEFAULT_CAPACITY) -> None:
        super().__init__(capacity)
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.dir.glob("*.json")):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
                item = Item(int(path.stem), doc["topic"], doc["payload"], float(doc["ts"]))
            except (ValueError, KeyError, TypeError, OSError) as exc:
                # Only a torn write can produce this (atomic rename makes it unlikely): keep it aside.
                log.error("fleet queue: unreadable %s kept aside (%s)", path.name, exc)
                os.replace(path, path.with_suffix(".bad"))
                continue
            self._items[item.seq] = item
        self._next = max(self._items, default=0) + 1
        if self._items:
            log.info("fleet queue: %d message(s) waiting from before", len(self._items))

    def _path(self, seq: int) -> Path:
        return self.dir / f"{seq:012d}.json"

    def _store(self, item: Item) -> None:
        write_text_atomic(
            self._path(item.seq),
            json.dumps({"topic": item.topic, "payload": item.payload, "ts": item.ts}, ensure_ascii=False),
        )

    def _delete(self, seq: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(seq))
