"""``kiosk sim sscard``: a virtual social-security card in a vpcd reader.

Starts pcscd if needed, inserts the card and then takes commands on stdin:
``insert``, ``remove``, ``holder N``, ``fault X`` (or ``fault none``),
``list``, ``status``, ``quit``. Without a terminal on stdin it keeps the card
in until it is stopped (SIGINT/SIGTERM).
"""

from __future__ import annotations

import signal
import sys
import threading

from kiosk.commands.stdin_lines import stdin_lines, take_ctrl_c
from kiosk.core.errors import DeviceError
from kiosk.hardware.sscard_sim import FAULTS, SYNTHETIC_HOLDERS, VirtualSsCard, check_fault, describe_holder


def register(sub, groups) -> None:
    p = groups["sim"].add_parser("sscard", help="virtual social-security card in a vpcd reader (pcscd)")
    p.add_argument("--holder", type=int, default=0,
                   help=f"synthetic holder 0..{len(SYNTHETIC_HOLDERS) - 1} (5 has an expired card)")
    p.add_argument("--fault", default=None,
                   help=f"one of {', '.join(FAULTS)}, or status_XXXX for any status word")
    p.add_argument("--port", type=int, default=None,
                   help="vpcd port (35963 = 'Virtual PCD 00 00', 35964 = '... 00 01'); default: first free")
    p.add_argument("--removed", action="store_true", help="start with the card out of the reader")
    p.add_argument("--list", action="store_true", help="list the synthetic holders and exit")
    p.set_defaults(func=run)


def _holder(index: int):
    if not 0 <= index < len(SYNTHETIC_HOLDERS):
        raise DeviceError(f"no synthetic holder {index} (0..{len(SYNTHETIC_HOLDERS) - 1})")
    return SYNTHETIC_HOLDERS[index]


def run(args) -> int:
    take_ctrl_c()
    if args.list:
        for i, h in enumerate(SYNTHETIC_HOLDERS):
            print(describe_holder(i, h))
        return 0
    from kiosk.hardware.pcsc_stack import ensure_pcscd

    try:
        fault = check_fault(args.fault)
    except ValueError as exc:
        raise DeviceError(str(exc)) from None
    holder = _holder(args.holder)
    ensure_pcscd()
    if args.port is None:
        card = VirtualSsCard.on_free_slot(holder, timeout=30, fault=fault)
    else:
        card = VirtualSsCard(holder, port=args.port, fault=fault)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if not args.removed:
            card.insert()
        print(f"virtual social-security card for holder {args.holder} in reader "
              f"'{card.reader}' (vpcd port {card.port}), "
              f"{'inserted' if card.inserted else 'removed'}, fault={card.fault or 'none'}", flush=True)
        if sys.stdin is None or not sys.stdin.isatty() and _stdin_is_empty():
            _wait(stop)
            return 0
        print("commands: insert | remove | holder N | fault X|none | list | status | quit", flush=True)
        for line in stdin_lines():
            if stop.is_set():
                break
            if not _command(card, line.split()):
                break
        else:
            _wait(stop)  # stdin closed: keep serving until stopped
        return 0
    finally:
        card.close()


def _wait(stop: threading.Event) -> None:
    while not stop.wait(0.5):  # short waits so signal handlers run promptly
        pass


def _stdin_is_empty() -> bool:
    """True when stdin is /dev/null (run in the background)."""
    import os
    import stat

    try:
        st = os.fstat(sys.stdin.fileno())
    except (OSError, ValueError):
        return True
    return stat.S_ISCHR(st.st_mode) and os.path.realpath("/dev/null") == os.path.realpath(f"/proc/self/fd/{sys.stdin.fileno()}")


def _command(card: VirtualSsCard, words: list[str]) -> bool:
    """Run one stdin command; False to quit."""
    if not words:
        return True
    cmd, rest = words[0].lower(), words[1:]
    try:
        if cmd in ("quit", "exit", "q"):
            return False
        if cmd == "insert":
            card.insert()
            print("inserted", flush=True)
        elif cmd == "remove":
            card.remove()
            print("removed", flush=True)
        elif cmd == "holder" and rest:
            card.holder = _holder(int(rest[0]))
            print(f"holder {rest[0]} (takes effect on the next read; remove and insert)", flush=True)
        elif cmd == "fault" and rest:
            card.fault = rest[0]
            print(f"fault={card.fault or 'none'}", flush=True)
        elif cmd == "list":
            for i, h in enumerate(SYNTHETIC_HOLDERS):
                print(describe_holder(i, h), flush=True)
        elif cmd == "status":
            print(f"{'inserted' if card.inserted else 'removed'} in '{card.reader}' "
                  f"port {card.port} fault={card.fault or 'none'}", flush=True)
        else:
            print(f"unknown command {' '.join(words)!r}", flush=True)
    except (ValueError, DeviceError) as exc:
        print(f"error: {exc}", flush=True)
    return True
