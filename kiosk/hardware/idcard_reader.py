"""Driver for a resident ID-card reader on a serial port or USB HID (GA 467-style SAM protocol).

``transport="hid"`` opens a hidraw node through ``idcard_hid.HidrawPort``; the
SAM frames and everything below are the same.

gpiozero style: construct, set ``when_*`` callbacks, ``start()``; the worker
thread polls find -> select -> read and calls the callbacks from that thread
(the app marshals them onto the UI thread). ``close()`` is idempotent.

Card presence: a card is read once per placement. It counts as removed after
``removal_misses`` consecutive "no card" answers to find-card (some readers
also answer "no card" while a card that was already read stays on the
antenna; either way the card is not read again until it is placed anew).
"""

from __future__ import annotations

import logging
import os
import termios
import threading
import time
from typing import Callable

import serial

from kiosk.core.idnumber import scrub
from kiosk.hardware import idcard_protocol as p
from kiosk.hardware.idcard_text import IdCardRecord, parse_text

log = logging.getLogger("kiosk.idcard")

ONLINE, OFFLINE, NO_DEVICE = "online", "offline", "no_device"


class IdCardReader:
    def __init__(self, port: str, baudrate: int = 115200, poll_interval: float = 0.5,
                 timeout: float = 1.0, *, read_fingerprint: bool = False, removal_misses: int = 2,
                 max_read_attempts: int = 3, max_backoff: float = 2.0, transport: str = "serial") -> None:
        if transport not in ("serial", "hid"):
            raise ValueError(f"transport must be 'serial' or 'hid', got {transport!r}")
        self.transport = transport
        self.port = port
        self.baudrate = baudrate
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.read_fingerprint = read_fingerprint
        self.removal_misses = max(1, removal_misses)
        self.max_read_attempts = max(1, max_read_attempts)
        self.max_backoff = max_backoff

        self.when_card_placed: Callable[[], None] | None = None
        self.when_card_read: Callable[[IdCardRecord], None] | None = None
        self.when_card_removed: Callable[[], None] | None = None
        self.when_error: Callable[[p.IdCardError], None] | None = None
        self.when_status_changed: Callable[[str], None] | None = None

        self._status = NO_DEVICE
        self._ser: serial.Serial | None = None
        self._io = threading.RLock()         # one transaction on the wire at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._decoder = p.FrameDecoder()
        # card state, touched only by the worker
        self._present = False
        self._read_done = False
        self._attempts = 0
        self._misses = 0
        self._ever_online = False

    # ------------------------------------------------------------ public API
    @property
    def status(self) -> str:
        """"online", "offline" (lost or not answering) or "no_device" (never seen)."""
        return self._status

    @property
    def card_present(self) -> bool:
        return self._present

    def start(self) -> "IdCardReader":
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="idcard-reader", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        t, self._thread = self._thread, None
        if t is not None and t is not threading.current_thread():
            t.join(timeout=self.timeout + self.max_backoff + 1)
        with self._io:
            self._close_port()

    def __enter__(self) -> "IdCardReader":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def read_sam_id(self) -> str:
        """The reader's SAM id, e.g. ``05.01-20240101-0000000001-0000004242``."""
        with self._io:
            if self._ser is None:
                self._open_port()
            frame = self._transact(p.CMD_READ_SAM_ID)
        return p.parse_sam_id(frame)

    def read_card(self) -> IdCardRecord:
        """One synchronous find -> select -> read (for tools; the worker does this itself)."""
        with self._io:
            if self._ser is None:
                self._open_port()
            p.check_status(self._transact(p.CMD_FIND_CARD), ok=p.SW_FIND_OK)
            return self._select_and_read()

    # ------------------------------------------------------------ worker
    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            if self._ser is None:
                try:
                    with self._io:
                        self._open_port()
                    backoff = 0.1
                except p.DeviceOfflineError as exc:
                    self._set_status(OFFLINE if self._ever_online else NO_DEVICE)
                    log.debug("idcard: %s; retry in %.1f s", exc, backoff)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
            try:
                self._poll_once()
            except (serial.SerialException, OSError, termios.error) as exc:
                self._lost(exc)    # unplugged: EIO from read/write/tcflush
                continue
            except Exception as exc:   # a driver bug must not end polling for good
                log.exception("idcard: unexpected failure while polling")
                self._lost(exc)
                continue
            self._stop.wait(self.poll_interval)

    def _poll_once(self) -> None:
        with self._io:
            try:
                frame = self._transact(p.CMD_FIND_CARD)
                p.check_status(frame, ok=p.SW_FIND_OK)
            except p.NoCardError:
                self._set_status(ONLINE)
                self._card_missing()
                return
            except p.DeviceTimeoutError as exc:
                self._set_status(OFFLINE)
                log.warning("idcard: %s", exc)
                return
            except p.IdCardError as exc:
                log.warning("idcard: find card: %s", exc)   # noise on the line; next poll retries
                return
            self._set_status(ONLINE)
            self._misses = 0
            if not self._present:
                self._present, self._read_done, self._attempts = True, False, 0
                log.info("idcard: card placed")
                self._emit(self.when_card_placed)
            if self._read_done or self._attempts >= self.max_read_attempts:
                return
            self._attempts += 1
            try:
                record = self._select_and_read()
            except p.IdCardError as exc:
                log.warning("idcard: read attempt %d failed: %s", self._attempts, scrub(str(exc)))
                if isinstance(exc, p.DeviceTimeoutError):
                    self._set_status(OFFLINE)
                self._emit(self.when_error, exc)
                return
        self._read_done = True
        log.info("idcard: card read: %r", record)
        self._emit(self.when_card_read, record)

    def _card_missing(self) -> None:
        if not self._present:
            return
        self._misses += 1
        if self._misses >= self.removal_misses:
            self._present, self._read_done, self._misses = False, False, 0
            log.info("idcard: card removed")
            self._emit(self.when_card_removed)

    def _select_and_read(self) -> IdCardRecord:
        p.check_status(self._transact(p.CMD_SELECT_CARD))
        cmd = p.CMD_READ_TEXT_PHOTO_FP if self.read_fingerprint else p.CMD_READ_TEXT_PHOTO
        data = p.check_status(self._transact(cmd))
        result = p.parse_read_data(data, with_fingerprint=self.read_fingerprint)
        return parse_text(result.text, result.photo, result.fingerprint)

    def _lost(self, exc: BaseException) -> None:
        log.warning("idcard: reader lost on %s: %s", self.port, exc)
        with self._io:
            self._close_port()
        self._set_status(OFFLINE)
        self._emit(self.when_error, p.DeviceOfflineError(f"ID-card reader on {self.port} lost: {exc}"))
        if self._present:
            self._present, self._read_done, self._misses = False, False, 0
            self._emit(self.when_card_removed)

    # ------------------------------------------------------------ transport
    def _open_port(self) -> None:
        if not self.port:
            raise p.DeviceOfflineError("no serial port configured for the ID-card reader")
        if not os.path.exists(self.port):
            raise p.DeviceOfflineError(f"serial port {self.port} does not exist")
        try:
            if self.transport == "hid":
                from kiosk.hardware.idcard_hid import HidrawPort

                self._ser = HidrawPort(self.port, timeout=0.05)  # type: ignore[assignment]
            else:
                self._ser = serial.Serial(self.port, self.baudrate, timeout=0.05,
                                          write_timeout=self.timeout)
        except (serial.SerialException, OSError) as exc:
            raise p.DeviceOfflineError(f"cannot open {self.port}: {exc}") from None
        self._decoder.reset()
        log.info("idcard: opened %s (%s)", self.port,
                 "USB HID reports" if self.transport == "hid" else f"{self.baudrate} baud")

    def _close_port(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            except (serial.SerialException, OSError):
                pass
            self._ser = None

    def _transact(self, cmd: tuple[int, int]) -> p.Frame:
        """Send one command, return its response frame; typed errors, never a hang."""
        ser = self._ser
        if ser is None:
            raise p.DeviceOfflineError(f"ID-card reader on {self.port} is not connected")
        ser.reset_input_buffer()   # request/response: stale bytes belong to an old exchange
        self._decoder.reset()
        try:
            ser.write(p.command_frame(cmd))
        except serial.SerialTimeoutException:
            raise p.DeviceTimeoutError(f"write of command {cmd[0]:02X} {cmd[1]:02X} timed out") from None
        deadline = time.monotonic() + self.timeout
        problem: p.FrameError | None = None
        while time.monotonic() < deadline:
            chunk = ser.read(ser.in_waiting or 1)
            if not chunk:
                # A bad frame followed by a quiet line: the answer is not coming.
                if problem is not None and self._decoder.pending < p.HEADER_LEN:
                    break
                continue
            for item in self._decoder.feed(chunk):
                if isinstance(item, p.Frame):
                    if len(item.body) >= 3:
                        return item
                    problem = p.FrameLengthError(f"response body of {len(item.body)} bytes")
                elif not isinstance(item, p.FramePreambleError):
                    problem = item   # keep the most telling error; noise alone is not one
        what = f"command {cmd[0]:02X} {cmd[1]:02X}"
        if problem is not None:
            raise type(problem)(f"{what}: {problem}")
        if self._decoder.pending:
            raise p.FrameIncompleteError(f"{what}: response stopped after {self._decoder.pending} bytes")
        raise p.DeviceTimeoutError(f"{what}: no response within {self.timeout:.1f} s")

    # ------------------------------------------------------------ helpers
    def _set_status(self, status: str) -> None:
        if status == ONLINE:
            self._ever_online = True
        if status != self._status:
            log.info("idcard: status %s -> %s", self._status, status)
            self._status = status
            self._emit(self.when_status_changed, status)

    def _emit(self, callback: Callable | None, *args) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:   # a faulty handler must not kill the worker
            log.exception("idcard: event handler failed")
