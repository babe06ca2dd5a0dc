"""Audit log append cost: JSON lines (kiosk.audit) vs a TinyDB table.

Baseline measured in the same run: TinyDB's default JSONStorage, which
rewrites the whole file on every insert. Prints per-event times after N
events and the ratio. Run: /work/venv/bin/python bench/audit_append.py [N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

from tinydb import TinyDB

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kiosk.audit import AuditLog  # noqa: E402


def bench_audit(path: str, n: int, fsync: bool) -> float:
    log = AuditLog(path, fsync=fsync)
    t = time.perf_counter()
    for i in range(n):
        log.append("staff.login", outcome="denied", actor="staff:T0012 王**", attempt=i)
    dt = time.perf_counter() - t
    log.close()
    return dt / n


def bench_tinydb(path: str, n: int, fsync: bool) -> float:
    db = TinyDB(path, encoding="utf-8")
    table = db.table("audit")
    t = time.perf_counter()
    for i in range(n):
        table.insert({"action": "staff.login", "outcome": "denied", "actor": "staff:T0012 王**", "attempt": i})
        if fsync:
            db.storage._handle.flush()
            os.fsync(db.storage._handle.fileno())
    dt = time.perf_counter() - t
    db.close()
    return dt / n


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as d:
        for fsync in (False, True):
            base = bench_tinydb(os.path.join(d, f"t{fsync}.json"), n, fsync)
            ours = bench_audit(os.path.join(d, f"a{fsync}.jsonl"), n, fsync)
            print(f"fsync={fsync!s:5} n={n}: tinydb {base * 1e3:8.3f} ms/event  "
                  f"audit jsonl {ours * 1e3:8.3f} ms/event  ratio tinydb/jsonl {base / ours:6.1f}x")


if __name__ == "__main__":
    main()
