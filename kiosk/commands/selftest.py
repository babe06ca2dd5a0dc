"""``kiosk selftest [--json] [--test-page] [--only NAME ...]``: the technician self-test from a shell.

Prints one line per check (or JSON) and exits 0 when every check passed, 1
when any failed. Builds its own devices from the config (simulators on the
embedded defaults; the platform simulator when the URL is the local default).
Run it while the kiosk app is stopped for real hardware: a serial port or
camera the app holds may be busy.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata


def register(sub, groups) -> None:
    from kiosk.selftest import CHECK_NAMES

    p = sub.add_parser("selftest", help="check every device, the platform, disk and clock; non-zero exit on failure")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--test-page", action="store_true", help="also print a test page on the receipt printer")
    p.add_argument("--only", nargs="+", choices=CHECK_NAMES, metavar="CHECK",
                   help=f"run only these checks ({', '.join(CHECK_NAMES)})")
    p.set_defaults(func=_run)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_table(results) -> str:
    lines = []
    for r in results:
        mark = "OK  " if r.ok else "FAIL"
        lines.append(f"{mark} {_pad(r.name, 9)}{_pad(r.title_zh, 16)}{_pad(r.status, 9)}{r.seconds:5.2f}s  {r.detail_zh}")
        lines.append(f"{'':14}{r.detail_en}")
    bad = [r.name for r in results if not r.ok]
    lines.append("selftest: all checks passed" if not bad else f"selftest: FAILED: {', '.join(bad)}")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from kiosk.core import config
    from kiosk.selftest import all_ok, results_json, run_selftest

    from kiosk.demo_devices import DemoDevices

    cfg = config.load(args.config)
    with DemoDevices(cfg) as sims:  # serves the devices whose driver is "sim"; stopped after the run
        results = run_selftest(cfg, sims=sims, only=args.only, test_page=args.test_page)
    print(results_json(results) if args.json else format_table(results))
    sys.stdout.flush()
    return 0 if all_ok(results) else 1
