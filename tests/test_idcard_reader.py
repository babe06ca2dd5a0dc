"""The real ID-card driver against the simulator over a real pty."""

from __future__ import annotations

import os
import queue
import time

import pytest

from kiosk.hardware import idcard_protocol as p
from kiosk.hardware.idcard_reader import IdCardReader
from kiosk.hardware.idcard_sim import SYNTHETIC_RESIDENTS, IdCardSimulator

WAIT = 10.0   # generous ceiling for an event, not a speed requirement


@pytest.fixture
def sim():
    s = IdCardSimulator().start()
    yield s
    s.close()


class Events:
    def __init__(self, reader: IdCardReader) -> None:
        self.q: queue.Queue = queue.Queue()
        reader.when_card_placed = lambda: self.q.put(("placed", None))
        reader.when_card_read = lambda rec: self.q.put(("read", rec))
        reader.when_card_removed = lambda: self.q.put(("removed", None))
        reader.when_error = lambda err: self.q.put(("error", err))
        reader.when_status_changed = lambda st: self.q.put(("status", st))
        self.seen: list[tuple[str, object]] = []

    def expect(self, kind: str, value=None):
        """Next event of ``kind`` (and value, for status); earlier ones are kept in .seen."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                ev = self.q.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(ev)
            if ev[0] == kind and (value is None or ev[1] == value):
                return ev[1]
        raise AssertionError(f"no {kind} {value or ''} event; saw {[e[0] for e in self.seen]}")

    def drain(self) -> list[str]:
        out = []
        while not self.q.empty():
            ev = self.q.get()
            self.seen.append(ev)
            out.append(ev[0])
        return out


@pytest.fixture
def reader(sim):
    r = IdCardReader(sim.port, poll_interval=0.05, timeout=0.5, max_backoff=0.2)
    events = Events(r)
    r.start()
    events.expect("status", "online")
    yield r, events
    r.close()


def wait_commands(sim: IdCardSimulator, cmd: tuple[int, int], more: int) -> None:
    """Block until the simulator received ``more`` further ``cmd`` commands (= polls happened)."""
    target = sim.commands.count(cmd) + more
    deadline = time.monotonic() + WAIT
    while sim.commands.count(cmd) < target:
        assert time.monotonic() < deadline, "driver stopped polling"
        time.sleep(0.01)


@pytest.mark.parametrize("index", [0, 2, 3, 4, 5, 7])  # 7: 2023 foreign card (type Y)
def test_round_trip_over_pty(sim, reader, index):
    r, events = reader
    want = SYNTHETIC_RESIDENTS[index]
    sim.insert(index)
    events.expect("placed")
    rec = events.expect("read")
    assert rec == want and rec.photo == want.photo
    person = rec.to_person()
    assert person.id_number == want.id_number and person.source == "idcard"
    sim.remove()
    events.expect("removed")
    assert [e[0] for e in events.seen if e[0] in ("placed", "read", "removed")] == ["placed", "read", "removed"]


def test_reads_once_per_placement(sim, reader):
    r, events = reader
    sim.insert(1)
    events.expect("read")
    reads_before = sim.commands.count(p.CMD_READ_TEXT_PHOTO)
    wait_commands(sim, p.CMD_FIND_CARD, 10)
    assert sim.commands.count(p.CMD_READ_TEXT_PHOTO) == reads_before == 1
    assert "read" not in events.drain() and r.card_present
    sim.remove()
    events.expect("removed")
    sim.insert(6)
    assert events.expect("read").name == "赵小雨"


def test_sam_id(sim, reader):
    r, _ = reader
    assert r.read_sam_id() == "05.01-20240101-0000000001-0000004242"


def test_fault_no_card(sim, reader):
    r, events = reader
    sim.fault = "no_card"
    sim.insert(0)
    wait_commands(sim, p.CMD_FIND_CARD, 5)
    assert events.drain() == [] and not r.card_present
    sim.fault = None
    assert events.expect("read").name == "王建国"


def test_fault_removed_mid_read(sim, reader):
    r, events = reader
    sim.fault = "removed_mid_read"
    sim.insert(1)
    events.expect("placed")
    err = events.expect("error")
    assert isinstance(err, p.FrameIncompleteError)
    assert err.message_zh == "证件读取失败，请重新放置。"
    events.expect("removed")
    assert "read" not in [e[0] for e in events.seen]
    sim.fault = None
    sim.insert(1)                      # placed again: read normally
    assert events.expect("read").name == "李秀英"


def test_fault_bad_checksum_then_replace(sim, reader):
    r, events = reader
    sim.fault = "bad_checksum"
    sim.insert(2)
    events.expect("placed")
    for _ in range(r.max_read_attempts):
        assert isinstance(events.expect("error"), p.FrameChecksumError)
    wait_commands(sim, p.CMD_FIND_CARD, 5)
    # gives up after max_read_attempts for this placement instead of hammering the card
    assert sim.commands.count(p.CMD_READ_TEXT_PHOTO) == r.max_read_attempts
    assert "read" not in events.drain()
    sim.fault = None
    sim.remove()
    events.expect("removed")
    sim.insert(2)
    assert events.expect("read").nation == "维吾尔"


def test_fault_garbage_is_skipped(sim, reader):
    r, events = reader
    sim.fault = "garbage"
    for index in (3, 5):
        sim.insert(index)
        assert events.expect("read") == SYNTHETIC_RESIDENTS[index]
        sim.remove()
        events.expect("removed")
    assert r.status == "online"


def test_fault_slow_device_within_timeout(sim, reader):
    r, events = reader
    sim.slow_delay = 0.15
    sim.fault = "slow"
    sim.insert(4)
    assert events.expect("read").english_name == "SMITH JOHN WILLIAM"


def test_fault_slow_device_beyond_timeout_goes_offline_and_recovers(sim, reader):
    r, events = reader
    sim.slow_delay = 0.8           # reader timeout is 0.5 s
    sim.fault = "slow"
    events.expect("status", "offline")
    assert r.status == "offline"
    sim.fault = None
    events.expect("status", "online")
    sim.insert(0)
    assert events.expect("read").valid_until is None


def test_unplug_and_replug(sim, reader):
    r, events = reader
    sim.insert(0)
    events.expect("read")
    sim.unplug()
    assert not os.path.exists(sim.port)
    assert isinstance(events.expect("error"), p.DeviceOfflineError)
    events.expect("removed")           # the card went with the reader
    assert r.status == "offline"
    sim.replug()
    events.expect("status", "online")
    assert os.path.exists(sim.port)
    sim.insert(3)
    assert events.expect("read").id_number.endswith("X")
    # and once more
    sim.remove()
    sim.unplug()
    events.expect("status", "offline")
    sim.replug()
    events.expect("status", "online")
    sim.insert(5)
    assert events.expect("read").card_type == "hmt_permit"


def test_missing_port_is_no_device_until_it_appears(sim):
    sim.unplug()
    r = IdCardReader(sim.port, poll_interval=0.05, timeout=0.5, max_backoff=0.2)
    events = Events(r)
    try:
        r.start()
        assert r.status == "no_device"
        with pytest.raises(p.DeviceOfflineError) as exc:
            r.read_sam_id()
        assert "未连接" in exc.value.message_zh
        sim.replug()
        events.expect("status", "online")
        sim.insert(1)
        assert events.expect("read").name == "李秀英"
    finally:
        r.close()
    r.close()   # idempotent


def test_synchronous_read_card(sim):
    r = IdCardReader(sim.port, timeout=0.5)
    try:
        with pytest.raises(p.NoCardError):
            r.read_card()
        sim.insert(6)
        assert r.read_card().name == "赵小雨"
    finally:
        r.close()


def test_faulty_handler_does_not_kill_the_worker(sim, reader):
    r, events = reader
    def boom(rec):
        raise RuntimeError("handler bug")
    r.when_card_read = boom
    sim.insert(0)
    events.expect("placed")
    sim.remove()
    events.expect("removed")
    r.when_card_read = lambda rec: events.q.put(("read", rec))
    sim.insert(1)
    assert events.expect("read").name == "李秀英"


def test_read_with_fingerprint_command(sim):
    r = IdCardReader(sim.port, timeout=0.5, read_fingerprint=True)
    try:
        sim.insert(5)
        rec = r.read_card()
        assert rec.pass_number == "H12345678" and rec.fingerprint == b""
        assert p.CMD_READ_TEXT_PHOTO_FP in sim.commands
    finally:
        r.close()
