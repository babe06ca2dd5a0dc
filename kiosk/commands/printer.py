"""``kiosk sim printer`` and ``kiosk receipt render|sample``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from kiosk.commands.stdin_lines import stdin_lines, take_ctrl_c
from kiosk.core.errors import DeviceError


def register(sub, groups) -> None:
    p = groups["sim"].add_parser("printer", help="ESC/POS receipt printer on TCP and/or a pty")
    p.add_argument("--tcp", type=int, default=None, metavar="PORT",
                   help="listen on 127.0.0.1:PORT (9100 like a network printer, 0 for any free port)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--pty", action="store_true", help="also open a pty (a serial printer)")
    p.add_argument("--state", default="ok", help="ok, near_end, paper_out, cover_open or silent")
    p.add_argument("--out", default="var/printer-jobs", help="folder for job-NNNN.bin files")
    p.set_defaults(func=_sim)

    r = sub.add_parser("receipt", help="receipt tools")
    rs = r.add_subparsers(dest="receipt_command", metavar="ACTION", required=True)
    rr = rs.add_parser("render", help="draw a print job as PNG and print its decoded lines")
    rr.add_argument("job", help="job bytes (e.g. var/printer-jobs/job-0001.bin)")
    rr.add_argument("png", help="output PNG")
    rr.add_argument("--width", type=int, choices=(58, 80), default=None, help="paper mm (default: guess)")
    rr.set_defaults(func=_render)
    sp = rs.add_parser("sample", help="write the job bytes of a sample receipt")
    sp.add_argument("out", help="output .bin")
    sp.add_argument("--kind", default="acceptance", choices=("acceptance", "enquiry", "checklist", "certification"))
    sp.add_argument("--width", type=int, choices=(58, 80), default=80)
    sp.add_argument("--text-mode", choices=("escpos", "raster"), default="escpos")
    sp.add_argument("--qr-mode", choices=("native", "image"), default="native")
    sp.set_defaults(func=_sample)


def _sim(args: argparse.Namespace) -> int:
    take_ctrl_c()
    from kiosk.hardware.printer_sim import STATES, PrinterSimulator

    if args.state not in STATES:
        raise DeviceError(f"--state must be one of {STATES}")
    tcp = args.tcp if args.tcp is not None else (None if args.pty else 9100)
    sim = PrinterSimulator(out_dir=args.out, tcp_port=tcp, pty=args.pty, state=args.state, host=args.host)
    sim.start()
    if sim.tcp_port is not None:
        print(f"tcp {args.host}:{sim.tcp_port}", flush=True)
    if sim.pty_path:
        print(f"pty {sim.pty_path}", flush=True)
    print(f"jobs -> {Path(args.out).resolve()}", flush=True)
    print(f"type a state ({', '.join(STATES)}) and Enter to switch; Ctrl-C to stop", flush=True)
    sim.when_job = lambda i, job: print(f"job {i}: {len(job)} bytes", flush=True)
    stop = threading.Event()

    def _terminate(*_):
        stop.set()
        raise SystemExit(0)   # also breaks out of a blocking stdin read

    signal.signal(signal.SIGTERM, _terminate)
    try:
        if sys.stdin is not None and sys.stdin.isatty():
            for line in stdin_lines():
                s = line.strip()
                if s in STATES:
                    sim.set_state(s)
                    print(f"state {s}", flush=True)
                elif s:
                    print(f"unknown state {s!r}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sim.close()
    return 0


def _render(args: argparse.Namespace) -> int:
    from kiosk.hardware.escpos_commands import paper
    from kiosk.core.bounded import read_regular
    from kiosk.hardware.escpos_render import MAX_JOB_BYTES, decode, decoded_lines, guess_width, render_png

    try:
        job = read_regular(args.job, MAX_JOB_BYTES)
    except OSError as exc:
        raise DeviceError(f"cannot read job file {args.job}: {exc.strerror or exc}") from None
    elements = decode(job)
    dots = paper(args.width).dots if args.width else guess_width(elements)
    render_png(elements, dots, args.png)
    for line in decoded_lines(elements):
        print(line)
    return 0


def _sample(args: argparse.Namespace) -> int:
    from kiosk.receipts import render_receipt
    from kiosk.receipts.samples import sample_receipt

    job = render_receipt(sample_receipt(args.kind), args.width, args.text_mode, args.qr_mode)
    Path(args.out).write_bytes(job)
    print(f"{args.out}: {len(job)} bytes")
    return 0
