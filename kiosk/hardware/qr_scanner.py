"""Serial QR scanner module (the separate scan window many kiosks have).

The module sends each decoded code as text terminated by CR, LF or CRLF.
``SerialQrScanner`` reads it on a worker thread and calls ``when_code(text)``;
``QrScannerSimulator`` is a real pty whose other end the driver opens, with
``scan(text)`` writing what a scanner would send.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import tty
from typing import Callable

import serial

from kiosk.core.errors import DeviceError
from kiosk.core.supervised import beat, run_loop

log = logging.getLogger("kiosk.scanner")

ONLINE = "online"
OFFLINE = "offline"
CLOSED = "closed"


class ScannerError(DeviceError):
    message_zh = "扫码器暂时无法使用，请改用身份证或社保卡，或联系工作人员。"


def decode_line(raw: bytes) -> str:
    """Scanner bytes -> text. UTF-8 first; Chinese-market modules in their
    default mode send GB18030 (GBK), so fall back to it."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


class LineSplitter:
    """Splits a byte stream into lines on CR, LF or CRLF (empty lines dropped).

    A line longer than ``max_length`` without a terminator is garbage (noise
    on the line, wrong baud rate): it is dropped, up to the next terminator.
    """

    def __init__(self, max_length: int = 4096) -> None:
        self.max_length = max_length
        self._buf = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes]:
        lines: list[bytes] = []
        for b in data:
            if b in (0x0D, 0x0A):
                if self._discarding:
                    self._discarding = False
                elif self._buf:
                    lines.append(bytes(self._buf))
                self._buf.clear()
                continue
            if self._discarding:
                continue
            self._buf.append(b)
            if len(self._buf) > self.max_length:
                log.warning("scanner: %d bytes without a line end; dropping them", len(self._buf))
                self._buf.clear()
                self._discarding = True
        return lines


class SerialQrScanner:
    """QR scanner module on a serial port (pyserial), 8N1.

    ``when_code(text)`` is called on the reader thread for each code. If the
    port fails or disappears (USB unplugged) the driver reports ``status ==
    "offline"`` and re-opens it every ``reopen_delay`` seconds while started.
    """

    def __init__(self, port: str, baudrate: int = 9600, timeout: float = 0.2,
                 max_length: int = 4096, reopen_delay: float = 1.0,
                 when_code: Callable[[str], None] | None = None) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout
        self.max_length = max_length
        self.reopen_delay = reopen_delay
        self.when_code = when_code
        self.when_status: Callable[[str], None] | None = None
        self._status = CLOSED
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._serial: serial.Serial | None = None

    @property
    def status(self) -> str:
        """"closed", "online" or "offline"."""
        return self._status

    def _set_status(self, status: str) -> None:
        if status != self._status:
            self._status = status
            if self.when_status:
                try:
                    self.when_status(status)
                except Exception:
                    log.exception("scanner: when_status callback failed")

    def start(self) -> None:
        """Open the port and start reading; returns at once. Idempotent."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="qr-scanner", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 2.0) -> None:
        """Stop reading and close the port. Idempotent."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        self._set_status(CLOSED)

    def __enter__(self) -> "SerialQrScanner":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        # Supervised (kiosk/core/supervised.py): survives any exception; a read stuck in a
        # handler stops the watchdog's pings.
        run_loop("qr-scanner", self._session, self._stop, backoff_base=self.reopen_delay,
                 backoff_cap=max(self.reopen_delay, 10.0), logger=log)

    def _session(self) -> float:
        """Open the port, read until stopped or failing; returns the delay before reopening."""
        try:
            with serial.Serial(self.port, self.baudrate, timeout=self.timeout,
                               write_timeout=self.timeout) as ser:
                self._serial = ser
                self._set_status(ONLINE)
                log.info("scanner: open on %s at %d baud", self.port, self.baudrate)
                self._read_loop(ser)
        except (serial.SerialException, OSError) as exc:
            log.error("scanner: port %s failed: %s", self.port, exc)
            self._set_status(OFFLINE)
        finally:
            self._serial = None
        return self.reopen_delay

    def _read_loop(self, ser: serial.Serial) -> None:
        splitter = LineSplitter(self.max_length)
        while not self._stop.is_set():
            beat()
            data = ser.read(max(1, ser.in_waiting))  # returns after `timeout` at most
            if not data:
                continue
            for raw in splitter.feed(data):
                text = decode_line(raw).strip()
                if not text:
                    continue
                log.info("scanner: code read (%d chars)", len(text))
                if self.when_code:
                    try:
                        self.when_code(text)
                    except Exception:
                        log.exception("scanner: when_code callback failed")


class QrScannerSimulator:
    """A scanner module on a real pty: give ``port`` to ``SerialQrScanner``.

    ``scan(text)`` writes the text and the terminator, as the module does
    when it reads a code; ``send(raw)`` writes arbitrary bytes (noise).
    """

    def __init__(self, terminator: bytes = b"\r\n") -> None:
        self.terminator = terminator
        self._master, slave = os.openpty()
        os.set_blocking(self._master, False)  # a full pty buffer must not hang the caller
        tty.setraw(slave)  # no echo, no CR/LF translation before the driver opens it
        self.port = os.ttyname(slave)
        self._slave = slave  # kept open so the pty survives driver re-opens
        self._lock = threading.Lock()
        self._closed = False

    def scan(self, text: str, encoding: str = "utf-8", terminator: bytes | None = None) -> None:
        self.send(text.encode(encoding) + (self.terminator if terminator is None else terminator))

    def send(self, raw: bytes) -> None:
        with self._lock:
            if self._closed:
                raise ScannerError("scanner simulator is closed")
            view = memoryview(raw)
            deadline = time.monotonic() + 2.0
            while view:
                try:
                    n = os.write(self._master, view)
                except BlockingIOError:
                    n = 0
                    time.sleep(0.005)
                view = view[n:]
                if view and time.monotonic() > deadline:
                    raise ScannerError("scanner simulator: pty write timed out")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for fd in (self._master, self._slave):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def __enter__(self) -> "QrScannerSimulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
