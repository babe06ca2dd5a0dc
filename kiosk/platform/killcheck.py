"""Power-cut check for the outbox: kill a submitting process with SIGKILL at random points.

Each run forks a child that opens the outbox and enqueues submissions in a
loop while its sender thread delivers them; after every ``enqueue`` returns
(the moment the screen would say 已提交) the child reports the record's
idempotency key through a pipe. The parent kills the child with SIGKILL after a
random delay: mid-fsync, mid-rename, mid-HTTP, mid-acknowledgement. After all
runs, a fresh outbox on the same file drains what is left, and the platform's
stored submissions are compared with the acknowledged keys:

* every acknowledged submission reached the platform (delivered),
* none reached it twice (duplicates), nor did anything unknown arrive.

Used by tests/test_platform_kill9.py (50 runs) and bench/platform_outbox.py.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.platform.http_client import HttpPlatform
from kiosk.platform.outbox import Outbox


@dataclass
class KillReport:
    runs: int
    acknowledged: int
    delivered: int  # acknowledged submissions found on the platform
    duplicates: int  # keys stored more than once
    lost: int  # acknowledged but never stored
    unknown: int  # stored but neither acknowledged nor in the outbox
    stored: int  # all submissions the platform stored (incl. unacknowledged ones written before the kill)


def _child(write_fd: int, path: Path, make_platform: Callable[[], HttpPlatform], id_numbers: list[str]) -> None:
    try:
        platform = make_platform()
        box = Outbox(path, platform, backoff_base=0.02, backoff_cap=0.2)
        rng = random.Random(os.getpid())
        while True:
            ref = box.enqueue(1, rng.choice(id_numbers), {"desired_job": "普工", "n": rng.randint(0, 10**6)})
            os.write(write_fd, (ref.idempotency_key + "\n").encode())
    finally:
        os._exit(0)


def run(
    path: Path,
    make_platform: Callable[[], HttpPlatform],
    id_numbers: list[str],
    stored_keys: Callable[[], list[str]],
    runs: int = 50,
    min_delay: float = 0.01,
    max_delay: float = 0.15,
    seed: int = 1,
    drain_timeout: float = 60.0,
) -> KillReport:
    rng = random.Random(seed)
    acked: list[str] = []
    for _ in range(runs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(r)
            _child(w, path, make_platform, id_numbers)
        os.close(w)
        time.sleep(rng.uniform(min_delay, max_delay))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        data = b""
        while chunk := os.read(r, 65536):
            data += chunk
        os.close(r)
        # Only whole lines count: a key half-written when the kill came was never shown.
        acked += [line for line in data.decode().split("\n")[:-1] if line]
    platform = make_platform()
    box = Outbox(path, platform, backoff_base=0.02, backoff_cap=0.2)
    try:
        box.kick()
        if not box.drain(drain_timeout):
            raise RuntimeError(f"outbox did not drain within {drain_timeout}s: {box.status().pending} pending")
        outbox_keys = {rec["key"] for rec in box._table.all()}
    finally:
        box.close()
        platform.close()
    counts = Counter(stored_keys())
    ack = set(acked)
    return KillReport(
        runs=runs,
        acknowledged=len(ack),
        delivered=sum(1 for k in ack if counts[k] >= 1),
        duplicates=sum(1 for c in counts.values() if c > 1),
        lost=sum(1 for k in ack if counts[k] == 0),
        unknown=sum(1 for k in counts if k not in ack and k not in outbox_keys),
        stored=sum(counts.values()),
    )
