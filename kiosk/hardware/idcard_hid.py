"""USB HID transport for ID-card readers: the same SAM frames in 64-byte HID reports (hidraw).

Many desktop readers enumerate as a vendor HID device instead of a USB-serial
port. They carry the very SAM frames of ``idcard_protocol`` cut into fixed
64-byte reports (fleet notes §B1, after the org.zz ``idcard_hid_driver``)::

    byte 0      0x88 request (host -> reader) / 0xAA reply (reader -> host)
    bytes 1-2   sequence number, big-endian, counting reports of this direction
    byte 3      payload bytes in this report (0..57)
    byte 4      0x01 more reports follow, 0x02 last report of the SAM frame
    bytes 5-61  payload (zero padded)
    bytes 62-63 additive checksum of bytes 0-61, big-endian

On Linux the device is ``/dev/hidrawN``: every ``write`` is one report led by
its report number (0 for readers without numbered reports), every ``read``
returns one 64-byte report. ``HidrawPort`` gives the reader driver the small
serial-port surface it uses (write / read / in_waiting / reset_input_buffer),
so ``IdCardReader`` runs unchanged over either transport. The vendor layout
above lives only here: a reader family with another header needs only a new
codec (docs/idcard.md).
"""

from __future__ import annotations

import logging
import os
import select
import tty

log = logging.getLogger("kiosk.idcard.hid")

REPORT_LEN = 64
PAYLOAD_LEN = 57
REQUEST, REPLY = 0x88, 0xAA
MORE, LAST = 0x01, 0x02
REPORT_ID = 0x00  # unnumbered reports: hidraw wants a leading 0 on write


class HidReportError(ValueError):
    """A report that is not ours (wrong kind, length, checksum): dropped, logged."""


def _checksum(body: bytes) -> int:
    return sum(body) & 0xFFFF


def wrap(frame: bytes, kind: int, seq: int = 0) -> list[bytes]:
    """One SAM frame as 64-byte reports (at least one, even for an empty frame)."""
    chunks = [frame[i:i + PAYLOAD_LEN] for i in range(0, len(frame), PAYLOAD_LEN)] or [b""]
    out = []
    for i, chunk in enumerate(chunks):
        flag = LAST if i == len(chunks) - 1 else MORE
        body = bytes([kind]) + ((seq + i) & 0xFFFF).to_bytes(2, "big") + bytes([len(chunk), flag]) \
            + chunk.ljust(PAYLOAD_LEN, b"\x00")
        out.append(body + _checksum(body).to_bytes(2, "big"))
    return out


def unwrap(report: bytes, kind: int) -> tuple[bytes, bool]:
    """(payload, last) of one report of ``kind``; HidReportError when it is not a valid one."""
    if len(report) != REPORT_LEN:
        raise HidReportError(f"report of {len(report)} bytes, expected {REPORT_LEN}")
    if report[0] != kind:
        raise HidReportError(f"report kind 0x{report[0]:02X}, expected 0x{kind:02X}")
    if _checksum(report[:62]) != int.from_bytes(report[62:64], "big"):
        raise HidReportError("report checksum mismatch")
    n, flag = report[3], report[4]
    if n > PAYLOAD_LEN or flag not in (MORE, LAST):
        raise HidReportError(f"report length {n} / flag 0x{flag:02X} out of range")
    return report[5:5 + n], flag == LAST


class HidrawPort:
    """A hidraw node (or anything with its framing, such as the simulator's pty) as a serial-like port."""

    def __init__(self, path: str, timeout: float = 0.05) -> None:
        self.path = path
        self.timeout = timeout
        self._fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        if os.isatty(self._fd):
            tty.setraw(self._fd)  # the simulator's stand-in; a real hidraw node is not a tty
        self._raw = bytearray()   # bytes of a report still arriving (a tty may split it)
        self._data = bytearray()  # SAM bytes unwrapped, not yet read by the driver
        self._seq = 0

    @property
    def in_waiting(self) -> int:
        self._pump(0)
        return len(self._data)

    def reset_input_buffer(self) -> None:
        self._pump(0)
        self._raw.clear()
        self._data.clear()

    def write(self, frame: bytes) -> int:
        for report in wrap(bytes(frame), REQUEST, self._seq):
            self._write_all(bytes([REPORT_ID]) + report)
            self._seq = (self._seq + 1) & 0xFFFF
        return len(frame)

    def read(self, n: int = 1) -> bytes:
        if not self._data:
            self._pump(self.timeout)
        out = bytes(self._data[:n])
        del self._data[:n]
        return out

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def _pump(self, timeout: float) -> None:
        """Read whatever reports have arrived (waiting up to ``timeout`` for the first)."""
        wait = timeout
        while True:
            ready, _, _ = select.select([self._fd], [], [], wait)
            if not ready:
                return
            chunk = os.read(self._fd, 4096)
            if not chunk:
                raise OSError(f"{self.path}: end of file (reader unplugged)")
            self._raw += chunk
            while len(self._raw) >= REPORT_LEN:
                report, self._raw = bytes(self._raw[:REPORT_LEN]), self._raw[REPORT_LEN:]
                try:
                    payload, _last = unwrap(report, REPLY)
                except HidReportError as exc:
                    log.debug("idcard hid: dropped a report: %s", exc)
                    continue
                self._data += payload
            wait = 0
