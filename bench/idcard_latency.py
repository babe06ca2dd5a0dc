"""ID-card reader: time from "card placed" to "person record available".

Runs the real driver (IdCardReader) against the simulator over a real pty at
the configured baud rate, 20 placements per mode, and prints medians next to
two baselines measured/computed in the same run:

* wire  - theoretical time of the same bytes on a real 8N1 line:
          bits = bytes * 10, seconds = bits / baud;
* pty   - a bare pty moving the same bytes with no driver (median of 20).

Modes: "pty" (simulator answers at pty speed) and "paced" (simulator paces
its output at the baud rate, like a real UART). Two intervals are reported:
insert->record (includes waiting for the next find-card poll, on average
half the poll interval) and placed->record (select + read + parse, after the
driver saw the card).

    /work/venv/bin/python bench/idcard_latency.py [--n 20] [--poll 0.5] [--baud 115200]
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import select
import statistics
import sys
import time
import tty
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.hardware import idcard_protocol as p  # noqa: E402
from kiosk.hardware.idcard_reader import IdCardReader  # noqa: E402
from kiosk.hardware.idcard_sim import SYNTHETIC_RESIDENTS, IdCardSimulator  # noqa: E402
from kiosk.hardware.idcard_text import encode_text  # noqa: E402


def exchange_bytes() -> tuple[int, int]:
    """(bytes for find+select+read, bytes for select+read) including both directions."""
    rec = SYNTHETIC_RESIDENTS[1]
    find = len(p.command_frame(p.CMD_FIND_CARD)) + len(p.response_frame(p.SW_FIND_OK, bytes(4)))
    sel = len(p.command_frame(p.CMD_SELECT_CARD)) + len(p.response_frame(p.SW_OK, bytes(8)))
    read = len(p.command_frame(p.CMD_READ_TEXT_PHOTO)) + len(
        p.response_frame(p.SW_OK, p.encode_read_data(encode_text(rec), rec.photo)))
    return find + sel + read, sel + read


def bare_pty_baseline(nbytes: int, n: int) -> float:
    """Median time to move ``nbytes`` through a raw pty and read them all back."""
    master, slave = os.openpty()
    tty.setraw(slave)
    payload = bytes(range(256)) * (nbytes // 256 + 1)
    payload = payload[:nbytes]
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            os.write(master, payload)
            got = 0
            while got < nbytes:
                select.select([slave], [], [], 1.0)
                got += len(os.read(slave, 4096))
            times.append(time.perf_counter() - t0)
    finally:
        os.close(master)
        os.close(slave)
    return statistics.median(times)


def run_mode(pace: bool, n: int, poll: float, baud: int) -> tuple[float, float]:
    events: queue.Queue = queue.Queue()
    with IdCardSimulator(baudrate=baud, pace=pace) as sim:
        reader = IdCardReader(sim.port, baudrate=baud, poll_interval=poll, timeout=2.0)
        reader.when_card_placed = lambda: events.put(("placed", time.perf_counter()))
        reader.when_card_read = lambda rec: events.put(("read", time.perf_counter()))
        reader.when_card_removed = lambda: events.put(("removed", time.perf_counter()))
        reader.when_error = lambda err: events.put(("error", err))

        def wait(kind: str) -> float:
            while True:
                k, v = events.get(timeout=30)
                if k == "error":
                    raise SystemExit(f"reader error during bench: {v!r}")
                if k == kind:
                    return v

        insert_to_record, placed_to_record = [], []
        rng = random.Random(20)   # place cards at random phases of the poll cycle, as people do
        with reader:
            while reader.status != "online":
                time.sleep(0.01)
            for i in range(n):
                time.sleep(rng.uniform(0, poll))
                t0 = time.perf_counter()
                sim.insert(i % len(SYNTHETIC_RESIDENTS))
                t1 = wait("placed")
                t2 = wait("read")
                insert_to_record.append(t2 - t0)
                placed_to_record.append(t2 - t1)
                sim.remove()
                wait("removed")
    return statistics.median(insert_to_record), statistics.median(placed_to_record)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--poll", type=float, default=0.5, help="poll interval (config default 0.5 s)")
    ap.add_argument("--baud", type=int, default=115200)
    args = ap.parse_args()

    total, after_placed = exchange_bytes()
    wire_total = total * 10 / args.baud
    wire_after = after_placed * 10 / args.baud
    pty_total = bare_pty_baseline(total, args.n)
    pty_after = bare_pty_baseline(after_placed, args.n)

    print(f"ID-card reader latency, {args.n} placements per mode, {args.baud} baud, "
          f"poll interval {args.poll:.2f} s")
    print(f"bytes on the wire: find+select+read {total} B, select+read {after_placed} B")
    print(f"baseline wire time (bytes*10/baud): find+select+read {wire_total * 1000:7.1f} ms, "
          f"select+read {wire_after * 1000:7.1f} ms")
    print(f"baseline bare pty (median):         find+select+read {pty_total * 1000:7.3f} ms, "
          f"select+read {pty_after * 1000:7.3f} ms")
    print()
    print(f"{'mode':<7} {'metric':<18} {'median ms':>10} {'x wire':>8} {'x bare pty':>11}")  # ratio = median / baseline
    for mode, pace in (("pty", False), ("paced", True)):
        ins, placed = run_mode(pace, args.n, args.poll, args.baud)
        print(f"{mode:<7} {'insert->record':<18} {ins * 1000:10.1f} {ins / wire_total:8.3f} "
              f"{ins / pty_total:11.1f}")
        print(f"{mode:<7} {'placed->record':<18} {placed * 1000:10.2f} {placed / wire_after:8.3f} "
              f"{placed / pty_after:11.1f}")
    print()
    print("insert->record includes the wait for the next find-card poll (about half the poll interval "
          "on average); real SAM readers add RF/SAM time the simulator does not model.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
