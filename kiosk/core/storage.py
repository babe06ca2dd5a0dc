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

Recovery at open: if the file is empty or torn (not valid JSON) the storage
falls back to ``<path>.bak``, the previous good state kept as a hard link at
every write; the unreadable file is kept aside as ``<path>.corrupt-<time>``
for inspection. Files are UTF-8 regardless of the locale (systemd's C locale).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from kiosk.core.errors import KioskError

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


class AtomicJSONStorage(Storage):
    """TinyDB storage: temp file → fsync → os.replace → fsync dir."""

    def __init__(self, path: str | os.PathLike[str], *, lock_file: bool = True, fsync: bool = True) -> None:
        self.path = Path(path)
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
    def _load(path: Path) -> str | None:
        """Text of ``path`` if it holds a JSON object, else None."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        try:
            text = raw.decode("utf-8")
            if not isinstance(json.loads(text), dict):
                return None
        except (UnicodeDecodeError, ValueError):
            return None
        return text

    def _recover(self) -> str | None:
        text = self._load(self.path)
        if text is not None:
            return text
        exists = self.path.exists() and self.path.stat().st_size > 0
        bak = self._load(self.bak_path)
        if exists:
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            os.replace(self.path, aside)
            log.warning(
                "database %s was torn; kept aside as %s; %s",
                self.path,
                aside.name,
                "restored the last good copy" if bak is not None else "starting empty",
            )
        elif bak is not None:
            log.warning("database %s missing or empty; restored the last good copy", self.path)
        if bak is not None:
            self._write_text(bak)
        return bak

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

    def _write_text(self, text: str) -> None:
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
        if self.path.exists():
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


def open_db(path: str | os.PathLike[str], *, fsync: bool = True) -> KioskDB:
    """Open (creating if needed) a crash-safe TinyDB owned by this process.

    ``fsync=False`` is only for throwaway data (tests of other areas, caches).
    Raises ``StorageError`` if another process already owns ``path``.
    """
    return KioskDB(str(path), storage=AtomicJSONStorage, fsync=fsync)
