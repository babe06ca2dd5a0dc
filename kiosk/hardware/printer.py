"""Receipt printer driver: python-escpos connections, real-time status,
typed errors and idempotent, reprintable jobs.

The connection (USB, serial, network, file) comes from python-escpos; the
bytes come from ``escpos_commands`` / ``kiosk.receipts``. Before and after
every job the driver asks the printer for its real-time status
(``DLE EOT 1``, ``2`` and ``4``) where the connection can read back, so
paper out, an open cover or a printer that is off give a typed error with
a Chinese message for the screen instead of a silently lost receipt.

Every job has an idempotency key (by default the SHA-256 of its bytes):
printing a key that already printed is a no-op, so a double tap or a retry
never prints twice. The last jobs of the session are kept (printed or not)
so the screen can offer "reprint" after paper is loaded; ``end_session()``
drops them, since receipts carry personal data.

``print_job`` blocks for at most a few ``timeout``s: call it from a worker
thread, never from the UI thread.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.errors import ConfigError, DeviceError
from kiosk.hardware import escpos_commands as cmd
from kiosk.hardware.escpos_cache import keep_capabilities
from kiosk.hardware import printer_profiles

log = logging.getLogger("kiosk.hardware.printer")

DRIVERS = ("usb", "serial", "network", "sim", "file")

_FALLBACK_ZH = "可在屏幕上查看回执，或到柜台领取。"


class PrinterError(DeviceError):
    """A print job did not print. ``job_key`` names the job to reprint."""

    message_zh = "打印机暂时无法使用，" + _FALLBACK_ZH

    def __init__(self, log_message: str, message_zh: str | None = None, job_key: str | None = None) -> None:
        super().__init__(log_message, message_zh)
        self.job_key = job_key


class PaperOut(PrinterError):
    message_zh = "打印机缺纸，" + _FALLBACK_ZH


class CoverOpen(PrinterError):
    message_zh = "打印机纸仓盖未关好，" + _FALLBACK_ZH


class PaperJam(PrinterError):
    message_zh = "打印机卡纸，" + _FALLBACK_ZH


class CutterError(PrinterError):
    message_zh = "打印机切纸故障，" + _FALLBACK_ZH


class PrinterFault(PrinterError):
    """Head overheated/lifted or an unrecoverable error: the technician must look."""

    message_zh = "打印机故障，已通知技术人员。" + _FALLBACK_ZH


class PrinterOffline(PrinterError):
    message_zh = "打印机未连接或未开机，" + _FALLBACK_ZH


class UnknownJob(PrinterError):
    message_zh = "没有可重新打印的回执。"


#: Shown to the technician (alert), not to the resident.
NEAR_END_ZH = "打印纸即将用完，请及时更换。"


@dataclass(frozen=True)
class PrinterStatus:
    """A snapshot of the printer. ``known`` is False where the connection
    cannot read back (a file or a write-only device): then nothing is known
    and printing goes ahead."""

    known: bool
    online: bool = True
    cover_open: bool = False
    paper_near_end: bool = False
    paper_out: bool = False
    raw: bytes = b""
    cutter_error: bool = False
    paper_jam: bool = False
    head_error: bool = False
    unrecoverable: bool = False
    profile: str = "escpos"

    @property
    def faults(self) -> list[str]:
        """The conditions that stop printing, most specific first."""
        order = ("paper_out", "cover_open", "paper_jam", "cutter_error", "head_error", "unrecoverable")
        return [c for c in order if getattr(self, c)]

    @property
    def ready(self) -> bool:
        return not self.known or (self.online and not self.faults)

    def error(self, job_key: str | None = None, when: str = "") -> PrinterError | None:
        """The typed error this status means, or None when ready."""
        where = f" {when}" if when else ""
        if not self.known or self.ready:
            return None
        kinds = {"paper_out": PaperOut, "cover_open": CoverOpen, "paper_jam": PaperJam, "cutter_error": CutterError,
                 "head_error": PrinterFault, "unrecoverable": PrinterFault}
        for cond in self.faults:
            return kinds[cond](f"printer {cond.replace('_', ' ')}{where} ({self.profile} status {self.raw.hex()})",
                               job_key=job_key)
        return PrinterOffline(f"printer offline{where} ({self.profile} status {self.raw.hex()})", job_key=job_key)

    def text_zh(self) -> str:
        """For the technician: every condition in the family's words."""
        if not self.known:
            return "打印机状态未知（连接方式不支持回读）"
        prof = printer_profiles.profile(self.profile)
        parts = [prof.text_zh(c) for c in self.faults]
        if not self.online and not parts:
            parts.append(prof.text_zh("offline"))
        if self.paper_near_end and not self.paper_out:
            parts.append(prof.text_zh("paper_near_end"))
        return "；".join(parts) or "正常"


UNKNOWN = PrinterStatus(known=False)


def parse_status(printer: int, offline: int, paper: int) -> PrinterStatus:
    """Interpret the answers to ``DLE EOT 1``, ``2`` and ``4`` (the generic ESC/POS profile)."""
    return decode_status("escpos", {1: printer, 2: offline, 4: paper})


def decode_status(profile_name: str, answers: dict[int, int]) -> PrinterStatus:
    """Interpret the answers to ``DLE EOT n`` (n -> byte) with a printer family's status bits."""
    c = printer_profiles.profile(profile_name).decode(answers)
    return PrinterStatus(
        known=True, online=not c["offline"], cover_open=c["cover_open"], paper_near_end=c["paper_near_end"],
        paper_out=c["paper_out"], raw=bytes(answers[n] for n in sorted(answers)), cutter_error=c["cutter_error"],
        paper_jam=c["paper_jam"], head_error=c["head_error"], unrecoverable=c["unrecoverable"], profile=profile_name,
    )


@dataclass
class JobRecord:
    """A job of this session, kept for reprint."""

    key: str
    label: str
    data: bytes = field(repr=False)
    printed: bool = False
    attempts: int = 0
    printed_at: float | None = None
    last_error: str = ""


@dataclass(frozen=True)
class PrintResult:
    key: str
    printed: bool                 # bytes went out this call
    duplicate: bool               # the key had already printed: nothing sent
    bytes_sent: int
    near_end: bool                # paper near end: raise a technician alert
    status_before: PrinterStatus
    status_after: PrinterStatus
    seconds: float


def job_key(job: bytes) -> str:
    return hashlib.sha256(job).hexdigest()[:24]


class ReceiptPrinter:
    """One receipt printer.

    ``driver``: "usb" (``usb_vendor``/``usb_product``), "serial" (``port`` is
    the tty, ``baudrate``), "network" or "sim" (``port`` is "host[:port]",
    default port 9100; "sim" is a ``PrinterSimulator`` reached over TCP),
    "file" (``port`` is a path such as /dev/usb/lp0; cannot read status).
    ``paper_width`` 58 or 80 mm and ``text_mode`` "escpos"/"raster" are what
    ``kiosk.receipts.render_receipt`` needs to build jobs for this printer.
    """

    def __init__(
        self,
        driver: str = "network",
        port: str = "",
        usb_vendor: int = 0,
        usb_product: int = 0,
        paper_width: int = 80,
        text_mode: str = "escpos",
        timeout: float = 3.0,
        *,
        qr_mode: str = "native",
        baudrate: int = 9600,
        profile: str | None = None,
        keep_jobs: int = 5,
        status_profile: str = "escpos",
    ) -> None:
        if driver not in DRIVERS:
            raise ConfigError(f"printer driver must be one of {DRIVERS}, got {driver!r}")
        if driver in ("serial", "network", "sim", "file") and not port:
            raise ConfigError(f"printer driver {driver!r} needs a port")
        if driver == "usb" and not (usb_vendor and usb_product):
            raise ConfigError("printer driver 'usb' needs usb_vendor and usb_product")
        if text_mode not in ("escpos", "raster"):
            raise ConfigError(f"printer text_mode must be 'escpos' or 'raster', got {text_mode!r}")
        if timeout <= 0:
            raise ConfigError("printer timeout must be > 0 (python-escpos treats 0 as wait forever)")
        cmd.paper(paper_width)  # validates 58/80
        try:
            self.status_profile = printer_profiles.profile(status_profile)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.driver = driver
        self.port = port
        self.usb_vendor = usb_vendor
        self.usb_product = usb_product
        self.paper_width = int(paper_width)
        self.text_mode = text_mode
        self.qr_mode = qr_mode
        self.timeout = float(timeout)
        self.baudrate = baudrate
        self.profile = profile if profile not in (None, "", "default") else None
        self.keep_jobs = keep_jobs
        #: ``when_near_end(status)``: paper near end; ``when_status_changed(status)``.
        #: Called from the thread that runs print_job/status (a worker thread).
        self.when_near_end: Callable[[PrinterStatus], None] | None = None
        self.when_status_changed: Callable[[PrinterStatus], None] | None = None
        self._conn: Any = None  # the python-escpos connection object, untyped
        self._lock = threading.RLock()
        self._jobs: list[JobRecord] = []
        self._status: PrinterStatus = UNKNOWN
        self._closed = False

    def __repr__(self) -> str:
        return f"ReceiptPrinter(driver={self.driver!r}, port={self.port!r}, paper={self.paper_width}mm, text={self.text_mode})"

    # ------------------------------------------------------------ connection
    @property
    def can_read_status(self) -> bool:
        return self.driver in ("usb", "serial", "network", "sim")

    def start(self) -> "ReceiptPrinter":
        """Open the connection now (it also opens lazily on first use)."""
        with self._lock:
            self._closed = False
            self._open()
        return self

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._drop()

    def _open(self):
        if self._conn is not None:
            return self._conn
        try:
            conn = self._make_connection()
            conn.open()
            if conn.device is None:
                raise OSError("device did not open")
            if self.driver in ("network", "sim"):
                # status requests are 3-byte writes answered at once: no Nagle delay
                conn.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except PrinterError:
            raise
        except Exception as exc:  # escpos raises DeviceNotFoundError, pyserial SerialException, OSError
            raise PrinterOffline(f"cannot open printer {self.driver}:{self.port or f'{self.usb_vendor:04x}:{self.usb_product:04x}'}: {exc}") from exc
        self._conn = conn
        return conn

    def _make_connection(self):
        keep_capabilities()  # before python-escpos is imported (kiosk/hardware/escpos_cache.py)
        from escpos import printer as ep

        profile = {"profile": self.profile} if self.profile else {}
        if self.driver == "usb":
            if not ep.Usb.is_usable():
                raise PrinterOffline("USB printer needs the pyusb package, which is not installed")
            # pyusb timeouts are in milliseconds; 0 would wait forever
            return ep.Usb(self.usb_vendor, self.usb_product, timeout=max(1, int(self.timeout * 1000)), **profile)
        if self.driver == "serial":
            return ep.Serial(devfile=self.port, baudrate=self.baudrate, timeout=self.timeout, **profile)
        if self.driver in ("network", "sim"):
            host, _, p = self.port.rpartition(":") if ":" in self.port else (self.port, "", "9100")
            return ep.Network(host=host, port=int(p or 9100), timeout=self.timeout, **profile)
        return ep.File(devfile=self.port, **profile)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            dev = conn._device
            if self.driver in ("network", "sim") and dev:
                dev.close()                # escpos' Network.close does not forget the socket
                conn._device = False
            else:
                conn.close()
        except Exception as exc:  # closing a broken connection must not raise
            log.debug("printer close: %s", exc)

    def _write(self, data: bytes) -> None:
        conn = self._open()
        try:
            if self.driver == "serial":
                # a flow-controlled port can block forever: bound the write by
                # the time the bytes need on the wire, plus the timeout
                conn.device.write_timeout = self.timeout + len(data) * 10 * 1.5 / self.baudrate
            elif self.driver in ("network", "sim"):
                conn.device.settimeout(self.timeout + len(data) / 50_000)
            conn._raw(data)
        except Exception as exc:
            self._drop()
            raise PrinterOffline(f"printer write failed after {self.timeout:.1f}s or on error: {exc}") from exc

    def _read(self, n: int = 1) -> bytes:
        conn = self._conn
        dev = conn.device
        deadline = time.monotonic() + self.timeout
        if self.driver == "serial":
            dev.timeout = self.timeout
            return dev.read(n)   # returns early once n bytes arrived
        if self.driver in ("network", "sim"):
            dev.settimeout(self.timeout)
            try:
                data = dev.recv(n)
            except socket.timeout:
                return b""
            if not data:
                raise OSError("printer closed the connection")
            return data
        if self.driver == "usb":
            import usb.core

            try:
                return bytes(dev.read(conn.in_ep, n, max(1, int((deadline - time.monotonic()) * 1000))))
            except usb.core.USBTimeoutError:
                return b""
        return b""

    def _discard_input(self) -> None:
        """Drop stale answers (a late reply to an earlier timed-out query)."""
        dev = self._conn.device
        if self.driver == "serial":
            dev.reset_input_buffer()
        elif self.driver in ("network", "sim"):
            dev.setblocking(False)
            try:
                while dev.recv(256):
                    pass
            except (BlockingIOError, OSError):
                pass
            finally:
                dev.settimeout(self.timeout)

    # ------------------------------------------------------------ status
    @property
    def last_status(self) -> PrinterStatus:
        """The last status read (no I/O)."""
        return self._status

    def status(self) -> PrinterStatus:
        """Ask the printer now (``DLE EOT 1/2/4``). Raises PrinterOffline when
        it cannot be reached or does not answer within ``timeout``."""
        with self._lock:
            return self._query_status()

    def _query_status(self) -> PrinterStatus:
        if not self.can_read_status:
            self._set_status(UNKNOWN)
            return UNKNOWN
        if self._conn is not None:
            # a kept connection may have died (printer power-cycled, network
            # printer dropped the idle socket): retry once on a fresh one
            try:
                return self._query_status_once()
            except PrinterOffline as exc:
                log.info("printer connection stale (%s); reconnecting once", exc)
        return self._query_status_once()

    def _query_status_once(self) -> PrinterStatus:
        self._open()
        answers: dict[int, int] = {}
        try:
            self._discard_input()
            for n in self.status_profile.requests:
                self._conn._raw(cmd.status_request(n))
                b = self._read(1)
                if not b:
                    raise TimeoutError(f"no answer to DLE EOT {n} within {self.timeout:.1f}s")
                answers[n] = b[0]
        except PrinterError:
            raise
        except Exception as exc:
            self._drop()
            offline = PrinterStatus(known=True, online=False)
            self._set_status(offline)
            raise PrinterOffline(f"printer status request failed: {exc}") from exc
        st = decode_status(self.status_profile.name, answers)
        self._set_status(st)
        return st

    def _set_status(self, st: PrinterStatus) -> None:
        old, self._status = self._status, st
        if st != old:
            log.info("printer status: %s", st.text_zh() if st.known else "unknown")
            if self.when_status_changed is not None:
                self.when_status_changed(st)

    # ------------------------------------------------------------ jobs
    @property
    def session_jobs(self) -> list[JobRecord]:
        """This session's last jobs, oldest first."""
        with self._lock:
            return list(self._jobs)

    @property
    def last_job(self) -> JobRecord | None:
        with self._lock:
            return self._jobs[-1] if self._jobs else None

    def end_session(self) -> None:
        """Forget this session's jobs (they carry personal data)."""
        with self._lock:
            self._jobs.clear()

    def _record(self, job: bytes, key: str, label: str) -> JobRecord:
        for rec in self._jobs:
            if rec.key == key:
                return rec
        rec = JobRecord(key=key, label=label, data=job)
        self._jobs.append(rec)
        del self._jobs[:-self.keep_jobs]
        return rec

    def print_job(self, job: bytes, key: str | None = None, label: str = "") -> PrintResult:
        """Print ``job`` once. A key that already printed is not printed again
        (``duplicate=True``). Raises PaperOut, CoverOpen or PrinterOffline
        (each with ``job_key``); the job stays in ``session_jobs`` for reprint."""
        if not job:
            raise ValueError("empty print job")
        key = key or job_key(job)
        with self._lock:
            rec = self._record(job, key, label)
            return self._run(rec, force=False)

    def reprint(self, key: str | None = None, force: bool = False) -> PrintResult:
        """Print a job of this session again: the last one, or ``key``. A job
        that already printed is sent again only with ``force=True`` (an extra
        copy asked for by the resident)."""
        with self._lock:
            rec = next((r for r in reversed(self._jobs) if key is None or r.key == key), None)
            if rec is None:
                raise UnknownJob(f"no job {key or '(last)'} in this session")
            return self._run(rec, force=force)

    def _run(self, rec: JobRecord, force: bool) -> PrintResult:
        t0 = time.monotonic()
        if rec.printed and not force:
            log.info("print job %s (%s) already printed: not sent again", rec.key, rec.label)
            st = self._status
            return PrintResult(rec.key, False, True, 0, st.paper_near_end, st, st, 0.0)
        rec.attempts += 1
        try:
            before = self._query_status()
            err = before.error(rec.key, "before job")
            if err is not None:
                raise err
            self._write(rec.data)
            after = self._query_status()
            err = after.error(rec.key, "after job")
            if err is not None:
                # the printer may hold the rest of the job and print it when
                # the error clears: drop it, the reprint sends it whole
                try:
                    self._conn._raw(cmd.CLEAR_BUFFER)
                except Exception as exc:
                    log.debug("clear buffer failed: %s", exc)
                raise err
        except PrinterError as exc:
            if exc.job_key is None:
                exc.job_key = rec.key
            rec.last_error = type(exc).__name__
            log.warning("print job %s (%s) failed, attempt %d: %s", rec.key, rec.label, rec.attempts, exc)
            raise
        rec.printed = True
        rec.printed_at = time.time()
        rec.last_error = ""
        near_end = before.paper_near_end or after.paper_near_end
        if near_end:
            log.warning("printer paper near end: technician alert")
            if self.when_near_end is not None:
                self.when_near_end(after)
        seconds = time.monotonic() - t0
        log.info("print job %s (%s) printed: %d bytes in %.3fs", rec.key, rec.label, len(rec.data), seconds)
        return PrintResult(rec.key, True, False, len(rec.data), near_end, before, after, seconds)
