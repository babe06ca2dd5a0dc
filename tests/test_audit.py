"""Append-only audit log: durable lines, hash chain, torn tails, privacy."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os

import pytest

from kiosk.audit import AuditError, AuditLog
from kiosk.core.idnumber import make_id

ID = make_id("140123", dt.date(1985, 4, 2), 37)


def test_append_and_read_back(tmp_path):
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, clock=lambda: 1_800_000_000.0) as log:
        a = log.append("staff.login", outcome="denied", actor="staff:T0012 王**", method="qr",
                       reason="bad_credentials")
        b = log.append("settings.change", actor="staff:T0012 王**", key="ui.idle_timeout", old=60, new=90)
    assert (a.seq, b.seq) == (1, 2) and b.prev == a.hash
    assert a.at == "2027-01-15T08:00:00+00:00"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[1])["detail"] == {"key": "ui.idle_timeout", "old": 60, "new": 90}
    reopened = AuditLog(path)
    assert [e.action for e in reopened.tail(1)] == ["settings.change"]
    c = reopened.append("app.restart", actor="staff:T0012 王**")
    assert c.seq == 3 and c.prev == b.hash  # chain continues across restarts
    assert reopened.verify() == []


def test_id_numbers_never_reach_the_file(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.append("fault.report", actor=f"resident {ID}", note=f"card {ID} unreadable", items=[ID])
    raw = path.read_text(encoding="utf-8")
    assert ID not in raw and ID[:3] + "*" * 11 + ID[-4:] in raw


def test_editing_or_deleting_a_line_is_detected(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(4):
        log.append("staff.login", outcome="denied", attempt=i)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)

    edited = lines.copy()
    edited[1] = edited[1].replace('"denied"', '"ok"')
    path.write_text("".join(edited), encoding="utf-8")
    assert AuditLog(path).verify() == ["line 2: event 2 was modified (hash mismatch)"]

    path.write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")
    problems = AuditLog(path).verify()
    assert any("chain broken before event 3" in p for p in problems)


def test_torn_last_line_is_skipped_and_appends_continue(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    first = log.append("app.start")
    log.close()
    with open(path, "ab") as f:  # a crash in the middle of a write
        f.write(b'{"seq": 2, "at": "2026-11-')
    log = AuditLog(path)
    assert [e.seq for e in log] == [1]
    second = log.append("app.start")
    assert second.seq == 2 and second.prev == first.hash
    assert [e.seq for e in log] == [1, 2]
    assert log.verify() == ['line 2: unreadable (torn write or edit): \'{"seq": 2, "at": "2026-11-\'']


def _append_many(path: str, n: int) -> None:
    log = AuditLog(path, fsync=False)
    for i in range(n):
        log.append("selftest.run", pid=os.getpid(), i=i)


def test_two_processes_append_without_breaking_the_chain(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(path, 50)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    log = AuditLog(path)
    assert [e.seq for e in log] == list(range(1, 101))
    assert log.verify() == []


def test_closed_or_unwritable_log_raises_typed_error(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.close()
    log.close()  # idempotent
    with pytest.raises(AuditError) as e:
        log.append("app.start")
    assert e.value.message_zh == "审计日志无法写入，请联系工作人员。"


def test_an_emptied_or_cut_audit_log_is_found_out(tmp_path):
    """A log emptied, or cut at a line end, looks like a valid shorter chain; the head kept beside it gives it away."""
    from kiosk.audit import AuditLog

    for cut in ("empty", "line_end"):
        path = tmp_path / cut / "audit.jsonl"
        with AuditLog(path) as log:
            for i in range(3):
                log.append("tech.login", n=i)
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"" if cut == "empty" else b"".join(lines[:1]))
        with AuditLog(path) as log:
            ev = log.append("after.damage")
            problems = log.verify()
        assert ev.seq == 4  # numbering goes on after the newest event ever written
        assert any("jumps from" in p or "missing" in p for p in problems), (cut, problems)
