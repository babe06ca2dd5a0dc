"""``kiosk flow``: run one service flow without a window (technicians, scripted checks).

    kiosk flow list [--json]
    kiosk flow rules [--item N] [--json]
    kiosk flow run ITEM --resident ID_NUMBER [--answers FILE.json|FILE.toml] [--receipt OUT.bin]
                   [--outbox PATH] [--platform URL]

``run`` talks to the configured platform (starting the simulator when the URL
is the local default and silent), prints every step as one JSON line (ID
numbers masked) and finally ``{"outcome": ...}``. Exit status: 0 done,
1 the resident does not qualify (the refusal reason is printed), 2 the answers
are incomplete or invalid, 3 a platform or storage error.

The answers file holds form values by field name, plus optional
``photo`` (path of a JPEG, item 21), ``filters`` ({"township", "type",
"min_pay"}, items 3/6/9) and ``page`` (a result page to show).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from kiosk.core.errors import ConfigError


def register(sub, groups) -> None:
    p = sub.add_parser("flow", help="run a service flow without a window (list, run)")
    cmds = p.add_subparsers(dest="flow_command", metavar="COMMAND", required=True)
    lp = cmds.add_parser("list", help="the 40 items and what each does on the kiosk")
    lp.add_argument("--json", action="store_true")
    lp.set_defaults(func=_list)
    tp = cmds.add_parser("rules", help="the rule table: every guide condition, how it is decided, the seed sentence")
    tp.add_argument("--item", type=int, metavar="N", help="only item N")
    tp.add_argument("--json", action="store_true")
    tp.set_defaults(func=_rules)
    rp = cmds.add_parser("run", help="drive one item's flow and print each step as JSON lines")
    rp.add_argument("item", type=int, metavar="ITEM")
    rp.add_argument("--resident", required=True, metavar="ID_NUMBER")
    rp.add_argument("--answers", metavar="FILE", help="form answers (JSON or TOML)")
    rp.add_argument("--receipt", metavar="FILE", help="write the receipt's ESC/POS bytes here")
    rp.add_argument("--outbox", metavar="PATH", help="outbox database (default: STORAGE_DIR/outbox.json)")
    rp.add_argument("--platform", metavar="URL", help="platform URL (default: [platform] url)")
    rp.set_defaults(func=_run)


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _list(args: argparse.Namespace) -> int:
    from kiosk.flows.catalog import load_catalog
    from kiosk.flows.driver import describe_item

    rows = [describe_item(item) for item in load_catalog().items]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for r in rows:
        print(f"{r['no']:>2}  {r['mode']:<11} {r['receipt']:<13} {r['name']}  —  {r['does_zh']}")
    return 0


def _rules(args: argparse.Namespace) -> int:
    from kiosk.flows.catalog import load_catalog
    from kiosk.flows.rules import decided_by

    catalog = load_catalog()
    items = catalog.items
    if args.item is not None:
        if args.item not in {i.no for i in items}:
            print(f"no item {args.item} (items are 1-{len(items)})", file=sys.stderr)
            return 2
        items = tuple(i for i in items if i.no == args.item)
    rows = [{"item": it.no, "name": it.name, "decided_by": decided_by(r), **r.to_dict()} for it in items for r in it.rules]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for it in items:
        print(f"{it.no:>2} {it.name}")
        mine = [r for r in rows if r["item"] == it.no]
        if not mine:
            print("     (no conditions: anyone may use it)")
        for r in mine:
            value = r["value"] if not isinstance(r["value"], list) else ",".join(r["value"])
            how = r["rule"] + ("" if r["value"] is True else f"={value}") + (f" [{r['scheme']}]" if "scheme" in r else "") \
                + (f" (of {r['applies_to']})" if "applies_to" in r else "")
            print(f"   - {r['condition_zh']}  <{r['decided_by']}: {how}>")
            print(f"     「{r['quote']}」 {r['source']}")
            if r.get("why"):
                print(f"     why not decided here: {r['why']}")
    return 0


MAX_ANSWERS_BYTES = 256 * 1024   # a few form values; anything larger is not an answers file


def load_answers(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    from kiosk.core.bounded import read_regular

    p = Path(path)
    try:
        text = read_regular(p, MAX_ANSWERS_BYTES).decode("utf-8")
        data = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    except OSError as exc:
        raise ConfigError(f"answers file {path}: {exc.strerror or exc}", "答案文件无法读取。") from None
    except RecursionError:
        raise ConfigError(f"answers file {path}: nested too deeply", "答案文件无法读取。") from None
    except ValueError as exc:  # JSON, TOML and UTF-8 errors
        raise ConfigError(f"answers file {path}: {str(exc)[:200]}", "答案文件无法读取。") from None
    if not isinstance(data, dict):
        raise ConfigError(f"answers file {path}: expected an object")
    return data


def _invalid_answers(exc: ConfigError) -> int:
    _emit({"error": "invalid_answers", "message_zh": exc.message_zh, "detail": str(exc)})
    print(f"kiosk flow run: {exc}", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace) -> int:
    from kiosk.core import config as kconfig
    from kiosk.flows.catalog import load_catalog
    from kiosk.flows.driver import drive
    from kiosk.flows.site import Site
    from kiosk.core.idnumber import id_problem, mask_id, normalize
    from kiosk.core.person import Person
    from kiosk.platform.http_client import HttpPlatform
    from kiosk.platform.simulator.launcher import ensure_simulator
    from kiosk.platform.outbox import Outbox

    cfg = kconfig.load(getattr(args, "config", None))
    item = load_catalog().by_no(args.item)
    resident = normalize(args.resident)
    if id_problem(resident):
        _emit({"error": "invalid_id_number", "message_zh": "身份证号码有误，请核对。", "resident": mask_id(resident)})
        return 2
    try:
        answers = load_answers(args.answers)
    except ConfigError as exc:
        return _invalid_answers(exc)
    settings = cfg.settings
    pc = settings.platform
    url = args.platform or pc.url
    handle = None
    if pc.start_simulator and not args.platform:
        handle = ensure_simulator(url, pc.simulator_seed, device_secret=pc.device_secret)
    site = Site.from_settings(settings.site)
    platform = HttpPlatform(url, site.device_id, pc.device_secret, pc.connect_timeout, pc.read_timeout)
    outbox_path = Path(args.outbox) if args.outbox else settings.storage.dir / "outbox.json"
    outbox_path.parent.mkdir(parents=True, exist_ok=True)
    outbox = Outbox(outbox_path, platform, duplicate_window=settings.storage.duplicate_window_hours * 3600)
    try:
        person = Person(resident, "", "cli")
        try:
            code, final = drive(item, person, platform, outbox, site, answers,
                                emit=lambda s: _emit({"step": s.to_dict()}))
        except ConfigError as exc:  # an unreadable photo file, filters or page of the wrong shape
            return _invalid_answers(exc)
        result: dict[str, Any] = {"outcome": final.outcome, "reference": final.reference, "item": item.no,
                                  "resident": mask_id(resident), "message_zh": final.message_zh}
        if final.receipt is not None:
            from kiosk.hardware.escpos_render import decode, decoded_lines
            from kiosk.receipts import render_receipt

            job = render_receipt(final.receipt)
            result["receipt_lines"] = [ln for ln in decoded_lines(decode(job)) if ln.strip()]
            if args.receipt:
                Path(args.receipt).write_bytes(job)
        _emit(result)
        if code == 1:
            print(f"不符合办理条件：{final.message_zh}", file=sys.stderr)
        return code
    finally:
        outbox.close()
        platform.close()
        if handle is not None:
            handle.stop()
