"""Durable outbox: a submission is on disk before the screen says so, and reaches the platform exactly once.

``Outbox(path, platform)`` keeps submissions in a TinyDB on
``kiosk.core.storage.AtomicJSONStorage`` (temp → fsync → rename → fsync dir).
``enqueue`` returns a ``LocalRef`` only after the record (and its photo file)
is fsynced. A background sender thread delivers pending records in order when
the platform is reachable, with exponential backoff and jitter when it is not;
every attempt for a record carries the record's own Idempotency-Key (created at
enqueue and stored with it), so a retry after a lost answer, a crash or a power
cut is recorded once by the platform.

Outcomes: ``delivered`` (acceptance number from the platform), ``refused``
(a business rule said no; ``refusal_zh`` holds the guide's words) or
``failed`` (the platform rejected the request itself: needs a technician).
``when_result(outcome)`` is called from the sender thread for each.

Photos (eligibility certification) live only in the outbox folder until the
platform acknowledged the submission, then they are deleted. Once a record is
delivered or refused, its ID number is replaced by the masked form.

Duplicates (issue 12, fault 11): the platform de-duplicates only by
Idempotency-Key, so a resident who starts again after a power cut would lodge
a second application. Each record keeps ``same_as``, a keyed digest
(HMAC-SHA256 with a random per-kiosk key in ``<outbox>.dupkey``, mode 0600) of
item number, ID number and the platform fields; it survives the masking of a
finished record, and without the key it cannot be turned back into an ID
number by trying every birth date. :meth:`Outbox.earlier` finds a pending or
recently delivered record with the same digest (``duplicate_window`` seconds,
default 24 h; ``[storage] duplicate_window_hours`` in the config). Same answers
only: a different request for the same item (解除挂失 after 临时挂失, another
date) is a new application the platform must see.

Personal data has an age limit (GB/T 35273, docs/privacy.md): a photo is
written atomically (temp → fsync → rename), so a crash or a full disk leaves
either a whole photo with its record or a temp file; at start every photo file
that no pending or failed record names (orphans, temps) is deleted; and any
record older than ``retention_s`` (``[storage] retention_days``), finished or
abandoned (still pending, or failed and never resubmitted), is deleted with
its photo.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import hmac
import json
import logging
import os
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb import Query
from tinydb.table import Document

from kiosk.core import clock
from kiosk.core.idnumber import id_problem, mask_id
from kiosk.core.storage import _fsync_dir, open_db
from kiosk.core.supervised import start_loop
from kiosk.platform.adapter import Acceptance, AuthError, BadResponse, Platform, Refused

log = logging.getLogger("kiosk.outbox")

OFFLINE_HEADLINE_ZH = "已暂存，网络恢复后自动提交"
ONLINE_HEADLINE_ZH = "已受理"
REFUSED_HEADLINE_ZH = "未能受理"
KEEP_FINISHED = 200  # finished records kept (masked) for the technician screen
DUPLICATE_WINDOW_S = 24 * 3600.0  # a delivered submission this recent is shown instead of sent again
DEFAULT_RETENTION_S = 30 * 86400.0  # [storage] retention_days
EXPIRE_EVERY_S = 3600.0  # how often the sender thread applies the retention rule


@dataclass(frozen=True)
class LocalRef:
    """The kiosk's own reference for a stored submission (printed on offline receipts)."""

    ref: str
    idempotency_key: str

    def __str__(self) -> str:
        return self.ref


@dataclass
class Outcome:
    ref: str
    item_no: int
    state: str  # pending | delivered | refused | failed
    acceptance: Acceptance | None = None
    refusal_zh: str = ""
    refusal_code: str = ""
    attempts: int = 0
    last_error: str = ""
    created_at: str = ""

    @property
    def headline_zh(self) -> str:
        """The receipt's headline: 已受理 / 已暂存，网络恢复后自动提交 / 未能受理."""
        if self.state == "delivered":
            return ONLINE_HEADLINE_ZH
        if self.state == "pending":
            return OFFLINE_HEADLINE_ZH
        return REFUSED_HEADLINE_ZH

    @property
    def receipt_lines_zh(self) -> list[str]:
        if self.state == "delivered" and self.acceptance:
            lines = [ONLINE_HEADLINE_ZH, f"受理编号：{self.acceptance.acceptance_no}"]
            if self.acceptance.expected_completion:
                lines.append(f"预计办结：{self.acceptance.expected_completion:%Y年%m月%d日}")
            return lines
        if self.state == "pending":
            return [OFFLINE_HEADLINE_ZH, f"本机暂存编号：{self.ref}"]
        if self.state == "refused":
            return [REFUSED_HEADLINE_ZH, self.refusal_zh]
        return [REFUSED_HEADLINE_ZH, "提交未成功，请联系工作人员处理。", f"本机暂存编号：{self.ref}"]


@dataclass
class QueueEntry:
    ref: str
    item_no: int
    state: str
    attempts: int
    created_at: str
    masked_id: str
    last_error: str
    acceptance_no: str = ""


@dataclass
class OutboxStatus:
    """Snapshot for the technician screen."""

    pending: int
    delivered: int
    refused: int
    failed: int
    oldest_pending_age_s: float | None
    reachable: bool | None
    last_error: str
    last_delivery_at: str
    queue: list[QueueEntry] = field(default_factory=list)


def _now_iso() -> str:
    return clock.now().isoformat(timespec="seconds")


_STATES = ("pending", "delivered", "refused", "failed")


def _iso_date_or_none(value: Any) -> bool:
    if value is None or value == "":
        return True
    try:
        _dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def valid_record(rec: dict[str, Any]) -> bool:
    """A record the outbox can send and show; anything else is dropped (and reported) at open.

    Every key the outbox indexes (``rec[...]``) must be present: enqueue always
    writes them, and a bit flip in a key name once made ``status()`` raise
    KeyError (bench/faults.py).
    """
    acc = rec.get("acceptance")
    return (
        isinstance(rec.get("ref"), str)
        and isinstance(rec.get("key"), str)
        and type(rec.get("item_no")) is int
        and isinstance(rec.get("id_number"), str)
        and isinstance(rec.get("fields"), dict)
        and isinstance(rec.get("photo_file"), str)
        and isinstance(rec.get("photo_type"), str)
        and rec.get("state") in _STATES
        and type(rec.get("attempts")) is int
        and isinstance(rec.get("created_at"), str)
        and isinstance(rec.get("same_as", ""), str)
        and all(
            isinstance(rec.get(k), (int, float)) and not isinstance(rec.get(k), bool)
            for k in ("created_mono", "next_try")
        )
        and (
            acc is None
            or (
                isinstance(acc, dict)
                and isinstance(acc.get("acceptance_no"), str)
                and isinstance(acc.get("status"), str)
                and _iso_date_or_none(acc.get("expected_completion"))
            )
        )
    )


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, BadResponse):
        # A malformed 2xx or a 5xx: the platform may have recorded it; retrying
        # with the same key is safe. A 4xx means our request itself is wrong.
        return exc.status is None or exc.status < 400 or exc.status >= 500
    return not isinstance(exc, Refused)


class Outbox:
    def __init__(
        self,
        path: str | os.PathLike[str],
        platform: Platform,
        *,
        on_result: Callable[[Outcome], None] | None = None,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        autostart: bool = True,
        fsync: bool = True,
        duplicate_window: float = DUPLICATE_WINDOW_S,
        retention_s: float = DEFAULT_RETENTION_S,
    ) -> None:
        self.path = Path(path)
        self.duplicate_window = duplicate_window
        self.retention_s = retention_s
        self._expired_at = 0.0
        self.platform = platform
        self.when_result = on_result
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.photo_dir = self.path.with_name(self.path.name + ".photos")
        self.photo_dir.mkdir(parents=True, exist_ok=True)
        self._db = open_db(self.path, fsync=fsync, validators={"outbox": valid_record})
        #: what recovery at open could not keep (None when the file was intact); the backend reports it
        self.recovery = self._db.recovery
        self._fsync = fsync
        self._table = self._db.table("outbox")
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._attempted: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._kicked = False  # in memory: a kick must work even when the disk refuses writes
        self.reachable: bool | None = None
        self.last_error = ""
        self.last_delivery_at = ""
        self._finished = 0
        # After a restart every pending record is due at once.
        with self._db.lock:
            Rec = Query()
            self._table.update({"next_try": 0.0}, Rec.state == "pending")
        self.expire()
        self.sweep_orphan_photos()
        if autostart:
            self.start()

    # -- writing ---------------------------------------------------------------
    def _dup_key(self) -> bytes:
        """The per-kiosk key for :meth:`same_as` digests, created on first use."""
        if getattr(self, "_dupkey", None) is None:
            from kiosk.core.storage import write_text_atomic

            kf = self.path.with_name(self.path.name + ".dupkey")
            try:
                key = bytes.fromhex(kf.read_text(encoding="ascii").strip())
            except (OSError, ValueError):
                key = b""
            if len(key) != 32:
                key = secrets.token_bytes(32)
                write_text_atomic(kf, key.hex(), mode=0o600)
            self._dupkey = key
        return self._dupkey

    def same_as(self, item_no: int, id_number: str, fields: dict[str, Any]) -> str:
        """Keyed digest of what makes two submissions the same application."""
        body = json.dumps(
            [int(item_no), id_number.strip().upper(), fields], ensure_ascii=False, sort_keys=True, default=str
        )
        return hmac.new(self._dup_key(), body.encode(), hashlib.sha256).hexdigest()

    def earlier(
        self, item_no: int, id_number: str, fields: dict[str, Any], within: float | None = None
    ) -> Outcome | None:
        """The newest pending, or delivered within ``within`` s, record of this same application.

        Refused and failed records do not count: the resident may try again.
        """
        within = self.duplicate_window if within is None else within
        if within <= 0:
            return None
        digest = self.same_as(item_no, id_number, fields)
        now = time.time()
        found = [
            r
            for r in self._table.search(Query().same_as == digest)
            if r["state"] == "pending" or (r["state"] == "delivered" and abs(now - r["created_mono"]) <= within)
        ]
        if not found:
            return None
        return self._outcome(max(found, key=lambda r: r["created_mono"]))

    def _new_ref(self) -> str:
        return f"L{clock.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6].upper()}"

    def enqueue(
        self,
        item_no: int,
        id_number: str,
        fields: dict[str, Any],
        photo: bytes | None = None,
        photo_type: str = "image/jpeg",
    ) -> LocalRef:
        """Store a submission durably; returns once it is fsynced (then the screen may say 已提交).

        Raises ``Refused(code="invalid_id_number")`` for an ID number that fails its
        check character: nothing is stored that the platform could only reject.
        """
        problem = id_problem(id_number)
        if problem:
            raise Refused("身份证号码有误，请核对后重试。", "invalid_id_number", log_message=f"not stored: {problem}")
        ref = self._new_ref()
        key = uuid.uuid4().hex
        photo_file = ""
        if photo is not None:
            photo_file = f"{ref}.{'png' if photo_type == 'image/png' else 'jpg'}"
            self._write_photo(self.photo_dir / photo_file, photo)
        try:
            self._table.insert(
                {
                    "ref": ref,
                    "key": key,
                    "item_no": int(item_no),
                    "id_number": id_number,
                    "fields": dict(fields),
                    "photo_file": photo_file,
                    "photo_type": photo_type,
                    "state": "pending",
                    "attempts": 0,
                    "acceptance": None,
                    "refusal_zh": "",
                    "refusal_code": "",
                    "last_error": "",
                    "created_at": _now_iso(),
                    "created_mono": time.time(),
                    "next_try": 0.0,
                    "finished_at": "",
                    "same_as": self.same_as(item_no, id_number, fields),
                }
            )
        except BaseException:
            if photo_file:  # no record, so no photo: it would have no purpose and no owner
                (self.photo_dir / photo_file).unlink(missing_ok=True)
            raise
        log.info("stored item %d for %s as %s", item_no, mask_id(id_number), ref)
        self._wake.set()
        return LocalRef(ref, key)

    def _write_photo(self, path: Path, photo: bytes) -> None:
        """Whole or nothing: temp → every byte written → fsync → rename → fsync dir.

        A short write (one ``os.write`` may write less than asked) or a full disk
        leaves no photo under its final name; the temp is removed here, or by
        :meth:`sweep_orphan_photos` at the next start after a crash.
        """
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(photo)
                while view:
                    view = view[os.write(fd, view) :]
                if self._fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if self._fsync:
            _fsync_dir(self.photo_dir)

    # -- retention (docs/privacy.md) ---------------------------------------------
    def sweep_orphan_photos(self) -> int:
        """Delete photo files no pending or failed record names (a crash between photo and record,
        an interrupted temp, a record removed by recovery); returns how many."""
        with self._db.lock:
            wanted = {
                r["photo_file"] for r in self._table.all() if r["photo_file"] and r["state"] in ("pending", "failed")
            }
        removed = 0
        for p in self.photo_dir.iterdir():
            if p.name in wanted:
                continue
            try:
                p.unlink()
                removed += 1
            except OSError as exc:
                log.warning("could not delete orphan photo %s: %s", p.name, exc)
        if removed:
            log.warning("deleted %d photo file(s) that no submission needs", removed)
        return removed

    def expire(self, now: float | None = None) -> int:
        """Delete records (and photos) older than the retention period, whatever their state; returns how many."""
        now = time.time() if now is None else now
        self._expired_at = time.monotonic()
        with self._db.lock:
            old = [r for r in self._table.all() if now - float(r["created_mono"]) > self.retention_s]
            if not old:
                return 0
            self._table.remove(doc_ids=[r.doc_id for r in old])
            self._db.forget_previous()  # the backup must not keep them either
        for r in old:
            if r["state"] in ("pending", "failed"):
                log.warning(
                    "%s: %s for %s abandoned after the retention period; deleted",
                    r["ref"],
                    r["state"],
                    mask_id(r["id_number"]),
                )
            if r["photo_file"]:
                (self.photo_dir / r["photo_file"]).unlink(missing_ok=True)
        log.info("retention: deleted %d record(s) older than %.0f days", len(old), self.retention_s / 86400)
        return len(old)

    def submit(
        self,
        item_no: int,
        id_number: str,
        fields: dict[str, Any],
        photo: bytes | None = None,
        photo_type: str = "image/jpeg",
        wait: float = 5.0,
    ) -> Outcome:
        """``enqueue``, then wait up to ``wait`` s for the first delivery attempt; the Outcome says what to print."""
        ref = self.enqueue(item_no, id_number, fields, photo, photo_type)
        return self.wait(ref.ref, wait)

    def wait(self, ref: str, timeout: float) -> Outcome:
        """Outcome of ``ref`` once an attempt for it finished (or ``timeout`` passed)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                outcome = self.get(ref)
                if outcome is None:
                    raise KeyError(ref)
                if outcome.state != "pending" or self._attempted.get(ref, 0) > 0:
                    return outcome
                left = deadline - time.monotonic()
                if left <= 0:
                    return outcome
                self._cond.wait(left)

    # -- reading ---------------------------------------------------------------
    @staticmethod
    def _outcome(rec: dict[str, Any]) -> Outcome:
        acc = rec.get("acceptance")
        acceptance = None
        if acc:
            exp = acc.get("expected_completion")
            acceptance = Acceptance(
                acc["acceptance_no"],
                acc["status"],
                _dt.date.fromisoformat(exp) if exp else None,
                acc.get("item_no", rec["item_no"]),
                acc.get("message_zh", ""),
                acc.get("accepted_at", ""),
            )
        return Outcome(
            rec["ref"],
            rec["item_no"],
            rec["state"],
            acceptance,
            rec.get("refusal_zh", ""),
            rec.get("refusal_code", ""),
            rec.get("attempts", 0),
            rec.get("last_error", ""),
            rec.get("created_at", ""),
        )

    def get(self, ref: str) -> Outcome | None:
        rec = self._table.get(Query().ref == ref)
        return self._outcome(rec) if rec else None

    def pending(self) -> list[Outcome]:
        return [self._outcome(r) for r in self._table.search(Query().state == "pending")]

    def status(self) -> OutboxStatus:
        recs = self._table.all()
        counts = dict.fromkeys(("pending", "delivered", "refused", "failed"), 0)
        for r in recs:
            counts[r["state"]] = counts.get(r["state"], 0) + 1
        pend = [r for r in recs if r["state"] == "pending"]
        oldest = min((r["created_mono"] for r in pend), default=None)
        queue = [
            QueueEntry(
                r["ref"],
                r["item_no"],
                r["state"],
                r["attempts"],
                r["created_at"],
                mask_id(r["id_number"]),
                r.get("last_error", ""),
                (r.get("acceptance") or {}).get("acceptance_no", ""),
            )
            for r in recs[-50:]
        ]
        return OutboxStatus(
            counts["pending"],
            counts["delivered"],
            counts["refused"],
            counts["failed"],
            None if oldest is None else max(0.0, time.time() - oldest),
            self.reachable,
            self.last_error,
            self.last_delivery_at,
            queue,
        )

    # -- sending ---------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            # Supervised: a full disk or EIO while recording an attempt is logged once and
            # retried with backoff; delivery resumes by itself once the disk takes writes again.
            self._thread = start_loop(
                "outbox-sender",
                self._send_due,
                self._stop,
                wait=self._sleep,
                max_silence=120.0,
                backoff_base=max(self.backoff_base, 0.05),
                backoff_cap=self.backoff_cap,
                logger=log,
            )

    def _sleep(self, delay: float) -> None:
        self._wake.wait(delay)
        self._wake.clear()

    def kick(self) -> None:
        """Try pending records now (e.g. the network came back, or a technician pressed 重试).

        Never writes: the heartbeat calls this, and a disk error must not reach it.
        """
        self._kicked = True
        self._wake.set()

    def requeue(self, ref: str) -> bool:
        """Send a ``failed`` record again (technician action); same idempotency key."""
        with self._db.lock:
            done = self._table.update(
                {"state": "pending", "next_try": 0.0, "last_error": ""},
                (Query().ref == ref) & (Query().state == "failed"),
            )
        self._wake.set()
        return bool(done)

    def drain(self, timeout: float) -> bool:
        """Block until nothing is pending (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._table.search(Query().state == "pending"):
                return True
            self._wake.set()
            with self._cond:
                self._cond.wait(0.05)
        return not self._table.search(Query().state == "pending")

    def _send_due(self) -> float:
        """Send every due record in order; returns seconds until the next is due."""
        if time.monotonic() - self._expired_at > EXPIRE_EVERY_S:
            self.expire()
        while not self._stop.is_set():
            pend = sorted(self._table.search(Query().state == "pending"), key=lambda r: r["created_mono"])
            if not pend:
                return 30.0
            now = time.time()
            if self._kicked:
                self._kicked = False
                now = float("inf")
            due = [r for r in pend if r["next_try"] <= now]
            if not due:
                return max(0.05, min(float(r["next_try"]) for r in pend) - now)
            for rec in due:  # one read of the queue per batch, not per record
                if self._stop.is_set():
                    return 0.0
                if not self._deliver(rec):
                    # The platform is not answering: do not hammer it with the rest of the queue.
                    left = self._table.search(Query().state == "pending")
                    return max(0.05, min((r["next_try"] for r in left), default=time.time() + 1) - time.time())
        return 0.0

    def _deliver(self, rec: Document) -> bool:
        ref = rec["ref"]
        attempts = rec["attempts"] + 1
        try:
            photo_id = None
            if rec["photo_file"]:
                data = (self.photo_dir / rec["photo_file"]).read_bytes()
                photo_id = self.platform.upload_photo(data, rec["photo_type"]).photo_id
            acc = self.platform.submit(rec["item_no"], rec["id_number"], rec["fields"], rec["key"], photo_id=photo_id)
        except Refused as exc:
            self._finish(rec, "refused", attempts, refusal=exc)
            return True
        except Exception as exc:
            transient = _is_transient(exc)
            if not transient:
                self._finish(rec, "failed", attempts, error=str(exc))
                return True
            self.reachable = False if not isinstance(exc, AuthError) else self.reachable
            self.last_error = f"{type(exc).__name__}: {exc}"
            backoff = min(self.backoff_cap, self.backoff_base * 2 ** min(attempts - 1, 16))
            next_try = time.time() + random.uniform(backoff / 2, backoff)
            self._table.update(
                {"attempts": attempts, "last_error": self.last_error, "next_try": next_try}, doc_ids=[rec.doc_id]
            )
            log.warning(
                "delivery of %s failed (attempt %d), next try in %.1fs: %s", ref, attempts, next_try - time.time(), exc
            )
            self._notify(ref)
            return False
        self._finish(rec, "delivered", attempts, acceptance=acc)
        return True

    def _finish(
        self,
        rec: Document,
        state: str,
        attempts: int,
        *,
        acceptance: Acceptance | None = None,
        refusal: Refused | None = None,
        error: str = "",
    ) -> None:
        update: dict[str, Any] = {
            "state": state,
            "attempts": attempts,
            "finished_at": _now_iso(),
            "last_error": error,
            "id_number": mask_id(rec["id_number"]),
            "fields": {},
        }
        if acceptance is not None:
            update["acceptance"] = {
                "acceptance_no": acceptance.acceptance_no,
                "status": acceptance.status,
                "expected_completion": str(acceptance.expected_completion) if acceptance.expected_completion else None,
                "item_no": acceptance.item_no,
                "message_zh": acceptance.message_zh,
                "accepted_at": acceptance.accepted_at,
            }
            self.reachable = True
            self.last_delivery_at = _now_iso()
        if refusal is not None:
            update["refusal_zh"], update["refusal_code"] = refusal.reason_zh, refusal.code
            self.reachable = True
        if state == "failed":
            update["id_number"] = rec["id_number"]  # kept whole: a technician must be able to resubmit
            update["fields"] = rec["fields"]
        with self._db.lock:
            self._table.update(update, doc_ids=[rec.doc_id])
            if state != "failed":
                # The backup still holds the unmasked record: refresh it.
                self._db.forget_previous()
        self._finished += 1
        if self._finished % 50 == 0:
            self._prune()
        if rec["photo_file"] and state in ("delivered", "refused"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.photo_dir / rec["photo_file"])
        log.info(
            "%s: %s after %d attempt(s)%s",
            rec["ref"],
            state,
            attempts,
            f" as {acceptance.acceptance_no}" if acceptance else "",
        )
        self._notify(rec["ref"])
        callback = self.when_result
        if callback is not None:
            try:
                callback(self._outcome({**rec, **update}))
            except Exception:
                log.exception("when_result callback failed")

    def _prune(self) -> None:
        """Keep the newest KEEP_FINISHED finished records (the file is rewritten on every change)."""
        done = [r for r in self._table.all() if r["state"] in ("delivered", "refused")]
        if len(done) > KEEP_FINISHED:
            self._table.remove(doc_ids=[r.doc_id for r in done[: len(done) - KEEP_FINISHED]])

    def _notify(self, ref: str) -> None:
        with self._cond:
            self._attempted[ref] = self._attempted.get(ref, 0) + 1
            self._cond.notify_all()

    def close(self) -> None:
        """Stop the sender (pending records stay on disk for next start). Idempotent."""
        if self._stop.is_set() and self._thread is None and getattr(self, "_closed", False):
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=15)
        self._thread = None
        self._db.close()
