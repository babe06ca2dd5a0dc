"""Social-security card reader on PC/SC (pyscard's low-level ``scard`` API).

One supervision thread owns the PC/SC context. It polls the reader list and
the card state with ``SCardGetStatusChange`` (short timeouts, so ``close()``
is prompt), rebuilds the context whenever PC/SC fails (pcscd restarted or
gone) and reports the reader offline meanwhile. pyscard's CardMonitor is not
used: its thread dies silently when pcscd restarts.

On a card: SELECT the SSSE application, read EF05 and EF06 record by record,
parse, check expiry, then ``when_card_read(record)`` or ``when_error(err)``.
Callbacks run on the supervision thread; the app marshals them to the UI.
"""

from __future__ import annotations

import datetime as _dt
import enum
import logging
import re
import threading
from typing import Callable

from smartcard import scard

from kiosk.core import clock
from kiosk.hardware.sscard_errors import (
    SsCardApplicationError,
    SsCardError,
    SsCardReaderError,
    SsCardRemovedError,
    SsCardStatusError,
    SsCardTimeoutError,
)
from kiosk.hardware.sscard_record import EF05_ITEMS, EF06_ITEMS, SsCardRecord, parse_records

log = logging.getLogger("kiosk.sscard")

SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")  # DDF1 "sx1.sh.社会保障"
APDU_SELECT_SSSE = bytes.fromhex("00A404000F") + SSSE_AID
APDU_SELECT_EF05 = bytes.fromhex("00A4020002EF05")
APDU_SELECT_EF06 = bytes.fromhex("00A4020002EF06")


def apdu_read_record(number: int, le: int = 0) -> bytes:
    """READ RECORD, P1 = record number in the current EF (P2 = 04)."""
    return bytes([0x00, 0xB2, number, 0x04, le])


def read_sequence() -> list[bytes]:
    """Every APDU of one card read, in order (also used by the bench baseline)."""
    seq = [APDU_SELECT_SSSE, APDU_SELECT_EF05]
    seq += [apdu_read_record(i + 1) for i in range(len(EF05_ITEMS))]
    seq.append(APDU_SELECT_EF06)
    seq += [apdu_read_record(i + 1) for i in range(len(EF06_ITEMS))]
    return seq


class SsCardStatus(str, enum.Enum):
    STOPPED = "stopped"        # not started or closed
    OFFLINE = "offline"        # pcscd not answering, or the reader is absent
    NO_CARD = "no_card"        # reader online, empty
    READING = "reading"        # card present, being read
    CARD_PRESENT = "card_present"  # card present (read, or failed: see last_error)


# PC/SC results meaning the card left (or was reset) during an exchange.
_CARD_GONE = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD,
              scard.SCARD_W_UNPOWERED_CARD}
_CARD_GONE_OR_COMM = _CARD_GONE | {scard.SCARD_E_NOT_TRANSACTED, scard.SCARD_F_COMM_ERROR,
                                   scard.SCARD_W_UNRESPONSIVE_CARD, scard.SCARD_E_PROTO_MISMATCH}


_CONTACTLESS = re.compile(r"PICC|contactless|\bCL\b|NFC|RFID|非接", re.I)


def slot_kind(reader_name: str) -> str:
    """"contactless" or "contact", from the PC/SC reader name a dual-interface reader gives each slot
    (e.g. "ACS ACR1281 1S Dual Reader PICC 00 00" / "... ICC 00 01")."""
    return "contactless" if _CONTACTLESS.search(reader_name) else "contact"


def order_slots(names: list[str]) -> list[str]:
    """Contact slots first: EF05/EF06 are documented as free to read over contact; over the
    contactless interface of third-generation cards that is unconfirmed (docs/sscard.md)."""
    return sorted(names, key=lambda n: (slot_kind(n) == "contactless", n))


def _err(hresult: int) -> str:
    return f"0x{hresult & 0xFFFFFFFF:08X} {scard.SCardGetErrorMessage(hresult)}"


class SsCardReader:
    """The social-security card reader as a device (gpiozero style).

    ``reader``: substring of the PC/SC reader name; empty picks the first
    vpcd reader, else the first reader. Callbacks (run on the driver thread):
    ``when_card_inserted()``, ``when_card_read(record)``, ``when_card_removed()``,
    ``when_error(err)`` with ``err`` an :class:`SsCardError`.
    """

    def __init__(self, reader: str = "", *, poll_interval: float = 0.2,
                 read_timeout: float = 5.0, today: Callable[[], _dt.date] = clock.today,
                 ensure_stack: Callable[[], object] | None = None) -> None:
        self.reader_filter = reader
        self.poll_interval = poll_interval
        self.read_timeout = read_timeout
        self.today = today
        self.ensure_stack = ensure_stack  # e.g. ensure_pcscd for driver="sim"
        self.when_card_inserted: Callable[[], None] | None = None
        self.when_card_read: Callable[[SsCardRecord], None] | None = None
        self.when_card_removed: Callable[[], None] | None = None
        self.when_error: Callable[[SsCardError], None] | None = None
        self._status = SsCardStatus.STOPPED
        self._reader_name: str | None = None
        # Slots watched together: one reader, or every slot of a dual-interface reader the
        # ``reader`` setting names (contact first); _reader_name is the one holding the card.
        self._slots: list[str] = []
        self._states: dict[str, int] = {}
        self._record: SsCardRecord | None = None
        self._last_error: SsCardError | None = None
        self._ctx: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._card_present = False
        self._offline_reason = "not started"

    # -- plain properties -------------------------------------------------------
    @property
    def status(self) -> SsCardStatus:
        return self._status

    @property
    def reader_name(self) -> str | None:
        """The PC/SC reader in use, or None while offline."""
        return self._reader_name

    @property
    def record(self) -> SsCardRecord | None:
        """The record of the card in the reader (None once it is removed)."""
        return self._record

    @property
    def last_error(self) -> SsCardError | None:
        return self._last_error

    @property
    def offline_reason(self) -> str:
        return self._offline_reason

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        """Start supervising (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._status = SsCardStatus.OFFLINE
            self._thread = threading.Thread(target=self._run, name="sscard-reader", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the thread and release PC/SC (idempotent)."""
        self._stop.set()
        ctx = self._ctx
        if ctx is not None:
            scard.SCardCancel(ctx)  # wake a pending SCardGetStatusChange
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=self.read_timeout + 2.0)
        self._thread = None
        self._status = SsCardStatus.STOPPED
        self._record = None

    def __enter__(self) -> "SsCardReader":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- callbacks -------------------------------------------------------------
    def _fire(self, name: str, *args: object) -> None:
        cb = getattr(self, name)
        if cb is None:
            return
        try:
            cb(*args)
        except Exception:  # a broken handler must not kill the supervision
            log.exception("sscard callback %s failed", name)

    # -- supervision -----------------------------------------------------------
    def _run(self) -> None:
        backoff = self.poll_interval
        while not self._stop.is_set():
            try:
                if self._ctx is None and not self._establish():
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, 2.0)
                    continue
                backoff = self.poll_interval
                if self._reader_name is None and not self._pick_reader():
                    self._stop.wait(self.poll_interval)
                    continue
                self._watch_card()
            except Exception:  # keep supervising whatever happens
                log.exception("sscard supervision error")
                self._drop_context("unexpected error")
                self._stop.wait(self.poll_interval)
        self._drop_context("closed", report=False)

    def _establish(self) -> bool:
        hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            self._go_offline(f"PC/SC service unavailable ({_err(hresult)})")
            if self.ensure_stack is not None:
                try:
                    self.ensure_stack()
                except Exception as exc:
                    log.warning("could not bring up the PC/SC stack: %s", exc)
            return False
        self._ctx = ctx
        return True

    def _drop_context(self, reason: str, report: bool = True) -> None:
        ctx, self._ctx = self._ctx, None
        self._reader_name = None
        if ctx is not None:
            scard.SCardReleaseContext(ctx)
        if report:
            self._go_offline(reason)

    def _go_offline(self, reason: str) -> None:
        if self._card_present:
            self._card_gone()
        if self._status != SsCardStatus.OFFLINE or reason != self._offline_reason:
            log.warning("sscard reader offline: %s", reason)
        self._offline_reason = reason
        self._status = SsCardStatus.OFFLINE

    def _pick_reader(self) -> bool:
        hresult, readers = scard.SCardListReaders(self._ctx, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE or (hresult == 0 and not readers):
            self._go_offline("no reader connected")
            return False
        if hresult != scard.SCARD_S_SUCCESS:
            self._drop_context(f"listing readers failed ({_err(hresult)})")
            return False
        if self.reader_filter:
            slots = order_slots([r for r in readers if self.reader_filter in r])
        else:
            slots = [next((r for r in readers if r.startswith("Virtual PCD")), readers[0])]
        if not slots:
            self._go_offline(f"no reader matching {self.reader_filter!r} among {readers}")
            return False
        self._slots = slots
        self._states = {name: scard.SCARD_STATE_UNAWARE for name in slots}
        self._reader_name = slots[0]
        log.info("sscard reader online: %s", "; ".join(f"{n} ({slot_kind(n)})" for n in slots))
        self._status = SsCardStatus.CARD_PRESENT if self._card_present else SsCardStatus.NO_CARD
        return True

    def _watch_card(self) -> None:
        timeout_ms = int(self.poll_interval * 1000)
        hresult, states = scard.SCardGetStatusChange(
            self._ctx, timeout_ms, [(name, self._states[name]) for name in self._slots])
        if hresult == scard.SCARD_E_TIMEOUT:
            return
        if hresult == scard.SCARD_E_CANCELLED:
            return
        if hresult != scard.SCARD_S_SUCCESS:
            # pcscd gone or restarted, or the reader was unplugged.
            self._drop_context(f"status of {'; '.join(self._slots)} failed ({_err(hresult)})")
            return
        present: dict[str, bool] = {}
        swapped = False
        for name, event, _atr in states:
            if event & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE | scard.SCARD_STATE_IGNORE):
                self._drop_context(f"reader {name} disappeared")
                return
            old_count = self._states[name] >> 16
            self._states[name] = event & ~scard.SCARD_STATE_CHANGED
            present[name] = bool(event & scard.SCARD_STATE_PRESENT) and not event & scard.SCARD_STATE_MUTE
            if name == self._reader_name and present[name] and self._card_present:
                swapped = bool((event >> 16) - old_count >= 2 and old_count)
        if self._card_present and (not present.get(self._reader_name or "", False) or swapped):
            self._card_gone()
        if not self._card_present:
            # A card in the contact slot wins over one in the field (slots are ordered contact first).
            holder = next((name for name in self._slots if present.get(name)), None)
            if holder is not None:
                self._reader_name = holder
                self._card_arrived()

    def _card_gone(self) -> None:
        self._card_present = False
        self._record = None
        self._last_error = None
        self._status = SsCardStatus.NO_CARD
        log.info("sscard removed")
        self._fire("when_card_removed")

    def _card_arrived(self) -> None:
        self._card_present = True
        self._status = SsCardStatus.READING
        log.info("sscard inserted")
        self._fire("when_card_inserted")
        try:
            record = self._read_with_timeout()
            record.check_expiry(self.today())
        except SsCardError as exc:
            self._last_error = exc
            self._status = SsCardStatus.CARD_PRESENT
            log.warning("sscard read failed: %s: %s", type(exc).__name__, exc)
            self._fire("when_error", exc)
            return
        self._record = record
        self._status = SsCardStatus.CARD_PRESENT
        log.info("sscard read: %r", record)
        self._fire("when_card_read", record)

    def _read_with_timeout(self) -> SsCardRecord:
        # SCardTransmit has no timeout and a mute card can block it forever:
        # read on a helper thread and give up after read_timeout.
        result: list[object] = []
        reader, ctx = self._reader_name, self._ctx
        assert reader is not None and ctx is not None, "read only after a reader was found"
        abandoned = threading.Event()

        def work() -> None:
            try:
                result.append(read_card(ctx, reader))
            except BaseException as exc:  # handed to the supervisor
                result.append(exc)
            if abandoned.is_set():  # the supervisor moved on: free the old context
                scard.SCardReleaseContext(ctx)

        t = threading.Thread(target=work, name="sscard-read", daemon=True)
        t.start()
        t.join(self.read_timeout)
        if t.is_alive():
            # Leave the stuck exchange its context; supervise with a new one.
            abandoned.set()
            self._ctx = None
            self._reader_name = None
            raise SsCardTimeoutError(f"card in {reader} did not answer within {self.read_timeout} s")
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0]  # type: ignore[return-value]


# -- one card read --------------------------------------------------------------

class _Card:
    """A connected card: transmit with 61xx / 6Cxx handling and error mapping."""

    def __init__(self, ctx: int, reader: str) -> None:
        self.ctx = ctx
        self.reader = reader
        hresult, self.handle, self.protocol = scard.SCardConnect(
            ctx, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        if hresult in _CARD_GONE_OR_COMM:
            raise SsCardRemovedError(f"connect to card in {reader} failed ({_err(hresult)})")
        if hresult != scard.SCARD_S_SUCCESS:
            raise SsCardReaderError(f"connect to {reader} failed ({_err(hresult)})")

    def close(self) -> None:
        scard.SCardDisconnect(self.handle, scard.SCARD_LEAVE_CARD)

    def _raw(self, apdu: bytes) -> tuple[bytes, int]:
        hresult, response = scard.SCardTransmit(self.handle, self.protocol, list(apdu))
        if hresult in _CARD_GONE_OR_COMM:
            raise SsCardRemovedError(f"card left {self.reader} during APDU {apdu[:4].hex()} ({_err(hresult)})")
        if hresult != scard.SCARD_S_SUCCESS:
            raise SsCardReaderError(f"transmit failed ({_err(hresult)})")
        if len(response) < 2:
            raise SsCardRemovedError(f"short response ({len(response)} bytes) to {apdu[:4].hex()}")
        data = bytes(response)
        return data[:-2], (data[-2] << 8) | data[-1]

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        data, sw = self._raw(apdu)
        for _ in range(4):
            if sw >> 8 == 0x6C:          # wrong Le: resend with the one the card wants
                data, sw = self._raw(apdu[:4] + bytes([sw & 0xFF]))
            elif sw >> 8 == 0x61:        # more data: GET RESPONSE
                more, sw = self._raw(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
                data += more
            else:
                break
        return data, sw


def read_card(ctx: int, reader: str) -> SsCardRecord:
    """Connect to the card in ``reader`` and read EF05 + EF06 into a record."""
    card = _Card(ctx, reader)
    try:
        _, sw = card.transmit(APDU_SELECT_SSSE)
        if sw != 0x9000:
            raise SsCardApplicationError(f"SELECT SSSE answered {sw:04X}: not a social-security card")
        files: list[list[bytes]] = []
        for select, items in ((APDU_SELECT_EF05, EF05_ITEMS), (APDU_SELECT_EF06, EF06_ITEMS)):
            _, sw = card.transmit(select)
            if sw != 0x9000:
                raise SsCardStatusError(f"SELECT {select[-2:].hex().upper()} answered {sw:04X}", sw)
            records = []
            for i in range(len(items)):
                data, sw = card.transmit(apdu_read_record(i + 1))
                if sw != 0x9000:
                    raise SsCardStatusError(
                        f"READ RECORD {i + 1} of {select[-2:].hex().upper()} answered {sw:04X}", sw,
                        f"社会保障卡读取失败（状态码 {sw:04X}），请重新插卡；仍不行请到柜台办理。")
                records.append(data)
            files.append(records)
        return parse_records(files[0], files[1])
    finally:
        card.close()
