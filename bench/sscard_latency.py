"""Social-security card: time from "card inserted" to "record available".

Real pcscd + vpcd, the project's virtual card on a thread, the real driver.
Prints medians of 20 runs next to baselines measured in the same run:
  * raw APDU exchange: the same 16 APDUs sent with plain pyscard to a
    connected card (what the read cannot beat on this stack);
  * the same exchange with the virtual card's TCP_QUICKACK off (shows the
    40 ms/APDU Nagle + delayed-ACK stall vpcd's split writes cause);
  * the theoretical wire time of the same bytes on a real contact card at
    ISO 7816-3 default speed (9600 bit/s, 12 etu per character).

Run: python bench/sscard_latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kiosk.hardware.pcsc_stack import ensure_pcscd, wait_card_state  # noqa: E402
from kiosk.hardware.sscard_reader import SsCardReader, read_sequence  # noqa: E402
from kiosk.hardware.sscard_sim import SYNTHETIC_HOLDERS, VirtualSsCard  # noqa: E402


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.2f} ms (min {min(values) * 1000:.2f}, max {max(values) * 1000:.2f})"


def raw_exchange(card: VirtualSsCard, runs: int) -> tuple[list[float], int]:
    """Median time of the read's APDUs over a plain pyscard connection."""
    from smartcard.System import readers

    card.insert()
    assert wait_card_state(card.reader, present=True)
    conn = next(r for r in readers() if str(r) == card.reader).createConnection()
    conn.connect()
    times, nbytes = [], 0
    try:
        for _ in range(runs):
            nbytes = 0
            t0 = time.perf_counter()
            for apdu in read_sequence():
                data, sw1, sw2 = conn.transmit(list(apdu))
                nbytes += len(apdu) + len(data) + 2
            times.append(time.perf_counter() - t0)
    finally:
        conn.disconnect()
        card.remove()
        wait_card_state(card.reader, present=False)
    return times, nbytes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    ensure_pcscd()
    card = VirtualSsCard.on_free_slot(SYNTHETIC_HOLDERS[1], timeout=30)
    try:
        reader_name = card.reader
        assert wait_card_state(reader_name, present=False)
        events: queue.Queue = queue.Queue()
        reader = SsCardReader(reader_name, poll_interval=0.05)
        reader.when_card_inserted = lambda: events.put(("inserted", time.perf_counter()))
        reader.when_card_read = lambda rec: events.put(("read", time.perf_counter()))
        reader.when_card_removed = lambda: events.put(("removed", time.perf_counter()))
        reader.when_error = lambda err: events.put(("error", err))
        detect, read, total = [], [], []
        with reader:
            time.sleep(0.3)
            for _ in range(args.runs):
                t0 = time.perf_counter()
                card.insert()
                kind, t_ins = events.get(timeout=10)
                assert kind == "inserted", kind
                kind, t_read = events.get(timeout=10)
                assert kind == "read", (kind, t_read)
                detect.append(t_ins - t0)
                read.append(t_read - t_ins)
                total.append(t_read - t0)
                card.remove()
                assert events.get(timeout=10)[0] == "removed"
        raw, nbytes = raw_exchange(card, args.runs)
    finally:
        card.close()
    slow_card = VirtualSsCard.on_free_slot(SYNTHETIC_HOLDERS[1], timeout=30, quickack=False)
    try:
        raw_slow, _ = raw_exchange(slow_card, max(3, args.runs // 4))
    finally:
        slow_card.close()

    napdu = len(read_sequence())
    wire = nbytes * 12 / 9600
    print(f"sscard latency, {args.runs} runs, {napdu} APDUs / {nbytes} bytes per read, reader {reader_name!r}")
    print(f"  card inserted -> record available : {ms(read)}")
    print(f"  insert() -> card-inserted event   : {ms(detect)}   (pcscd polls vpcd every ~400 ms)")
    print(f"  insert() -> record available      : {ms(total)}")
    print("baselines (same run)")
    print(f"  raw APDU exchange, pyscard        : {ms(raw)}")
    print(f"  raw exchange, TCP_QUICKACK off    : {ms(raw_slow)}")
    print(f"  theoretical wire time, 9600 bit/s : {wire * 1000:8.2f} ms (real contact card, T=0, no procedure bytes)")
    print("ratios")
    print(f"  read / raw exchange               : {statistics.median(read) / statistics.median(raw):8.2f}x")
    print(f"  raw (QUICKACK off) / raw          : {statistics.median(raw_slow) / statistics.median(raw):8.1f}x")
    print(f"  read / theoretical wire time      : {statistics.median(read) / wire:8.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
