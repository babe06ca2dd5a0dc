"""The serial QR scanner driver over a real pty (QrScannerSimulator)."""

from __future__ import annotations

import os
import queue

import pytest

from kiosk.hardware.qr_scanner import OFFLINE, ONLINE, LineSplitter, QrScannerSimulator, SerialQrScanner

CODE = "ESSC1." + "Zm9vYmFy" * 14


@pytest.fixture
def rig():
    sim = QrScannerSimulator()
    codes: queue.Queue[str] = queue.Queue()
    scanner = SerialQrScanner(sim.port, 9600, when_code=codes.put, reopen_delay=0.05)
    scanner.start()
    yield sim, scanner, codes
    scanner.close()
    sim.close()


def next_code(codes: queue.Queue, timeout: float = 5.0) -> str:
    return codes.get(timeout=timeout)


def wait_online(scanner: SerialQrScanner) -> None:
    import time
    deadline = time.monotonic() + 5
    while scanner.status != ONLINE and time.monotonic() < deadline:
        time.sleep(0.01)
    assert scanner.status == ONLINE


def test_codes_with_each_terminator_arrive_in_order(rig):
    sim, scanner, codes = rig
    wait_online(scanner)
    sim.scan(CODE)                              # CR LF
    sim.scan("second", terminator=b"\r")
    sim.scan("third", terminator=b"\n")
    sim.scan("社保卡编码123", encoding="gb18030")  # a module in GBK mode
    assert [next_code(codes) for _ in range(4)] == [CODE, "second", "third", "社保卡编码123"]


def test_code_split_across_writes_is_joined(rig):
    sim, scanner, codes = rig
    wait_online(scanner)
    sim.send(CODE[:20].encode())
    sim.send(CODE[20:].encode())
    sim.send(b"\r\n")
    assert next_code(codes) == CODE
    assert codes.empty()


def test_noise_without_line_end_is_dropped_and_next_code_still_reads():
    sim = QrScannerSimulator()
    codes: queue.Queue[str] = queue.Queue()
    scanner = SerialQrScanner(sim.port, when_code=codes.put, max_length=64)
    with sim, scanner:
        wait_online(scanner)
        sim.send(os.urandom(40).replace(b"\r", b"").replace(b"\n", b"") * 5)
        sim.send(b"\r\n\r\n")
        sim.scan("after-noise")
        assert next_code(codes) == "after-noise"
        assert codes.empty()


def test_close_is_idempotent_and_missing_port_is_offline(tmp_path):
    scanner = SerialQrScanner(str(tmp_path / "ttyNONE"), reopen_delay=0.05)
    statuses = []
    scanner.when_status = statuses.append
    scanner.start()
    import time
    deadline = time.monotonic() + 5
    while scanner.status != OFFLINE and time.monotonic() < deadline:
        time.sleep(0.01)
    assert scanner.status == OFFLINE
    scanner.close()
    scanner.close()
    assert statuses[0] == OFFLINE and statuses[-1] == "closed"


def test_line_splitter():
    s = LineSplitter(max_length=5)
    assert s.feed(b"ab\r\ncd\n\nef") == [b"ab", b"cd"]
    assert s.feed(b"\rTOOLONGXX") == [b"ef"]
    assert s.feed(b"Z\r\nok\n") == [b"ok"]
