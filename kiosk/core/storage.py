"""Crash-safe TinyDB storage shared by the outbox, audit log and fault ledger.

TinyDB's default ``JSONStorage`` rewrites its file in place (seek, write,
truncate), so a power cut can leave a torn file. ``AtomicJSONStorage`` writes
every new state to a temporary file, fsyncs it, renames it over the old file
with ``os.replace`` and fsyncs the directory: after ``write`` returns, the new
state survives a crash, and at any instant the file holds either the old or the
new state, never a mix.

Single-writer discipline: ONE process owns a database file. ``open_db`` takes
an exclusive ``flock`` on ``<path>.lock`` for as long as the database is open
(the kernel drops it if the process dies, even by SIGKILL); a second process
gets ``StorageError``. Inside the owning process every table operation runs
under one re-entrant lock, so several threads may share the ``TinyDB`` object;
hold ``db.lock`` yourself around read-modify-write sequences that span several
calls.

Recovery at open (:meth:`AtomicJSONStorage._recover`): a file that is torn,
not JSON, or valid JSON of the wrong shape (``{"outbox": [1]}``) never stops
the kiosk from starting. Every intact record is kept: records of the previous
good state ``<path>.bak`` (a hard link made at every write) are merged with
every record that can still be parsed out of the damaged file (newer, so they
win), and records a store's own validator rejects are dropped. What could not
be kept is described in ``storage.recovery`` (the app raises a technician alert
and writes an audit entry from it) and set aside as ``<path>.corrupt-<time>``:
fragments with every ID number masked, never the raw file, deleted after the
retention period by :func:`sweep_set_aside`. Files are UTF-8 regardless of the
locale (systemd's C locale).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from kiosk.core.errors import KioskError
from kiosk.core.idnumber import scrub

log = logging.getLogger("kiosk.core.storage")


class StorageError(KioskError):
    message_zh = "本机数据存储出错，请联系工作人员。"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


fsync_dir = _fsync_dir  # public name for other modules' atomic renames (fleet updates)


def write_text_atomic(path: str | os.PathLike[str], text: str, mode: int | None = None) -> None:
    """Replace ``path`` with ``text`` (UTF-8) so a crash leaves the old or the new file, never a mix.

    Temp file in the same directory → fsync → ``os.replace`` → fsync the
    directory. ``mode``: the new file's permissions; None keeps those of the
    file being replaced (0600 for a new file).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


Validator = Callable[[dict[str, Any]], bool]
SET_ASIDE_MARK = ".corrupt-"
_DOC_START = re.compile(r'"(\d{1,18})"\s*:\s*\{')
_TABLE_START = re.compile(r'"((?:[^"\\]|\\.){1,64})"\s*:\s*\{')


@dataclass
class Recovery:
    """What recovery at open did: for the technician alert and the audit entry (no personal data)."""

    path: Path
    reason: str  # English, one line
    kept: int = 0  # records in the recovered state
    lost: int = 0  # records (or fragments) that could not be kept
    set_aside: Path | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = f"{self.path.name}: {self.reason}; kept {self.kept} record(s), could not keep {self.lost}"
        return text + (f" (set aside as {self.set_aside.name})" if self.set_aside else "")


def _shape(data: Any, validators: dict[str, Validator], dropped: list[str]) -> dict[str, dict[str, Any]]:
    """TinyDB's shape {table: {"<int>": {doc}}}; everything else goes to ``dropped`` (as text)."""
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(data, dict):
        dropped.append(repr(data)[:400])
        return out
    for name, table in data.items():
        if not isinstance(table, dict):
            dropped.append(f"table {str(name)[:64]!r}: {repr(table)[:400]}")
            continue
        valid = validators.get(name)
        docs: dict[str, Any] = {}
        for doc_id, doc in table.items():
            ok = isinstance(doc_id, str) and doc_id.isdigit() and isinstance(doc, dict)
            if ok and valid is not None:
                try:
                    ok = bool(valid(doc))
                except Exception:
                    ok = False
            if ok:
                docs[doc_id] = doc
            else:
                dropped.append(f"{name}/{str(doc_id)[:20]}: {repr(doc)[:400]}")
        out[name] = docs
    return out


def _salvage(text: str, tables: set[str]) -> tuple[dict[str, dict[str, Any]], int]:
    """Every record that still parses in a damaged TinyDB text; and how many starts did not."""
    decoder = json.JSONDecoder()
    found: dict[str, dict[str, Any]] = {}
    failed = 0
    table = None
    pos = 0
    while pos < len(text):
        doc = _DOC_START.search(text, pos)
        tab = _TABLE_START.search(text, pos)
        if tab and tab.group(1) in tables and (doc is None or tab.start() < doc.start()):
            table = tab.group(1)
            found.setdefault(table, {})
            pos = tab.end()
            continue
        if doc is None:
            break
        brace = doc.end() - 1
        try:
            value, end = decoder.raw_decode(text, brace)
        except ValueError:
            failed += 1
            pos = doc.end()
            continue
        if table is not None and isinstance(value, dict):
            found[table][doc.group(1)] = value
        pos = end
    return found, failed


def sweep_set_aside(directory: str | os.PathLike[str], max_age_s: float, now: float | None = None) -> int:
    """Delete set-aside ``*.corrupt-*`` files older than ``max_age_s``; returns how many."""
    now = time.time() if now is None else now
    removed = 0
    for p in Path(directory).glob(f"*{SET_ASIDE_MARK}*"):
        try:
            if now - p.stat().st_mtime > max_age_s:
                p.unlink()
                removed += 1
        except OSError as exc:
            log.warning("could not delete old set-aside file %s: %s", p.name, exc)
    return removed


class AtomicJSONStorage(Storage):
    """TinyDB storage: temp file → fsync → os.replace → fsync dir."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lock_file: bool = True,
        fsync: bool = True,
        validators: dict[str, Validator] | None = None,
    ) -> None:
        self.path = Path(path)
        self.validators = dict(validators or {})
        self.recovery: Recovery | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp_path = self.path.with_name(self.path.name + ".tmp")
        self.bak_path = self.path.with_name(self.path.name + ".bak")
        self.lock = threading.RLock()
        self._fsync = fsync
        self._lock_fd: int | None = None
        if lock_file:
            self._acquire_process_lock()
        self._text: str | None = self._recover()

    # -- ownership ---------------------------------------------------------
    def _acquire_process_lock(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise StorageError(f"database {self.path} is owned by another process ({exc})") from exc
        self._lock_fd = fd

    # -- recovery ----------------------------------------------------------
    @staticmethod
    def _read(path: Path) -> str | None:
        """The file's text (undecodable bytes replaced), None if missing or blank."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        return raw.decode("utf-8", errors="replace")

    def _backup_state(self) -> tuple[str | None, dict[str, dict[str, Any]]]:
        bak_text = self._read(self.bak_path)
        if bak_text is None:
            return None, {}
        try:
            return bak_text, _shape(json.loads(bak_text), self.validators, [])
        except ValueError:
            return bak_text, {}

    def _recover(self) -> str | None:
        text = self._read(self.path)
        dropped: list[str] = []
        if text is not None:
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            else:
                shaped = _shape(data, self.validators, dropped)
                missing = [n for n in self.validators if n not in shaped]
                if not dropped and not missing:
                    return text  # the normal case: intact
                # Valid JSON of the wrong shape (e.g. "{}" or {"outbox":[1]}): the
                # backup still holds the records; keep them (found by bench/faults.py).
                _bak, state = self._backup_state()
                if not dropped and not any(state.get(n) for n in missing):
                    return text  # a store that never held those tables
                for name, docs in shaped.items():
                    state.setdefault(name, {}).update(docs)
                if not dropped:
                    dropped.append(f"table(s) {missing} missing from a valid file; restored from the last good copy")
                return self._finish_recovery(state, dropped, 0, "wrong shape or invalid records")
        bak_text, state = self._backup_state()
        if text is None:
            if bak_text is not None:
                # The backup is the state before the last write: that one change
                # (at most one record) may be missing. Reported, not just logged.
                restored = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
                kept = sum(len(t) for t in state.values())
                reason = "missing or empty; restored the last good copy, the last change may be missing"
                log.error("database %s %s (kept %d record(s))", self.path, reason, kept)
                self.recovery = Recovery(self.path, reason, kept, 1, None)
                self._write_text(restored)
                return restored
            return None
        # Torn: the backup, then every record still readable in the damaged file (newer wins).
        names = set(state) | set(self.validators) | {"_default"}
        salvaged, failed = _salvage(text, names)
        salvaged = _shape(salvaged, self.validators, dropped)
        for name, docs in salvaged.items():
            state.setdefault(name, {}).update(docs)
        if failed:
            dropped.append(f"{failed} record(s) torn beyond reading")
        elif not any(salvaged.values()):
            # Nothing readable was left (garbage, zeros): only the backup remains,
            # and it predates the last write. Counted as one loss, not silent.
            dropped.append("nothing readable in the damaged file; the last change may be missing")
        else:
            # Cut cleanly between two records: what followed the last whole one is gone
            # and nothing says how much. Counted as one loss, not silent (bench/faults.py).
            dropped.append("the file was cut after a whole record; the records after it may be missing")
        return self._finish_recovery(state, dropped, failed, "torn (not valid JSON)", torn_text=text)

    def _finish_recovery(
        self, state: dict[str, dict[str, Any]], dropped: list[str], torn: int, reason: str, torn_text: str | None = None
    ) -> str:
        lost = len(dropped) - (1 if torn else 0) + torn
        kept = sum(len(t) for t in state.values())
        aside = self.path.with_name(f"{self.path.name}{SET_ASIDE_MARK}{int(time.time())}")
        # Only what could not be kept, ID numbers masked: never a second copy of personal data.
        record = {
            "file": self.path.name,
            "reason": reason,
            "kept": kept,
            "lost": lost,
            "fragments": [scrub(d) for d in dropped][:200],
        }
        if torn_text is not None:
            record["tail"] = scrub(torn_text[-400:])
        try:
            write_text_atomic(aside, json.dumps(record, ensure_ascii=False, indent=1), mode=0o600)
        except OSError as exc:
            log.error("could not set aside what was lost from %s: %s", self.path, exc)
            aside = None  # type: ignore[assignment]
        self.recovery = Recovery(self.path, reason, kept, lost, aside)
        log.error(
            "database %s was %s: kept %d record(s), could not keep %d%s",
            self.path,
            reason,
            kept,
            lost,
            f"; set aside as {aside.name}" if aside else "",
        )
        text = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
        self._write_text(text, keep_backup=False)
        return text

    # -- Storage API ---------------------------------------------------------
    def read(self) -> dict[str, dict[str, Any]] | None:
        with self.lock:
            if self._text is None:
                return None
            # Fresh objects every time: TinyDB mutates what it reads before
            # writing, and a failed write must not corrupt the cached state.
            data: dict[str, dict[str, Any]] = json.loads(self._text)
            return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        with self.lock:
            self._write_text(text)
            self._text = text

    def _write_text(self, text: str, keep_backup: bool = True) -> None:
        data = text.encode("utf-8")
        fd = os.open(self.tmp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            if self._fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if keep_backup and self.path.exists():
            self._link_backup()  # keep the previous good state as .bak
        os.replace(self.tmp_path, self.path)
        if self._fsync:
            _fsync_dir(self.path.parent)

    def _link_backup(self) -> None:
        """``.bak`` := the current file (a hard link: no copy)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.bak_path)
        # Filesystems without hard links: no backup rather than a stale one.
        with contextlib.suppress(OSError):
            os.link(self.path, self.bak_path)

    def forget_previous(self) -> None:
        """Make ``.bak`` a copy of the current state, dropping the previous one.

        The outbox calls this after masking a delivered record: otherwise the
        backup would keep the record's full ID number and form fields.
        """
        with self.lock:
            if self._text is None:
                return
            self._link_backup()
            if self._fsync:
                _fsync_dir(self.path.parent)

    def close(self) -> None:
        with self.lock:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    @functools.wraps(method)
    def wrapper(self: Table, *args: Any, **kwargs: Any) -> Any:
        with _lock_of(self.storage):
            return method(self, *args, **kwargs)

    return cast(_F, wrapper)


def _lock_of(storage: Storage) -> threading.RLock:
    """The lock of an ``AtomicJSONStorage`` (the only storage a KioskDB is built on)."""
    return cast(AtomicJSONStorage, storage).lock


class LockedTable(Table):
    """A Table whose every operation holds the storage's lock (thread-safe)."""

    def __iter__(self) -> Iterator[Document]:
        with _lock_of(self.storage):
            docs = list(super().__iter__())
        return iter(docs)


for _name in (
    "insert",
    "insert_multiple",
    "all",
    "search",
    "get",
    "contains",
    "update",
    "update_multiple",
    "upsert",
    "remove",
    "truncate",
    "count",
    "clear_cache",
    "__len__",
):
    setattr(LockedTable, _name, _locked(getattr(Table, _name)))


class KioskDB(TinyDB):
    """TinyDB on ``AtomicJSONStorage`` with thread-safe tables; ``db.lock`` is the lock."""

    table_class = LockedTable

    @property
    def lock(self) -> threading.RLock:
        return _lock_of(self.storage)

    @property
    def recovery(self) -> Recovery | None:
        """What recovery at open could not keep (None when the file was intact)."""
        return cast(AtomicJSONStorage, self.storage).recovery

    def forget_previous(self) -> None:
        """Drop the ``.bak`` copy (after a write that must not survive in it)."""
        cast(AtomicJSONStorage, self.storage).forget_previous()

    def table(self, name: str, **kwargs: Any) -> Table:
        with self.lock:
            return super().table(name, **kwargs)

    def drop_table(self, name: str) -> None:
        with self.lock:
            super().drop_table(name)

    def drop_tables(self) -> None:
        with self.lock:
            super().drop_tables()


def open_db(
    path: str | os.PathLike[str], *, fsync: bool = True, validators: dict[str, Validator] | None = None
) -> KioskDB:
    """Open (creating if needed) a crash-safe TinyDB owned by this process.

    ``fsync=False`` is only for throwaway data (tests of other areas, caches).
    ``validators``: table name -> predicate on a record; records failing it are
    dropped at open (and reported in ``db.storage.recovery``), so the store's
    code never meets a record it cannot handle.
    Raises ``StorageError`` if another process already owns ``path``.
    """
    return KioskDB(str(path), storage=AtomicJSONStorage, fsync=fsync, validators=validators)
