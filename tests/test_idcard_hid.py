"""USB HID ID-card readers: SAM frames in 64-byte reports, over a real pty with hidraw framing."""

from __future__ import annotations

import pytest

from kiosk.hardware import idcard_hid as hid
from kiosk.hardware import idcard_protocol as p
from kiosk.hardware.idcard_reader import IdCardReader
from kiosk.hardware.idcard_sim import SYNTHETIC_RESIDENTS, HidIdCardSimulator

from tests.test_idcard_reader import Events


def test_reports_wrap_and_unwrap_a_sam_frame():
    frame = bytes(range(256)) * 9 + b"\x01"             # 2305 bytes: a text+photo+fingerprint answer
    reports = hid.wrap(frame, hid.REPLY, seq=0xFFFE)
    assert all(len(r) == 64 for r in reports) and len(reports) == -(-len(frame) // 57)
    assert [int.from_bytes(r[1:3], "big") for r in reports[:3]] == [0xFFFE, 0xFFFF, 0]   # sequence wraps
    out, lasts = b"", []
    for r in reports:
        payload, last = hid.unwrap(r, hid.REPLY)
        out += payload
        lasts.append(last)
    assert out == frame and lasts == [False] * (len(reports) - 1) + [True]
    assert hid.wrap(p.command_frame(p.CMD_FIND_CARD), hid.REQUEST)[0][:5] == bytes([0x88, 0, 0, 10, hid.LAST])  # AA AA AA 96 69 00 03 20 01 22


@pytest.mark.parametrize("damage, words", [
    (lambda r: r[:63], "bytes"),
    (lambda r: bytes([0x55]) + r[1:], "kind"),
    (lambda r: r[:10] + bytes([r[10] ^ 0xFF]) + r[11:], "checksum"),
])
def test_damaged_reports_are_refused(damage, words):
    good = hid.wrap(b"\xAA\xAA\xAA\x96\x69", hid.REPLY)[0]
    with pytest.raises(hid.HidReportError) as exc:
        hid.unwrap(damage(good), hid.REPLY)
    assert words in str(exc.value)


@pytest.fixture
def sim():
    s = HidIdCardSimulator().start()
    yield s
    s.close()


@pytest.fixture
def reader(sim):
    r = IdCardReader(sim.port, poll_interval=0.05, timeout=0.5, max_backoff=0.2, transport="hid")
    events = Events(r)
    r.start()
    events.expect("status", "online")
    yield r, events
    r.close()


@pytest.mark.parametrize("index", [0, 4, 7])
def test_card_read_over_hid_reports(sim, reader, index):
    r, events = reader
    want = SYNTHETIC_RESIDENTS[index]
    sim.insert(index)
    events.expect("placed")
    rec = events.expect("read")
    assert rec == want and rec.photo == want.photo and len(rec.photo) == 1024
    assert rec.to_person().id_number == want.id_number
    sim.remove()
    events.expect("removed")
    assert sim.bad_reports == 0


def test_sam_id_and_fingerprint_read_over_hid(sim):
    sim.insert(1)
    r = IdCardReader(sim.port, timeout=0.5, transport="hid", read_fingerprint=True)
    try:
        assert r.read_sam_id() == "05.01-20240101-0000000001-0000004242"
        rec = r.read_card()
        assert rec.id_number == SYNTHETIC_RESIDENTS[1].id_number and len(rec.photo) == 1024
        assert p.CMD_READ_TEXT_PHOTO_FP in sim.commands     # the 1297-byte answer: 23 reports
    finally:
        r.close()


def test_hid_reader_unplugged_goes_offline_and_recovers(sim, reader):
    r, events = reader
    sim.unplug()
    events.expect("status", "offline")
    sim.replug()
    events.expect("status", "online")
    sim.insert(2)
    assert events.expect("read").id_number == SYNTHETIC_RESIDENTS[2].id_number


def test_a_serial_reader_on_a_hid_device_reads_nothing_and_says_so(sim):
    # Wrong transport in the config: the driver never decodes a frame and reports a timeout, not garbage.
    r = IdCardReader(sim.port, timeout=0.3, transport="serial")
    try:
        with pytest.raises(p.IdCardError):
            r.read_sam_id()
    finally:
        r.close()


def test_unknown_transport_is_refused():
    with pytest.raises(ValueError):
        IdCardReader("/dev/null", transport="bluetooth")


def test_hid_transport_is_selected_in_the_config(tmp_path):
    import queue

    from kiosk.core.config import load
    from kiosk.demo_devices import demo_hub

    cfg_file = tmp_path / "kiosk.toml"
    cfg_file.write_text(f'[devices.idcard]\ndriver = "sim"\ntransport = "hid"\npoll_interval = 0.05\n'
                        f'[devices.printer]\ndriver = "none"\n[devices.sscard]\ndriver = "none"\n'
                        f'[devices.camera]\ndriver = "none"\n[storage]\ndir = "{tmp_path / "var"}"\n', encoding="utf-8")
    hub = demo_hub(load(cfg_file))
    people: queue.Queue = queue.Queue()
    hub.when_person = people.put
    try:
        hub.start()
        assert hub.wait_started(30)
        assert isinstance(hub.sims.idcard_sim, HidIdCardSimulator) and hub.idcard.transport == "hid"
        hub.sims.idcard_sim.insert(0)
        person = people.get(timeout=10)
        assert person.id_number == hub.sims.idcard_sim.card.id_number and person.source == "idcard"
    finally:
        hub.close()
