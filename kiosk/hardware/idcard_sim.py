"""A simulated ID-card reader that speaks the real SAM protocol on a real tty.

By default it opens a pty pair and exposes the slave through a stable
symlink (``.port``) in a private temp dir, so ``unplug()``/``replug()`` make
the driver's port path disappear and come back like a USB-serial adapter.
With ``port=`` it serves on an existing serial device instead (e.g. one end
of ``socat pty,raw,echo=0 pty,raw,echo=0``).
"""

from __future__ import annotations

import datetime as _dt
from collections import deque
import hashlib
import logging
import os
import random
import select
import shutil
import tempfile
import threading
import time
import tty

from kiosk.core.idnumber import make_id
from kiosk.hardware import idcard_protocol as p
from kiosk.hardware.idcard_text import FOREIGN, FOREIGN_2023, HMT, RESIDENT, IdCardRecord, encode_text

log = logging.getLogger("kiosk.idcard.sim")

FAULTS = (None, "no_card", "removed_mid_read", "bad_checksum", "garbage", "slow")

D = _dt.date


def synthetic_photo(seed: str) -> bytes:
    """1024 deterministic bytes standing in for a WLT photo (no real image)."""
    out = b""
    block = seed.encode()
    while len(out) < p.PHOTO_LEN:
        block = hashlib.sha256(block).digest()
        out += block
    return b"WLf\x00" + out[:p.PHOTO_LEN - 4]


def _resident(name, gender, nation_code, nation, region, born, seq, valid_from, valid_until,
              address, authority) -> IdCardRecord:
    number = make_id(region, born, seq)
    return IdCardRecord(card_type=RESIDENT, name=name, gender=gender, birth_date=born, id_number=number,
                        authority=authority, valid_from=valid_from, valid_until=valid_until,
                        address=address, nation_code=nation_code, nation=nation,
                        photo=synthetic_photo(number))


#: Synthetic card holders (not real people; check characters are valid).
SYNTHETIC_RESIDENTS: list[IdCardRecord] = [
    # 0: 长期 validity (issued after 46)
    _resident("王建国", "男", "01", "汉", "141124", D(1958, 7, 1), 11, D(2012, 3, 15), None,
              "山西省吕梁市临县临泉镇东关村123号", "临县公安局"),
    # 1: ordinary 20-year card
    _resident("李秀英", "女", "01", "汉", "140211", D(1985, 2, 14), 22, D(2015, 6, 1), D(2035, 6, 1),
              "山西省大同市云州区西坪镇西坪村45号", "大同市公安局云州分局"),
    # 2: minority nation (维吾尔, code 05), name with a middle dot
    _resident("阿依古丽·买买提", "女", "05", "维吾尔", "650102", D(1991, 4, 5), 24, D(2019, 8, 20),
              D(2039, 8, 20), "新疆乌鲁木齐市天山区解放南路88号", "乌鲁木齐市公安局天山区分局"),
    # 3: X check character, minority nation (苗, 06)
    _resident("杨光明", "男", "06", "苗", "522601", D(1979, 11, 23), 3, D(2009, 1, 10), D(2029, 1, 10),
              "贵州省黔东南苗族侗族自治州凯里市大十字街道12号", "凯里市公安局"),
    # 4: foreign permanent-resident card (2017 layout, type 'I')
    IdCardRecord(card_type=FOREIGN, name="史密斯约翰", english_name="SMITH JOHN WILLIAM", gender="男",
                 birth_date=D(1969, 1, 1), id_number="USA310069010112", authority="1500",
                 valid_from=D(2018, 5, 1), valid_until=D(2028, 5, 1), nationality="USA",
                 card_version="01", photo=synthetic_photo("USA310069010112")),
    # 5: Hong Kong / Macao / Taiwan residence permit (type 'J')
    IdCardRecord(card_type=HMT, name="陈家明", gender="男", birth_date=D(1992, 8, 8),
                 id_number=make_id("810000", D(1992, 8, 8), 35), authority="深圳市公安局福田分局",
                 valid_from=D(2023, 3, 1), valid_until=D(2028, 3, 1),
                 address="广东省深圳市福田区福华路1号", pass_number="H12345678", issue_count="01",
                 photo=synthetic_photo("810000-35")),
    # 6: young holder, 10-year card
    _resident("赵小雨", "女", "01", "汉", "140105", D(2001, 9, 30), 18, D(2017, 10, 11), D(2027, 10, 11),
              "山西省太原市小店区坞城路92号", "太原市公安局小店分局"),
    # 7: foreign permanent-resident card, 2023 edition (type 'Y'): 9 + Shanxi (14) + Canada (124)
    IdCardRecord(card_type=FOREIGN_2023, name="玛丽安", english_name="MACDONALD MARIANNE ELIZABETH", gender="女",
                 birth_date=D(1981, 8, 3), id_number=make_id("914124", D(1981, 8, 3), 2), authority="1400",
                 valid_from=D(2024, 1, 15), valid_until=D(2034, 1, 15), nationality="124", card_version="01",
                 issue_count="00", photo=synthetic_photo("914124-2")),
]

#: 16 data bytes of the simulated SAM id (prints as 05.01-20240101-0000000001-0000004242).
SAM_ID_DATA = ((5).to_bytes(2, "little") + (1).to_bytes(2, "little") + (20240101).to_bytes(4, "little")
               + (1).to_bytes(4, "little") + (4242).to_bytes(4, "little"))

# Noise for the "garbage" fault: random bytes, a partial preamble, a preamble
# with an absurd length, and a half find-response - all things the decoder
# must skip. Chosen so none of it forms a valid frame with what follows.
_GARBAGE_TAIL = (p.PREAMBLE[:3] + b"\x13\x37" + p.PREAMBLE + b"\xff\xff"
                 + p.PREAMBLE + b"\x00\x08\x00\x00\x9f")


class IdCardSimulator:
    """Answers find / select / read / SAM-id commands for one card slot."""

    def __init__(self, residents: list[IdCardRecord] | None = None, port: str | None = None,
                 baudrate: int = 115200, pace: bool = False, slow_delay: float = 0.3,
                 fault: str | None = None, link: str | None = None) -> None:
        self.residents = list(residents if residents is not None else SYNTHETIC_RESIDENTS)
        self.baudrate = baudrate
        self.pace = pace                  # emulate wire time at ``baudrate``
        self.slow_delay = slow_delay      # extra delay per response with fault="slow"
        self.fault = fault
        # recent commands received, in order (bounded: the kiosk polls all day)
        self.commands: deque[tuple[int, int]] = deque(maxlen=10_000)
        self._card: IdCardRecord | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rng = random.Random(467)
        self._external_port = port
        self._dir: str | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._serial = None
        self._decoder = p.FrameDecoder()
        self._owns_link = False
        if port is None:
            if link:
                self._link = os.path.abspath(link)
                if os.path.lexists(self._link) and not os.path.islink(self._link):
                    raise ValueError(f"{self._link} exists and is not a symlink; refusing to replace it")
            else:
                self._dir = tempfile.mkdtemp(prefix="kiosk-idcard-")
                self._link = os.path.join(self._dir, "idcard")
            self._owns_link = True
            self._open_pty()
        else:
            import serial
            self._link = port
            self._serial = serial.Serial(port, baudrate, timeout=0.05)

    # ------------------------------------------------------------ public API
    @property
    def port(self) -> str:
        """Device path for the driver (stable across unplug/replug)."""
        return self._link

    @property
    def card(self) -> IdCardRecord | None:
        return self._card

    @property
    def fault(self) -> str | None:
        return self._fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        if value not in FAULTS:
            raise ValueError(f"unknown fault {value!r}; choose from {FAULTS}")
        self._fault = value

    def insert(self, record_or_index: IdCardRecord | int = 0) -> IdCardRecord:
        rec = (self.residents[record_or_index] if isinstance(record_or_index, int)
               else record_or_index)
        with self._lock:
            self._card = rec
        log.info("sim: card placed (%r)", rec)
        return rec

    def remove(self) -> None:
        with self._lock:
            self._card = None
        log.info("sim: card removed")

    def start(self) -> "IdCardSimulator":
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="idcard-sim", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        with self._lock:
            self._close_pty()
            if self._serial is not None:
                self._serial.close()
                self._serial = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "IdCardSimulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def unplug(self) -> None:
        """The reader vanishes: the pty closes and the port path disappears."""
        if self._external_port:
            raise RuntimeError("unplug() needs the simulator's own pty")
        with self._lock:
            self._close_pty()
        log.info("sim: unplugged")

    def replug(self) -> None:
        """The reader comes back on a fresh pty behind the same path."""
        if self._external_port:
            raise RuntimeError("replug() needs the simulator's own pty")
        with self._lock:
            if self._master is None:
                self._open_pty()
        log.info("sim: replugged")

    @property
    def plugged(self) -> bool:
        return self._master is not None or self._serial is not None

    # ------------------------------------------------------------ transport
    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)   # no echo / line editing before the driver configures it
        self._master, self._slave = master, slave
        tmp = self._link + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self._link)
        self._decoder.reset()

    def _close_pty(self) -> None:
        if self._owns_link and os.path.islink(self._link):
            os.unlink(self._link)
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None

    def _read(self) -> bytes:
        if self._serial is not None:
            return self._serial.read(self._serial.in_waiting or 1)
        fd = self._master
        if fd is None:
            time.sleep(0.05)
            return b""
        try:
            ready, _, _ = select.select([fd], [], [], 0.05)
            return os.read(fd, 4096) if ready else b""
        except (OSError, ValueError):
            time.sleep(0.05)   # unplugged under our feet
            return b""

    def _write(self, data: bytes) -> None:
        chunk = 64 if self.pace else len(data) or 1
        for i in range(0, len(data), chunk):
            part = data[i:i + chunk]
            if self.pace:
                time.sleep(len(part) * 10 / self.baudrate)
            if self._serial is not None:
                self._serial.write(part)
                continue
            fd = self._master
            if fd is None:
                return
            try:
                view = memoryview(part)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
            except OSError:
                return

    # ------------------------------------------------------------ protocol
    def _serve(self) -> None:
        while not self._stop.is_set():
            data = self._read()
            if not data:
                continue
            for item in self._decoder.feed(data):
                if isinstance(item, p.FrameChecksumError):
                    self._write(p.response_frame(p.SW_RX_CHECKSUM))
                elif isinstance(item, p.Frame):
                    try:
                        self._answer(item)
                    except Exception:  # the simulator must keep serving
                        log.exception("sim: failed to answer")

    def _answer(self, frame: p.Frame) -> None:
        if len(frame.body) < 2:
            self._write(p.response_frame(p.SW_RX_LENGTH))
            return
        cmd = frame.command
        self.commands.append(cmd)
        with self._lock:
            card, fault = self._card, self._fault
        if fault == "slow":
            time.sleep(self.slow_delay)
        prefix = b""
        if fault == "garbage":
            prefix = bytes(self._rng.randrange(256) for _ in range(self._rng.randrange(3, 40)))
            prefix = prefix.replace(p.PREAMBLE[:2], b"\x00\x00") + _GARBAGE_TAIL
        if cmd == p.CMD_FIND_CARD:
            if card is None or fault == "no_card":
                reply = p.response_frame(p.SW_FIND_FAILED)
            else:
                reply = p.response_frame(p.SW_FIND_OK, bytes(4))
        elif cmd == p.CMD_SELECT_CARD:
            reply = (p.response_frame(p.SW_SELECT_FAILED) if card is None
                     else p.response_frame(p.SW_OK, bytes(8)))
        elif cmd in (p.CMD_READ_TEXT_PHOTO, p.CMD_READ_TEXT_PHOTO_FP):
            if card is None:
                reply = p.response_frame(p.SW_READ_FAILED)
            else:
                fp = card.fingerprint if cmd == p.CMD_READ_TEXT_PHOTO_FP else None
                reply = p.response_frame(p.SW_OK, p.encode_read_data(encode_text(card), card.photo, fp))
                if fault == "bad_checksum":
                    reply = reply[:-1] + bytes((reply[-1] ^ 0x5A,))
                elif fault == "removed_mid_read":
                    self._write(prefix + reply[:len(reply) // 2])
                    self.remove()
                    return
        elif cmd == p.CMD_READ_SAM_ID:
            reply = p.response_frame(p.SW_OK, SAM_ID_DATA)
        elif cmd == p.CMD_READER_STATUS:
            reply = p.response_frame(p.SW_OK)
        else:
            reply = p.response_frame(p.SW_BAD_COMMAND)
        self._write(prefix + reply)
        if fault == "garbage":
            self._write(bytes((0xAA, 0x00, 0x55)))  # trailing noise after the frame


class HidIdCardSimulator(IdCardSimulator):
    """The same reader behind a USB HID interface: SAM frames in 64-byte reports (``idcard_hid``).

    There is no ``/dev/uhid`` in our test machines (nor in most containers), so the
    simulator keeps its pty and speaks hidraw's framing on it: every write it
    receives is one report number byte + one 64-byte request report, every answer
    is whole 64-byte reply reports (one per USB interrupt transfer, 1 ms apart with
    ``pace``). The driver's ``HidrawPort`` reads it exactly as it reads /dev/hidrawN.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._hid_raw = bytearray()
        self._hid_seq = 0
        self.bad_reports = 0

    def _read(self) -> bytes:
        from kiosk.hardware import idcard_hid as hid

        self._hid_raw += super()._read()
        out = bytearray()
        unit = 1 + hid.REPORT_LEN  # report number + report, as written to hidraw
        while len(self._hid_raw) >= unit:
            chunk, self._hid_raw = bytes(self._hid_raw[:unit]), self._hid_raw[unit:]
            try:
                payload, _last = hid.unwrap(chunk[1:], hid.REQUEST)
            except hid.HidReportError as exc:
                self.bad_reports += 1
                log.debug("sim hid: dropped a request report: %s", exc)
                continue
            out += payload
        return bytes(out)

    def _write(self, data: bytes) -> None:
        from kiosk.hardware import idcard_hid as hid

        reports = hid.wrap(data, hid.REPLY, self._hid_seq)
        self._hid_seq = (self._hid_seq + len(reports)) & 0xFFFF
        pace, self.pace = self.pace, False  # HID is paced per report, not per baud
        try:
            for report in reports:
                if pace:
                    time.sleep(0.001)
                super()._write(report)
        finally:
            self.pace = pace
