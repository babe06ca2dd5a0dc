"""The social-security card driver against the real PC/SC stack.

pcscd + vsmartcard-vpcd are real (started by ensure_pcscd); the card is the
project's own vpcd client (VirtualSsCard) on a thread, or ``kiosk sim sscard``
as a separate process.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import subprocess
import sys
import time

import pytest

from kiosk.hardware.pcsc_stack import ensure_pcscd, stop_pcscd, vpcd_slots, wait_card_state
from kiosk.hardware.sscard_errors import (
    SsCardApplicationError,
    SsCardDataError,
    SsCardExpiredError,
    SsCardRemovedError,
    SsCardStatusError,
    SsCardTimeoutError,
)
from kiosk.hardware.sscard_reader import SsCardReader, SsCardStatus, read_sequence
from kiosk.hardware.sscard_sim import SYNTHETIC_HOLDERS, VirtualSsCard

WAIT = 10.0


@pytest.fixture(scope="session")
def pcsc():
    return ensure_pcscd()


class Events:
    """Records the driver's callbacks (they arrive on its thread)."""

    def __init__(self, reader: SsCardReader) -> None:
        self.q: queue.Queue = queue.Queue()
        reader.when_card_inserted = lambda: self.q.put(("inserted", None))
        reader.when_card_read = lambda rec: self.q.put(("read", rec))
        reader.when_card_removed = lambda: self.q.put(("removed", None))
        reader.when_error = lambda err: self.q.put(("error", err))

    def next(self, timeout: float = WAIT):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no sscard event within {timeout} s") from None

    def expect(self, *kinds: str):
        """The next events are ``kinds`` in order; returns the last payload."""
        payload = None
        for kind in kinds:
            got, payload = self.next()
            assert got == kind, f"expected {kind}, got {got} ({payload!r})"
        return payload


@pytest.fixture
def card(pcsc):
    c = VirtualSsCard.on_free_slot(SYNTHETIC_HOLDERS[0], timeout=60)
    # A card another test just pulled may still look present to pcscd.
    assert wait_card_state(c.reader, present=False, timeout=WAIT)
    yield c
    c.close()


@pytest.fixture
def reader(card):
    r = SsCardReader(card.reader, poll_interval=0.1)
    events = Events(r)
    r.start()
    deadline = time.monotonic() + WAIT
    while r.status != SsCardStatus.NO_CARD:
        assert time.monotonic() < deadline, f"reader stayed {r.status}: {r.offline_reason}"
        time.sleep(0.02)
    r.events = events
    yield r
    r.close()


@pytest.mark.parametrize("index", [0, 1, 2, 3, 4, 6, 7])  # 6: third generation, F-padded, no expiry; 7: 2nd gen
def test_reads_synthetic_holder_and_removal(card, reader, index):
    holder = SYNTHETIC_HOLDERS[index]
    card.holder = holder
    card.insert()
    record = reader.events.expect("inserted", "read")
    assert record == holder
    assert reader.record == holder and reader.status == SsCardStatus.CARD_PRESENT
    person = record.to_person()
    assert person.id_number == holder.ssn and person.name == holder.name
    assert person.source == "sscard" and person.nation == holder.nation
    card.remove()
    reader.events.expect("removed")
    assert reader.record is None and reader.status == SsCardStatus.NO_CARD


def test_apdus_on_the_wire(card, reader):
    card.insert()
    reader.events.expect("inserted", "read")
    commands = [cmd for cmd, _ in card.exchanges]
    assert commands == read_sequence()
    assert commands[0].hex().upper() == "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
    assert commands[2] == bytes.fromhex("00B2010400")
    assert all(resp[-2:] == b"\x90\x00" for _, resp in card.exchanges)


def test_reinsert_reads_again(card, reader):
    for holder in (SYNTHETIC_HOLDERS[1], SYNTHETIC_HOLDERS[3]):
        card.holder = holder
        card.insert()
        assert reader.events.expect("inserted", "read").ssn == holder.ssn
        card.remove()
        reader.events.expect("removed")


@pytest.mark.parametrize("fault, error, detail", [
    ("wrong_application", SsCardApplicationError, "SELECT SSSE answered 6A82"),
    ("malformed_tlv", SsCardDataError, "tag 0x09 declares 30 bytes"),
    ("status_6a82", SsCardStatusError, "answered 6A82"),
    ("status_6985", SsCardStatusError, "answered 6985"),
])
def test_fault_gives_typed_error(card, reader, fault, error, detail):
    card.fault = fault
    card.insert()
    err = reader.events.expect("inserted", "error")
    assert type(err) is error and detail in str(err)
    assert err.message_zh and "请" in err.message_zh
    if isinstance(err, SsCardStatusError):
        assert f"{err.sw:04X}" == fault[-4:].upper()
    assert reader.record is None and reader.last_error is err
    card.remove()
    reader.events.expect("removed")
    # The driver is not wedged: a good card reads next.
    card.fault = None
    card.insert()
    assert reader.events.expect("inserted", "read") == card.holder


def test_card_pulled_mid_read(card, reader):
    card.fault = "pulled_mid_read"
    card.insert()
    err = reader.events.expect("inserted", "error")
    assert isinstance(err, SsCardRemovedError)
    assert "拔" in err.message_zh
    reader.events.expect("removed")
    assert not card.inserted
    card.fault = None
    card.insert()
    assert reader.events.expect("inserted", "read") == card.holder


def test_expired_card(card, reader):
    card.holder = SYNTHETIC_HOLDERS[5]
    card.insert()
    err = reader.events.expect("inserted", "error")
    assert isinstance(err, SsCardExpiredError)
    assert err.expiry_date == dt.date(2020, 12, 1)
    assert err.message_zh == "您的社会保障卡已过有效期，请到柜台办理换卡。"
    assert reader.record is None


def test_expiry_uses_injected_today(card, pcsc):
    r = SsCardReader(card.reader, poll_interval=0.1, today=lambda: dt.date(2040, 1, 1))
    events = Events(r)
    with r:
        card.insert()
        assert isinstance(events.expect("inserted", "error"), SsCardExpiredError)


def test_no_matching_reader_is_offline(pcsc):
    r = SsCardReader("No Such Reader", poll_interval=0.05)
    with r:
        time.sleep(0.3)
        assert r.status == SsCardStatus.OFFLINE
        assert "No Such Reader" in r.offline_reason
    assert r.status == SsCardStatus.STOPPED


def test_close_is_idempotent(card):
    r = SsCardReader(card.reader)
    r.close()
    r.start()
    r.start()
    r.close()
    r.close()
    assert r.status == SsCardStatus.STOPPED


def test_sim_command_as_separate_process(pcsc, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "sim", "sscard", "--holder", "3"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "Virtual PCD" in line, line
        reader_name = line.split("'")[1]
        r = SsCardReader(reader_name, poll_interval=0.1)
        events = Events(r)
        with r:
            assert events.expect("inserted", "read") == SYNTHETIC_HOLDERS[3]
            proc.stdin.write("remove\n")
            proc.stdin.flush()
            events.expect("removed")
            proc.stdin.write("holder 4\ninsert\n")
            proc.stdin.flush()
            assert events.expect("inserted", "read") == SYNTHETIC_HOLDERS[4]
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.skipif(os.environ.get("KIOSK_TEST_NO_PCSCD_RESTART") == "1",
                    reason="KIOSK_TEST_NO_PCSCD_RESTART=1: pcscd is shared with a running kiosk")
def test_survives_pcscd_restart(card, reader):
    card.insert()
    reader.events.expect("inserted", "read")
    assert stop_pcscd()
    reader.events.expect("removed")
    deadline = time.monotonic() + WAIT
    while reader.status != SsCardStatus.OFFLINE:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    ensure_pcscd()
    # The card is still "in the reader": it reconnects to the new vpcd and
    # the driver, with a rebuilt context, reads it again.
    assert reader.events.expect("inserted", "read") == card.holder
    assert vpcd_slots()


def test_mute_card_times_out_and_driver_recovers(card, pcsc):
    r = SsCardReader(card.reader, poll_interval=0.1, read_timeout=1.0)
    events = Events(r)
    with r:
        card.fault = "mute"
        card.insert()
        err = events.expect("inserted", "error")
        assert isinstance(err, SsCardTimeoutError)
        assert "超时" in err.message_zh
        card.remove()
        events.expect("removed")
        card.fault = None
        card.insert()
        assert events.expect("inserted", "read") == card.holder


# --------------------------------------------------------------------------
# readers with a contact and a contactless slot


def test_slots_are_told_apart_and_contact_comes_first():
    from kiosk.hardware.sscard_reader import order_slots, slot_kind

    names = ["ACS ACR1281 1S Dual Reader PICC 00 00", "ACS ACR1281 1S Dual Reader ICC 00 01",
             "ACS ACR1281 1S Dual Reader SAM 00 02"]
    assert [slot_kind(n) for n in names] == ["contactless", "contact", "contact"]
    assert order_slots(names)[-1].endswith("PICC 00 00")
    assert slot_kind("Generic EMV Smartcard Reader [CCID Interface] (Contactless) 01 00") == "contactless"
    assert slot_kind("Identiv uTrust 3700 F CL Reader 00 00") == "contactless"
    assert slot_kind("Virtual PCD 00 01") == "contact"


def test_a_reader_named_for_its_device_watches_every_slot(pcsc):
    # "Virtual PCD" names both vpcd slots, as "ACR1281" names a dual reader's ICC and PICC slots:
    # the card is read from whichever slot it is in.
    slots = vpcd_slots()
    if len(slots) < 2:
        pytest.skip("vpcd offers one slot here")
    holder = SYNTHETIC_HOLDERS[6]
    c = VirtualSsCard.on_free_slot(holder, timeout=60)
    r = SsCardReader("Virtual PCD", poll_interval=0.1)
    events = Events(r)
    try:
        assert wait_card_state(c.reader, present=False, timeout=WAIT)
        r.start()
        deadline = time.monotonic() + WAIT
        while r.status != SsCardStatus.NO_CARD and r.status != SsCardStatus.CARD_PRESENT:
            assert time.monotonic() < deadline, r.offline_reason
            time.sleep(0.02)
        c.insert()
        # another process may hold the other slot; wait for our holder
        deadline = time.monotonic() + WAIT
        while True:
            kind, payload = events.next()
            if kind == "read" and payload.ssn == holder.ssn:
                break
            assert time.monotonic() < deadline, "our card was never read"
        assert r.reader_name == c.reader
        c.remove()
        while events.next()[0] != "removed":
            pass
    finally:
        r.close()
        c.close()
