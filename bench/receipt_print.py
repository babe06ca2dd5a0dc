"""Receipt size and print-job time: text mode (GB18030 in FS & mode) against
raster mode (every line an image), through the printer simulator.

Baseline = text mode, measured in the same run. Prints bytes per receipt,
job build time, and print_job time (status before + send + status after)
over loopback TCP and over a pty, plus the wire time those bytes need on a
115200-baud serial printer (computed: 10 bits per byte). Run:
    /work/venv/bin/python bench/receipt_print.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.hardware.printer import ReceiptPrinter  # noqa: E402
from kiosk.hardware.printer_sim import PrinterSimulator  # noqa: E402
from kiosk.receipts import render_receipt  # noqa: E402
from kiosk.receipts.samples import sample_receipt  # noqa: E402

MODES = [("text", "escpos", "native"), ("raster", "raster", "image")]


def median_time(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    rows = []
    with PrinterSimulator(out_dir=None, tcp_port=0, pty=True) as sim:
        printers = {
            "tcp": ReceiptPrinter("network", f"127.0.0.1:{sim.tcp_port}", timeout=3),
            "pty": ReceiptPrinter("serial", sim.pty_path, baudrate=115200, timeout=3),
        }
        for kind in ("acceptance", "enquiry"):
            for width in (58, 80):
                r = sample_receipt(kind)
                for name, text_mode, qr_mode in MODES:
                    job = render_receipt(r, width, text_mode, qr_mode)
                    build = median_time(lambda: render_receipt(r, width, text_mode, qr_mode), args.runs)
                    times = {}
                    for tname, p in printers.items():
                        count = [0]

                        def once():
                            count[0] += 1
                            p.print_job(job, key=f"{kind}-{width}-{name}-{tname}-{count[0]}")

                        times[tname] = median_time(once, args.runs)
                        p.end_session()
                    rows.append((kind, width, name, len(job), build, times["tcp"], times["pty"], len(job) * 10 / 115200))
        for p in printers.values():
            p.close()
        printed = len(sim.jobs)
    print(f"receipt print bench: {args.runs} runs each, medians; {printed} jobs printed by the simulator")
    print(f"{'receipt':<11}{'mm':>3} {'mode':<7}{'bytes':>8}{'build ms':>10}{'tcp ms':>9}{'pty ms':>9}{'115200bd s':>12}")
    for kind, width, name, size, build, tcp, pty, wire in rows:
        print(f"{kind:<11}{width:>3} {name:<7}{size:>8}{build*1000:>10.2f}{tcp*1000:>9.2f}{pty*1000:>9.2f}{wire:>12.2f}")
    print("ratios raster/text (baseline = text mode, same receipt and width):")
    for i in range(0, len(rows), 2):
        t, ra = rows[i], rows[i + 1]
        print(f"  {t[0]:<11}{t[1]:>3} mm: bytes x{ra[3]/t[3]:.1f}, build x{ra[4]/t[4]:.1f}, "
              f"tcp print x{ra[5]/t[5]:.1f}, pty print x{ra[6]/t[6]:.1f}, serial wire x{ra[7]/t[7]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
