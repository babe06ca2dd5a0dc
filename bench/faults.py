#!/usr/bin/env python3
"""Fault-injection trials (issue 12): does the kiosk keep working, and is any submission lost?

Real parts only: a small tmpfs that really runs full, the same tmpfs remounted
with the outbox's directory made immutable (every create/rename fails with
EPERM: the kernel refusing writes, as it does with EIO on a dying card), real files damaged on disk, the platform simulator over loopback HTTP
with its own fault injection, and kill -9 (kiosk.platform.killcheck).

Per category it prints: trials, survived (kiosk code raised nothing it should
not have and kept working: the store opened and took a new record, or the
outbox sender delivered everything without a restart), acknowledged
(submissions the screen would have shown as 已提交), delivered (acknowledged and
stored by the platform; for damaged stores: acknowledged records still in the
store), reported (records a damaged store could not keep and said so: alert +
audit), duplicates (an idempotency key stored twice), lost (acknowledged and
neither delivered/kept nor reported).

    python bench/faults.py [--trials 10] [--store-trials 40] [--kill-runs 50] [--seed 1] [--json out.json]

Needs root (CAP_SYS_ADMIN) for the tmpfs categories; without it they are
skipped and say so.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from kiosk.audit import AuditLog  # noqa: E402
from kiosk.core import config  # noqa: E402
from kiosk.core.errors import KioskError  # noqa: E402
from kiosk.flows.fault_report import FaultLedger  # noqa: E402
from kiosk.flows.staff_auth import ThrottleBook  # noqa: E402
from kiosk.flows.tech_mode import TechMode  # noqa: E402
from kiosk.platform import killcheck  # noqa: E402
from kiosk.platform.http_client import HttpPlatform  # noqa: E402
from kiosk.platform.outbox import Outbox  # noqa: E402
from kiosk.platform.simulator.launcher import start_simulator  # noqa: E402

SECRET, DEVICE, TODAY = "bench-secret", "SX-BENCH-1", "2026-06-15"
log = logging.getLogger("bench")
FIELDS = {"desired_job": "普工"}


@dataclass
class Row:
    category: str
    trials: int = 0
    survived: int = 0
    acknowledged: int = 0
    delivered: int = 0
    reported: int = 0
    duplicates: int = 0
    lost: int = 0
    note: str = ""


class Sim:
    def __init__(self) -> None:
        self.handle = start_simulator("127.0.0.1", 0, 42, device_secret=SECRET, extra_args=["--today", TODAY])
        self.url = self.handle.url
        # Admin routes may need the launcher's bearer token (issue 12, fault 3).
        self.headers: dict[str, str] = dict(getattr(self.handle, "admin_headers", None) or {})
        r = httpx.get(self.url + "/admin/residents/sample", params={"n": 40, "qualifies": 1}, headers=self.headers,
                      timeout=30)
        self.ids = [p["id_number"] for p in r.json()["residents"]]

    def client(self, read_timeout: float = 1.0) -> HttpPlatform:
        return HttpPlatform(self.url, DEVICE, SECRET, 1.0, read_timeout, max_attempts=1)

    def admin(self, path: str, body: dict) -> None:
        httpx.post(self.url + path, json=body, headers=self.headers, timeout=30).raise_for_status()

    def stored(self) -> Counter:
        subs = httpx.get(self.url + "/admin/submissions", headers=self.headers, timeout=30).json()["submissions"]
        return Counter(s["idempotency_key"] for s in subs)

    def stop(self) -> None:
        self.handle.stop()


def score(row: Row, sim: Sim, acked: list[str], refused: set[str]) -> None:
    """Delivered / duplicates / lost for the keys acknowledged in this category.

    A submission the platform refused (e.g. the resident no longer qualifies
    after a clock jump) is not lost: the outbox holds the refusal and its
    Chinese reason for the resident's receipt/status ("reported")."""
    counts = sim.stored()
    row.acknowledged = len(acked)
    row.delivered = sum(1 for k in acked if counts[k] >= 1)
    row.reported = sum(1 for k in acked if counts[k] == 0 and k in refused)
    row.duplicates = sum(1 for k in acked if counts[k] > 1)
    row.lost = sum(1 for k in acked if counts[k] == 0 and k not in refused)


def _refused(box: Outbox, refs: dict[str, str]) -> set[str]:
    return {key for ref, key in refs.items() if (o := box.get(ref)) is not None and o.state == "refused"}


def _sender_alive(box: Outbox) -> bool:
    t = box._thread  # noqa: SLF001 - the bench checks the thread really survived
    return t is not None and t.is_alive()


# ---------------------------------------------------------------- full disk / failing writes
class SmallDisk:
    """A 256 KiB tmpfs (needs CAP_SYS_ADMIN)."""

    def __init__(self, root: Path) -> None:
        self.path = root / "disk"
        self.path.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(self.path)],
                              capture_output=True, text=True)
        self.error = done.stderr.strip() if done.returncode else ""

    def fill(self) -> Path:
        path = self.path / "filler"
        with open(path, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
        return path

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


def _write_failure_trials(row: Row, sim: Sim, disk: SmallDisk, trials: int, rng: random.Random,
                          break_disk: Callable[[Path], Callable[[], None]]) -> None:
    acked: list[str] = []
    refused: set[str] = set()
    for i in range(trials):
        d = disk.path / f"t{i}"
        refs: dict[str, str] = {}
        platform = sim.client()
        box = Outbox(d / "outbox.json", platform, autostart=False, backoff_base=0.05, backoff_cap=0.3)
        ok = True
        try:
            for _ in range(2):
                lr = box.enqueue(1, rng.choice(sim.ids), FIELDS)
                refs[lr.ref] = lr.idempotency_key
            repair = break_disk(d)
            try:  # the disk refuses: the screen must get an error, never a false 已提交
                lr = box.enqueue(1, rng.choice(sim.ids), FIELDS)
                refs[lr.ref] = lr.idempotency_key
            except (OSError, KioskError):
                pass
            box.start()
            box.kick()  # what the heartbeat does: must not raise
            time.sleep(rng.uniform(0.2, 1.0))
            repair()
            ok = box.drain(20) and _sender_alive(box)
            refused |= _refused(box, refs)
        except Exception as exc:  # noqa: BLE001 - the figure: anything escaping is a failed trial
            log.error("trial %d: %s: %s", i, type(exc).__name__, exc)
            ok = False
        finally:
            acked += refs.values()
            box.close()
            platform.close()
            shutil.rmtree(d, ignore_errors=True)
        row.trials += 1
        row.survived += ok
    score(row, sim, acked, refused)


def disk_full(sim: Sim, disk: SmallDisk, trials: int, rng: random.Random) -> Row:
    row = Row("disk full (256 KiB tmpfs)")

    def break_disk(_d: Path):
        filler = disk.fill()
        return lambda: filler.unlink()
    _write_failure_trials(row, sim, disk, trials, rng, break_disk)
    return row


def write_fails(sim: Sim, disk: SmallDisk, trials: int, rng: random.Random) -> Row:
    row = Row("writes fail (EPERM, chattr +i)")

    def break_disk(d: Path):
        # A remount read-only is refused while the store holds its lock file open
        # for writing, and device-mapper's error target is not available here; an
        # immutable directory makes the kernel refuse every create/rename in it.
        subprocess.run(["chattr", "+i", str(d)], check=True)
        return lambda: subprocess.run(["chattr", "-i", str(d)], check=True)
    _write_failure_trials(row, sim, disk, trials, rng, break_disk)
    return row


# ---------------------------------------------------------------- damaged files, every store
WRONG_SHAPES = [b"[1]", b'{"outbox":[1]}', b'{"faults":[1]}', b'"s"', b"null", b"{}", b'{"_default": 3}',
                b'{"outbox": {"1": {"ref": 1}}}', b'{"failures": "x"}', b"[ui\n", b"ui = 3\n",
                b'{"seq": "x", "hash": 7}\n[1,2]\n']


def damage(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    kind = rng.choice(["truncated", "bit flips", "wrong shape", "random bytes", "empty", "zero block"])
    if kind == "truncated":
        return kind, data[:rng.randrange(len(data) + 1)]
    if kind == "bit flips":
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            if b:
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return kind, bytes(b)
    if kind == "wrong shape":
        return kind, rng.choice(WRONG_SHAPES)
    if kind == "random bytes":
        return kind, rng.randbytes(rng.randint(1, 400))
    if kind == "empty":
        return kind, b""
    at = rng.randrange(len(data) + 1)  # a power cut can leave a block of zeros
    return kind, data[:at] + b"\0" * rng.randint(1, 512) + data[at + 1:]


def _offline() -> HttpPlatform:
    return HttpPlatform("http://127.0.0.1:9", DEVICE, SECRET, 0.2, 0.2, max_attempts=1)


def store_trials(name: str, trials: int, rng: random.Random, root: Path,
                 fill: Callable[[Path], list[str]], reopen: Callable[[Path, list[str]], tuple[int, int]]) -> Row:
    """fill(dir) writes a store and returns its acknowledged ids; reopen(dir, ids) -> (kept, reported)."""
    row = Row(f"damaged {name}")
    kinds: Counter = Counter()
    silent: Counter = Counter()
    for i in range(trials):
        d = root / f"{name}-{i}"
        d.mkdir()
        ids = fill(d)
        target = max((p for p in d.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
        if name == "outbox":
            target = d / "outbox.json"
        kind, data = damage(target.read_bytes(), rng)
        kinds[kind] += 1
        target.write_bytes(data)
        row.trials += 1
        row.acknowledged += len(ids)
        try:
            kept, reported = reopen(d, ids)
        except Exception as exc:  # noqa: BLE001 - the figure: anything escaping is a failed trial
            log.error("%s trial %d (%s): %s: %s", name, i, kind, type(exc).__name__, exc)
            row.lost += len(ids)
            continue
        row.survived += 1
        row.delivered += kept
        row.reported += reported
        row.lost += max(0, len(ids) - kept - reported)
        if len(ids) - kept - reported > 0:
            silent[kind] += len(ids) - kept - reported
    row.note = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    if silent:
        row.note += "; lost in: " + ", ".join(f"{k} {n}" for k, n in sorted(silent.items()))
    return row


def _outbox_fill(d: Path) -> list[str]:
    p = _offline()
    box = Outbox(d / "outbox.json", p, autostart=False)
    refs = [box.enqueue(1, i, FIELDS).ref for i in IDS[:3]]
    box.close()
    p.close()
    return refs


def _outbox_reopen(d: Path, refs: list[str]) -> tuple[int, int]:
    p = _offline()
    box = Outbox(d / "outbox.json", p, autostart=False)
    try:
        kept = sum(1 for r in refs if box.get(r) is not None)
        box.enqueue(1, IDS[3], FIELDS)  # and it still takes a new submission
        box.status()
        return kept, box.recovery.lost if box.recovery else 0
    finally:
        box.close()
        p.close()


def _ledger_fill(d: Path) -> list[str]:
    led = FaultLedger(d / "faults.json", None, device_id=DEVICE, site="s", fsync=False)
    ids = [led.create("system", ["屏幕没反应"], f"第{i}台").local_id for i in range(3)]
    led.close()
    return ids


def _ledger_reopen(d: Path, ids: list[str]) -> tuple[int, int]:
    led = FaultLedger(d / "faults.json", None, device_id=DEVICE, site="s", fsync=False)
    try:
        kept = sum(1 for i in ids if led.get(i) is not None)
        led.create("system", ["打印机卡纸"])
        led.records()
        return kept, led.recovery.lost if led.recovery else 0
    finally:
        led.close()


def _audit_fill(d: Path) -> list[str]:
    with AuditLog(d / "audit.jsonl") as log:
        return [str(log.append("bench.event", n=i).seq) for i in range(3)]


def _audit_reopen(d: Path, seqs: list[str]) -> tuple[int, int]:
    with AuditLog(d / "audit.jsonl") as log:
        log.append("bench.after")
        events = log.events()
        kept = sum(1 for s in seqs if any(str(e.seq) == s and e.action == "bench.event" for e in events))
        # Events the log lost count as reported when verify() (the technician's
        # check) finds the damage; a clean cut at a line end is not detectable.
        return kept, (len(seqs) - kept) if log.verify() else 0


def _settings_fill(d: Path) -> list[str]:
    (d / "settings.toml").write_text("[ui]\nidle_timeout = 90\nvolume = 0.3\n", encoding="utf-8")
    return []


def _settings_reopen(d: Path, _ids: list[str]) -> tuple[int, int]:
    cfg = config.load(None, env={"KIOSK__STORAGE__DIR": str(d)})
    assert 0 < cfg["ui"]["idle_timeout"]
    return 0, 0


def _throttle_fill(d: Path) -> list[str]:
    book = ThrottleBook()
    for account in ("1001", "1002", ""):
        for _ in range(3):
            book.for_account(account).record_failure()
    (d / "login_throttle.json").write_text(json.dumps(book.to_dict()), encoding="utf-8")
    return []


def _throttle_reopen(d: Path, _ids: list[str]) -> tuple[int, int]:
    cfg = config.load(None, env={"KIOSK__STORAGE__DIR": str(d)})
    p = _offline()
    try:
        mode = TechMode(cfg, platform=p)
        mode.throttle_for("1001").remaining_attempts()
        mode.throttle.check()
    except KioskError:
        pass  # a lock-out is an answer, not a crash
    finally:
        p.close()
    return 0, 0


IDS: list[str] = []


# ---------------------------------------------------------------- platform faults
PLATFORM_FAULTS: dict[str, Callable[[random.Random], dict]] = {
    "platform outage": lambda rng: {"outage": True},
    "platform 500/502/503": lambda rng: {"error_rate": 1.0},
    "platform slow (> read timeout)": lambda rng: {"latency_ms": 1500},
    "answers dropped mid-way": lambda rng: {"drop_rate": 0.6},
}
CLEAR = {"outage": False, "error_rate": 0.0, "latency_ms": 0, "drop_rate": 0.0}


def platform_trials(sim: Sim, name: str, trials: int, rng: random.Random, root: Path,
                    inject: Callable[[random.Random], None], clear: Callable[[], None]) -> Row:
    row = Row(name)
    acked: list[str] = []
    refused: set[str] = set()
    for i in range(trials):
        d = root / f"{name.split()[1]}-{i}"
        refs: dict[str, str] = {}
        platform = sim.client()
        box = Outbox(d / "outbox.json", platform, autostart=False, backoff_base=0.05, backoff_cap=0.3)
        ok = False
        try:
            inject(rng)
            for _ in range(3):
                lr = box.enqueue(1, rng.choice(sim.ids), FIELDS)
                refs[lr.ref] = lr.idempotency_key
            box.start()
            box.kick()
            time.sleep(rng.uniform(0.3, 1.2))
            clear()
            ok = box.drain(30) and _sender_alive(box)
            refused |= _refused(box, refs)
        except Exception as exc:  # noqa: BLE001
            log.error("%s trial %d: %s: %s", name, i, type(exc).__name__, exc)
        finally:
            acked += refs.values()
            clear()
            box.close()
            platform.close()
        row.trials += 1
        row.survived += ok
    score(row, sim, acked, refused)
    return row


def kill9(sim: Sim, runs: int, root: Path, seed: int) -> Row:
    row = Row("kill -9 while submitting")
    try:
        before = sim.stored()  # keys from the other categories are not "unknown" here
        rep = killcheck.run(root / "kill9.json", lambda: sim.client(3.0), sim.ids,
                            lambda: list((sim.stored() - before).elements()), runs=runs, seed=seed)
    except Exception as exc:  # noqa: BLE001
        row.trials, row.note = runs, f"did not drain: {exc}"
        return row
    row.trials = row.survived = rep.runs
    row.acknowledged, row.delivered, row.duplicates, row.lost = rep.acknowledged, rep.delivered, rep.duplicates, rep.lost
    row.note = f"{rep.unknown} unknown keys on the platform"
    return row


# ---------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=10, help="trials per disk and platform category")
    ap.add_argument("--store-trials", type=int, default=40, help="damaged-file trials per store")
    ap.add_argument("--kill-runs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    # The kiosk's own logs would drown the table; the bench says why a trial failed.
    logging.basicConfig(level=logging.CRITICAL, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.ERROR)
    rng = random.Random(args.seed)
    rows: list[Row] = []
    started = time.monotonic()
    sim = Sim()
    IDS[:] = sim.ids
    root = Path(tempfile.mkdtemp(prefix="kiosk-faults-"))
    try:
        disk = SmallDisk(root)
        if disk.error:
            rows += [Row("disk full (256 KiB tmpfs)", note=f"skipped: {disk.error}"),
                     Row("writes fail (EPERM, chattr +i)", note=f"skipped: {disk.error}")]
        else:
            try:
                rows.append(disk_full(sim, disk, args.trials, rng))
                rows.append(write_fails(sim, disk, args.trials, rng))
            finally:
                disk.close()
        for name, fill, reopen in [("outbox", _outbox_fill, _outbox_reopen), ("fault ledger", _ledger_fill, _ledger_reopen),
                                   ("audit log", _audit_fill, _audit_reopen), ("settings", _settings_fill, _settings_reopen),
                                   ("login throttle", _throttle_fill, _throttle_reopen)]:
            rows.append(store_trials(name, args.store_trials, rng, root, fill, reopen))
        for name, fault in PLATFORM_FAULTS.items():
            rows.append(platform_trials(sim, name, args.trials, rng, root,
                                        lambda r, f=fault: sim.admin("/admin/fault-injection", f(r)),
                                        lambda: sim.admin("/admin/fault-injection", CLEAR)))
        rows.append(platform_trials(
            sim, "platform clock jump", args.trials, rng, root,
            lambda r: sim.admin("/admin/clock", {"offset_days": r.choice([-400, -1, 1, 7, 400])}),
            lambda: sim.admin("/admin/clock", {"offset_days": 0})))
        rows.append(kill9(sim, args.kill_runs, root, args.seed))
    finally:
        sim.stop()
        shutil.rmtree(root, ignore_errors=True)
    head = f"{'category':34} {'trials':>6} {'survived':>8} {'ack':>5} {'deliv/kept':>10} {'reported':>8} {'dup':>4} {'lost':>4}  note"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r.category:34} {r.trials:6} {r.survived:8} {r.acknowledged:5} {r.delivered:10} {r.reported:8} "
              f"{r.duplicates:4} {r.lost:4}  {r.note}")
    total = Row("total", *(sum(getattr(r, f) for r in rows) for f in
                           ("trials", "survived", "acknowledged", "delivered", "reported", "duplicates", "lost")))
    print("-" * len(head))
    print(f"{total.category:34} {total.trials:6} {total.survived:8} {total.acknowledged:5} {total.delivered:10} "
          f"{total.reported:8} {total.duplicates:4} {total.lost:4}  ({time.monotonic() - started:.0f} s, seed {args.seed})")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows + [total]], ensure_ascii=False, indent=1))
    return 0 if total.lost == 0 and total.duplicates == 0 and total.survived == total.trials else 1


if __name__ == "__main__":
    sys.exit(main())
