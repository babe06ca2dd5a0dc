"""``kiosk platform-sim``: the provincial-platform simulator and its test helpers.

    kiosk platform-sim [--port 8765] [--seed 42] [--latency MS] [--error-rate R] [--drop-rate R] [--outage] [--state FILE]
    kiosk platform-sim residents --sample N [--qualifies ITEM | --not-qualifies ITEM] [--json]
    kiosk platform-sim issue-qr --resident ID | --staff USER [--lifetime S] [--png FILE]
    kiosk platform-sim openapi [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import sys
import time


def _world_state(seed: int, today: _dt.date | None):
    from kiosk.platform.simulator.state import SimState

    return SimState(seed, today, None, "")


def _residents(args: argparse.Namespace) -> int:
    from kiosk.platform.simulator.population import sample_residents

    state = _world_state(args.seed, args.today)
    q = args.qualifies if args.qualifies is not None else (-args.not_qualifies if args.not_qualifies is not None else None)
    rows = sample_residents(state, args.sample, q, args.offset)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for r in rows:
            print(f"{r['id_number']}  {r['name']:<4} {r['gender']} {r['age']:>3}岁 {r['county']:<4} {r['employment']:<10} "
                  f"qualifies={','.join(map(str, r['qualifies']))}")
    return 0


def _issue_qr(args: argparse.Namespace) -> int:
    from kiosk.core.idnumber import normalize
    from kiosk.platform.simulator.essc import EsscIssuer

    state = _world_state(args.seed, args.today)
    if args.staff:
        if args.staff not in state.world.staff:
            print(f"no staff account {args.staff!r}; known: {', '.join(state.world.staff)}", file=sys.stderr)
            return 1
        kind, subject = "staff", args.staff
    else:
        subject = normalize(args.resident)
        if subject not in state.world.residents:
            print("no such resident in this seed's data (see `kiosk platform-sim residents`)", file=sys.stderr)
            return 1
        kind = "resident"
    issuer = EsscIssuer(hashlib.sha256(f"essc-key-{args.seed}".encode()).digest())
    text, exp = issuer.issue(kind, subject, time.time(), args.lifetime)
    if args.png:
        import qrcode

        qrcode.make(text).save(args.png)
    print(text)
    return 0


def _openapi(args: argparse.Namespace) -> int:
    text = contract_text()
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from kiosk.platform.simulator.server import run_from_args

    return run_from_args(args)


def register(sub, groups) -> None:
    from kiosk.platform.simulator.launcher import add_arguments

    p = sub.add_parser("platform-sim", help="run the provincial-platform simulator (and its test helpers)")
    add_arguments(p)
    p.set_defaults(func=_serve)
    cmds = p.add_subparsers(dest="platform_sim_command", metavar="COMMAND")

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--seed", type=int, default=42)
        sp.add_argument("--today", type=_dt.date.fromisoformat, help="the date the data are generated for (default: today)")

    r = cmds.add_parser("residents", help="print synthetic residents with the facts a tester needs")
    common(r)
    r.add_argument("--sample", type=int, default=10, metavar="N")
    r.add_argument("--offset", type=int, default=0)
    g = r.add_mutually_exclusive_group()
    g.add_argument("--qualifies", type=int, metavar="ITEM", help="only residents who qualify for application ITEM")
    g.add_argument("--not-qualifies", type=int, metavar="ITEM", help="only residents the rules refuse for ITEM")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_residents)

    q = cmds.add_parser("issue-qr", help="issue an e-SSC QR code (signed, short-lived, single use)")
    common(q)
    who = q.add_mutually_exclusive_group(required=True)
    who.add_argument("--resident", metavar="ID")
    who.add_argument("--staff", metavar="USER")
    q.add_argument("--lifetime", type=int, default=60, help="seconds (default 60)")
    q.add_argument("--png", help="also write the QR code as an image")
    q.set_defaults(func=_issue_qr)

    o = cmds.add_parser("openapi", help="print the platform contract (OpenAPI JSON)")
    o.add_argument("--out")
    o.set_defaults(func=_openapi)


CONTRACT_PATH = "docs/platform-openapi.json"


def contract_text() -> str:
    """The contract as the committed file must read."""
    from kiosk.platform.simulator.app import openapi_document

    return json.dumps(openapi_document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main_export() -> int:
    from kiosk import ROOT

    (ROOT / CONTRACT_PATH).write_text(contract_text(), encoding="utf-8")
    print(f"wrote {CONTRACT_PATH}")
    return 0
