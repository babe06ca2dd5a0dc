"""Append-only, hash-chained audit log (technician logins, settings changes,
restarts, fault reports).

Stored as JSON lines, one event per line, each ``fsync``ed before
``append`` returns, so an acknowledged event survives a power cut. A crash
mid-write can only tear the *last* line; readers skip it and ``verify()``
reports it. Why not a TinyDB table: TinyDB rewrites the whole file on every
insert (O(n) per event), while an audit log only ever appends.

Tamper evidence: every event carries the SHA-256 of the previous event's
line (``prev``) and its own (``hash``); editing or deleting a line breaks the
chain and ``verify()`` names the first broken line.

Privacy: string details pass through :func:`kiosk.core.idnumber.scrub`, so a
full ID number never lands in the log; callers pass names already masked.

Several processes may append (the app and ``kiosk selftest``): each append
holds an exclusive ``flock`` on the file and re-reads the chain head if the
file grew behind its back. Kivy-free.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from kiosk.core.errors import KioskError
from kiosk.core.idnumber import scrub
from kiosk.core.storage import write_text_atomic

log = logging.getLogger("kiosk.audit")

GENESIS = "0" * 64


class AuditError(KioskError):
    message_zh = "审计日志无法写入，请联系工作人员。"


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: str                    # UTC, ISO 8601 with seconds
    action: str                # e.g. "staff.login", "settings.change", "app.restart"
    outcome: str               # "ok", "denied", "failed", "locked"
    actor: str                 # "system", "resident", "staff:T0012 张**"
    detail: dict[str, Any] = field(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {str(k): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrubbed(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return scrub(str(value))


def _body(ev: dict[str, Any]) -> bytes:
    """Canonical bytes the hash covers: every field except ``hash``."""
    data = {k: v for k, v in ev.items() if k != "hash"}
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


class AuditLog:
    """``AuditLog(path)``; ``append(action, outcome=..., actor=..., **detail)``.

    ``clock`` returns wall-clock seconds (injectable for tests);
    ``fsync=False`` only for benchmarks.
    """

    def __init__(self, path: str | os.PathLike, *, clock: Callable[[], float] = time.time,
                 fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._fsync = fsync
        self._lock = threading.Lock()
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self._known_size = -1
        self._head: tuple[int, str] = (0, GENESIS)  # (last seq, last hash)
        # The newest (seq, hash) written, kept beside the log: an emptied file or one cut at a
        # line end leaves a valid-looking shorter chain, which only this copy can give away.
        self._head_path = self.path.with_name(self.path.name + ".head")

    # --- writing -----------------------------------------------------------
    def append(self, action: str, *, outcome: str = "ok", actor: str = "system",
               **detail: Any) -> AuditEvent:
        """Write one event durably and return it. Raises AuditError on I/O failure."""
        if not action:
            raise ValueError("audit action must not be empty")
        with self._lock:
            fd = self._require_fd()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    size = os.fstat(fd).st_size
                    if size != self._known_size:
                        self._head = self._scan_head()
                        if size and not self._ends_with_newline(fd, size):
                            # A torn last line from a crash: keep it (evidence) on its own line.
                            os.write(fd, b"\n")
                    seq, prev = self._head
                    at = _dt.datetime.fromtimestamp(self._clock(), _dt.timezone.utc)
                    ev = {
                        "seq": seq + 1,
                        "at": at.isoformat(timespec="seconds"),
                        "action": action,
                        "outcome": outcome,
                        "actor": scrub(actor),
                        "detail": _scrubbed(detail),
                        "prev": prev,
                    }
                    ev["hash"] = hashlib.sha256(_body(ev)).hexdigest()
                    line = json.dumps(ev, ensure_ascii=False, sort_keys=True) + "\n"
                    os.write(fd, line.encode("utf-8"))
                    if self._fsync:
                        os.fsync(fd)
                    self._known_size = os.fstat(fd).st_size
                    self._head = (ev["seq"], ev["hash"])
                    self._write_head()
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            except OSError as exc:
                raise AuditError(f"cannot append to audit log {self.path}: {exc}") from exc
        log.info("audit %s %s by %s", action, outcome, ev["actor"])
        return AuditEvent(**ev)

    # --- reading ------------------------------------------------------------
    def __iter__(self) -> Iterator[AuditEvent]:
        for _lineno, ev, _raw in self._lines():
            if ev is not None:
                yield ev

    def events(self) -> list[AuditEvent]:
        return list(self)

    def tail(self, n: int = 50) -> list[AuditEvent]:
        """The last ``n`` readable events, oldest first (technician screen)."""
        return self.events()[-n:] if n > 0 else []

    def verify(self) -> list[str]:
        """Problems in the chain, one English line each; [] when intact."""
        problems: list[str] = []
        prev_hash, prev_seq = GENESIS, 0
        for lineno, ev, raw in self._lines():
            if ev is None:
                problems.append(f"line {lineno}: unreadable (torn write or edit): {raw[:60]!r}")
                continue
            if ev.hash != hashlib.sha256(_body(asdict(ev))).hexdigest():
                problems.append(f"line {lineno}: event {ev.seq} was modified (hash mismatch)")
            if ev.prev != prev_hash:
                problems.append(f"line {lineno}: chain broken before event {ev.seq} (event removed or reordered)")
            if ev.seq != prev_seq + 1:
                problems.append(f"line {lineno}: sequence jumps from {prev_seq} to {ev.seq}")
            prev_hash, prev_seq = ev.hash, ev.seq
        written = self._read_head()
        if written is not None and written[0] > prev_seq:
            problems.append(f"the log ends at event {prev_seq} but event {written[0]} was written: "
                            f"events {prev_seq + 1}-{written[0]} are missing (file emptied or cut)")
        return problems

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> "AuditLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ------------------------------------------------------------
    def _require_fd(self) -> int:
        if self._fd is None:
            raise AuditError(f"audit log {self.path} is closed")
        return self._fd

    @staticmethod
    def _ends_with_newline(fd: int, size: int) -> bool:
        return os.pread(fd, 1, size - 1) == b"\n"

    def _lines(self) -> Iterator[tuple[int, AuditEvent | None, str]]:
        try:
            f = open(self.path, encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        with f:
            for lineno, raw in enumerate(f, 1):
                raw = raw.rstrip("\n")
                if not raw:
                    continue
                try:
                    data = json.loads(raw)
                    ev = AuditEvent(**data)
                    if type(ev.seq) is not int or not isinstance(ev.hash, str) or not isinstance(ev.prev, str):
                        raise TypeError("wrong field types")
                except (ValueError, TypeError):
                    yield lineno, None, raw
                    continue
                yield lineno, ev, raw

    def _scan_head(self) -> tuple[int, str]:
        head = (0, GENESIS)
        for _lineno, ev, _raw in self._lines():
            if ev is not None:
                head = (ev.seq, ev.hash)
        written = self._read_head()
        if written is not None and written[0] > head[0]:
            # Events were lost from the end (file emptied or cut): continue the numbering after the
            # newest event ever written, so the gap stays visible to verify() and the technician.
            log.error("audit log %s ends at event %d but event %d was written: events %d-%d are missing",
                      self.path, head[0], written[0], head[0] + 1, written[0])
            return written
        return head

    def _read_head(self) -> tuple[int, str] | None:
        try:
            seq, digest = self._head_path.read_text(encoding="ascii").split()
            return int(seq), digest
        except (OSError, ValueError, UnicodeDecodeError):
            return None

    def _write_head(self) -> None:
        text = f"{self._head[0]} {self._head[1]}\n"
        if self._fsync:
            write_text_atomic(self._head_path, text)
        else:
            self._head_path.write_text(text, encoding="ascii")
