"""A virtual social-security card that plugs into pcscd through vpcd.

The card connects by TCP to vpcd's port (default 127.0.0.1:35963, reader
"Virtual PCD 00 00") and speaks vpcd's protocol: every message is a 2-byte
big-endian length and a payload. A 1-byte payload is a control code
(0 power off, 1 power on, 2 reset, 4 send ATR -> answered with the ATR);
a longer one is a command APDU, answered with the response APDU.
Connecting is inserting the card, disconnecting is removing it.

The card answers the social-security application's APDUs (SELECT by DF
name / FID, READ RECORD) for one holder (an :class:`SsCardRecord`), with
switchable faults. Run it on a thread (``insert()``/``remove()``) or as its
own process with ``kiosk sim sscard``.
"""

from __future__ import annotations

import collections
import datetime as _dt
import logging
import os
import socket
import struct
import threading
import time

from kiosk.core import clock
from kiosk.core.errors import DeviceError
from kiosk.core.idnumber import check_char, make_id, mask_id
from kiosk.core.person import Person
from kiosk.hardware.pcsc_stack import VPCD_DEFAULT_PORT, try_lock_port, vpcd_slots
from kiosk.hardware.sscard_record import SsCardRecord, encode_records, make_record

log = logging.getLogger("kiosk.sscard.sim")

# 3B 6C 00 00 + 12 historical bytes: T=0, no interface bytes besides TB1/TC1.
DEFAULT_ATR = bytes.fromhex("3B6C0000") + b"KIOSK-SSCARD"
SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")  # "sx1.sh.社会保障" in GBK
MF_FID = b"\x3f\x00"
EF_FIDS = {b"\xef\x05": "EF05", b"\xef\x06": "EF06"}

FAULTS = ("wrong_application", "pulled_mid_read", "malformed_tlv", "status_6a82", "mute")
MUTE = b""  # process() result: the card stops answering (until it is removed)

SW_OK = b"\x90\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_NOT_FOUND = b"\x6a\x82"
SW_RECORD_NOT_FOUND = b"\x6a\x83"
SW_WRONG_P1P2 = b"\x6a\x86"
SW_NO_CURRENT_EF = b"\x69\x86"
SW_INS_UNKNOWN = b"\x6d\x00"
SW_CLA_UNKNOWN = b"\x6e\x00"


def check_fault(fault: str | None) -> str | None:
    """Validate a fault name: one of FAULTS, or ``status_XXXX`` for any status word."""
    if fault in (None, "", "none"):
        return None
    if fault in FAULTS:
        return fault
    if fault.startswith("status_") and len(fault) == 11:
        try:
            sw = int(fault[7:], 16)
        except ValueError:
            sw = -1
        if 0 <= sw <= 0xFFFF and sw != 0x9000 and (sw >> 8) not in (0x61, 0x6C):
            return fault.lower()
    raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(FAULTS)} or status_XXXX")


class SsCardApplet:
    """The card's file system and command interpreter (ISO 7816-4 subset).

    MF ─ DDF1 "sx1.sh.社会保障" (SSSE) ─ EF05 (items 01..07), EF06 (items 08..0D).
    """

    def __init__(self, holder: SsCardRecord, fault: str | None = None) -> None:
        self.holder = holder
        self.fault = fault
        self.reset()

    def reset(self) -> None:
        self.df = "MF"
        self.ef: str | None = None

    def _records(self) -> dict[str, list[bytes]]:
        ef05, ef06 = encode_records(self.holder)
        if self.fault == "malformed_tlv":
            # Item 09 (name) declares 30 bytes but carries 4.
            ef06[1] = bytes([0x09, 0x1E]) + ef06[1][2:6]
        return {"EF05": ef05, "EF06": ef06}

    def process(self, apdu: bytes) -> bytes | None:
        """The response APDU; None when the card is pulled out now, MUTE when it hangs."""
        if len(apdu) < 4:
            return SW_WRONG_LENGTH
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        if cla != 0x00:
            return SW_CLA_UNKNOWN
        if ins == 0xA4:
            return self._select(p1, p2, body)
        if ins == 0xB2:
            return self._read_record(p1, p2, body)
        return SW_INS_UNKNOWN

    def _select(self, p1: int, p2: int, body: bytes) -> bytes:
        if not body or len(body) < 1 + body[0]:
            return SW_WRONG_LENGTH
        data = body[1:1 + body[0]]
        if p1 == 0x04:  # by DF name
            if data == SSSE_AID and self.fault != "wrong_application":
                self.df, self.ef = "SSSE", None
                return SW_OK
            return SW_NOT_FOUND
        if p1 in (0x00, 0x02):  # by file identifier
            if data == MF_FID:
                self.df, self.ef = "MF", None
                return SW_OK
            if data in EF_FIDS and self.df == "SSSE":
                self.ef = EF_FIDS[data]
                return SW_OK
            return SW_NOT_FOUND
        return SW_WRONG_P1P2

    def _read_record(self, p1: int, p2: int, body: bytes) -> bytes | None:
        if self.ef is None:
            return SW_NO_CURRENT_EF
        if len(body) > 1:
            return SW_WRONG_LENGTH
        le = body[0] if body else 0
        if self.ef == "EF06" and self.fault == "pulled_mid_read":
            return None
        if self.ef == "EF06" and self.fault == "mute":
            return MUTE
        if self.ef == "EF06" and self.fault and self.fault.startswith("status_"):
            return bytes.fromhex(self.fault[7:])
        records = self._records()[self.ef]
        if p2 == 0x04:  # P1 = record number in the current EF
            if not 1 <= p1 <= len(records):
                return SW_RECORD_NOT_FOUND
            rec = records[p1 - 1]
        elif p2 == 0x00:  # P1 = record identifier (the item's tag)
            found = [r for r in records if r[0] == p1]
            if not found:
                return SW_RECORD_NOT_FOUND
            rec = found[0]
        else:
            return SW_WRONG_P1P2
        if le not in (0, len(rec)):
            return bytes([0x6C, len(rec) & 0xFF])  # wrong Le: resend with this one
        return rec + SW_OK


class VirtualSsCard:
    """A social-security card for vpcd, served on its own thread.

    ``insert()`` connects to vpcd (the card appears in the reader),
    ``remove()`` disconnects. While inserted, the card reconnects by itself if
    pcscd restarts. ``holder`` and ``fault`` may be changed at any time; they
    apply from the next command. ``exchanges`` keeps the last APDUs seen.
    """

    def __init__(self, holder: SsCardRecord, port: int = VPCD_DEFAULT_PORT,
                 host: str = "127.0.0.1", fault: str | None = None,
                 atr: bytes = DEFAULT_ATR, quickack: bool = True) -> None:
        self.port = port
        self.host = host
        self.atr = atr
        self.quickack = quickack
        self._applet = SsCardApplet(holder, check_fault(fault))
        self._cond = threading.Condition()
        self._want_inserted = False
        self._connected = False   # vpcd accepted us and talks to us
        self._closed = False
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None
        self.exchanges: collections.deque[tuple[bytes, bytes | None]] = collections.deque(maxlen=64)

    # -- construction helpers -------------------------------------------------
    @classmethod
    def on_free_slot(cls, holder: SsCardRecord, timeout: float = 0.0, **kwargs) -> "VirtualSsCard":
        """A card bound to a vpcd slot no other virtual card uses (locked until close()).

        Waits up to ``timeout`` seconds for a slot to become free.
        """
        deadline = time.monotonic() + timeout
        while True:
            slots = vpcd_slots()
            for slot in slots:
                fd = try_lock_port(slot.port)
                if fd is not None:
                    card = cls(holder, port=slot.port, **kwargs)
                    card._lock_fd = fd
                    return card
            if time.monotonic() >= deadline:
                raise DeviceError(f"every vpcd slot is in use by another virtual card ({len(slots)} slots)",
                                  "模拟读卡器被占用，请联系工作人员。")
            time.sleep(0.1)

    @property
    def reader(self) -> str | None:
        """The PC/SC reader name this card appears in (asks pcscd)."""
        for slot in vpcd_slots():
            if slot.port == self.port:
                return slot.reader
        return None

    # -- state ----------------------------------------------------------------
    @property
    def holder(self) -> SsCardRecord:
        return self._applet.holder

    @holder.setter
    def holder(self, value: SsCardRecord) -> None:
        self._applet.holder = value

    @property
    def fault(self) -> str | None:
        return self._applet.fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        self._applet.fault = check_fault(value)

    @property
    def inserted(self) -> bool:
        """True while vpcd is talking to the card."""
        return self._connected

    # -- physical actions -----------------------------------------------------
    def insert(self, wait: bool = True, timeout: float = 5.0) -> None:
        """Put the card in the reader; with ``wait``, until vpcd has accepted it."""
        with self._cond:
            if self._closed:
                raise DeviceError("virtual card is closed")
            if self._lock_fd is None:
                self._lock_fd = try_lock_port(self.port)
                if self._lock_fd is None:
                    raise DeviceError(f"another virtual card holds vpcd port {self.port}",
                                      "模拟读卡器被占用，请联系工作人员。")
            self._want_inserted = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"vcard-{self.port}", daemon=True)
                self._thread.start()
            self._cond.notify_all()
            if wait and not self._cond.wait_for(lambda: self._connected or self._closed, timeout):
                self._want_inserted = False
                self._drop_socket()
                raise DeviceError(
                    f"vpcd on {self.host}:{self.port} did not accept the virtual card within "
                    f"{timeout} s (pcscd not running, or another card in this reader?)",
                    "模拟社保卡无法插入，请联系工作人员。")

    def remove(self, wait: bool = True, timeout: float = 5.0) -> None:
        """Pull the card out (close the connection)."""
        with self._cond:
            self._want_inserted = False
            self._drop_socket()
            self._cond.notify_all()
            if wait:
                self._cond.wait_for(lambda: not self._connected, timeout)

    def close(self) -> None:
        """Remove the card, stop the thread, release the slot. Idempotent."""
        with self._cond:
            self._closed = True
            self._want_inserted = False
            self._drop_socket()
            self._cond.notify_all()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=5.0)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "VirtualSsCard":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the wire ---------------------------------------------------------------
    def _drop_socket(self) -> None:
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._want_inserted or self._closed)
                if self._closed:
                    return
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                time.sleep(0.1)  # vpcd not listening (pcscd down): retry while inserted
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._cond:
                if not self._want_inserted or self._closed:
                    sock.close()
                    continue
                self._sock = sock
            try:
                self._serve(sock)
            except OSError as exc:
                log.debug("vpcd connection ended: %s", exc)
            finally:
                with self._cond:
                    self._sock = None
                    self._connected = False
                    self._cond.notify_all()
                sock.close()

    def _recv_exact(self, sock: socket.socket, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            if self.quickack:
                # vpcd writes length and payload as two segments; ack at once so
                # Nagle on its side does not hold the payload for 40 ms.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def _serve(self, sock: socket.socket) -> None:
        while True:
            head = self._recv_exact(sock, 2)
            if head is None:
                return
            (size,) = struct.unpack(">H", head)
            payload = self._recv_exact(sock, size) if size else b""
            if payload is None:
                return
            if not self._connected:
                with self._cond:
                    self._connected = True
                    self._cond.notify_all()
            if len(payload) == 1:
                code = payload[0]
                if code in (1, 2):      # power on / reset
                    self._applet.reset()
                elif code == 4:         # send ATR
                    sock.sendall(struct.pack(">H", len(self.atr)) + self.atr)
                continue                # 0 = power off: nothing to answer
            response = self._applet.process(payload)
            self.exchanges.append((payload, response))
            if response is None:        # fault: pulled out mid-read
                log.info("virtual card pulled out mid-read (fault)")
                with self._cond:
                    self._want_inserted = False
                return
            if response is MUTE:        # fault: hang; vpcd waits until the card is removed
                log.info("virtual card stops answering (fault)")
                continue
            sock.sendall(struct.pack(">H", len(response)) + response)


# -- synthetic holders ----------------------------------------------------------

def _id(region: str, born: _dt.date, seq: int, want_x: bool = False) -> str:
    """A valid ID number; with ``want_x`` the first seq (same parity) giving an X check."""
    if want_x:
        while check_char(f"{region}{born:%Y%m%d}{seq % 1000:03d}") != "X":
            seq += 2
    return make_id(region, born, seq)


SYNTHETIC_HOLDERS: list[SsCardRecord] = [
    # 0: elderly man of the demo county (临县 141124)
    make_record(_id("141124", _dt.date(1952, 3, 12), 13), "张德明"),
    # 1: woman whose number ends in X
    make_record(_id("141124", _dt.date(1961, 11, 5), 22, want_x=True), "李秀英"),
    # 2: Hui man
    make_record(_id("140105", _dt.date(1978, 7, 30), 35), "马建国", nation="回"),
    # 3: Mongol woman, young job seeker
    make_record(_id("150102", _dt.date(1999, 1, 18), 48), "乌兰", nation="蒙古"),
    # 4: Uyghur woman, name with a middle dot
    make_record(_id("650102", _dt.date(1990, 5, 2), 64), "阿依古丽·买买提", nation="维吾尔"),
    # 5: EXPIRED card (valid 2010-2020): the kiosk must refuse it
    make_record(_id("141124", _dt.date(1966, 9, 9), 71), "赵建华",
                issue_date=_dt.date(2010, 12, 1), expiry_date=_dt.date(2020, 12, 1)),
    # 6: third-generation card whose issuer left the expiry unset (FFFFFFFF) and F-padded the
    #    4-digit birthplace: it must be read, not refused
    make_record(_id("140105", _dt.date(1988, 4, 21), 86), "郭晓峰", issue_date=_dt.date(2023, 3, 1),
                no_expiry=True, birthplace="1401"),
    # 7: second-generation card (spec 2.00)
    make_record(_id("140212", _dt.date(1972, 10, 3), 91), "白玉兰", generation=2,
                issue_date=_dt.date(2019, 5, 1)),
]


def holder_from_person(person: Person, **kwargs) -> SsCardRecord:
    """A card for ``person`` (same ID number, name and nation); kwargs as make_record."""
    kwargs.setdefault("nation", person.nation or "汉")
    return make_record(person.id_number, person.name, **kwargs)


def describe_holder(index: int, holder: SsCardRecord) -> str:
    """One masked line for listings."""
    expired = " EXPIRED" if holder.is_expired(clock.today()) else ""
    return (f"[{index}] {holder.name[0]}** {mask_id(holder.ssn)} {holder.gender} {holder.nation} "
            f"card {mask_id(holder.card_number)} valid to {holder.expiry_date or 'no expiry on card'}{expired}"
            f" (generation {holder.generation})")
