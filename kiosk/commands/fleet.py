"""``kiosk fleet``: the county technician's tools over the fleet broker (docs/fleet.md).

    kiosk fleet status   --broker URL [--county NAME] [--json]
    kiosk fleet cmd      --broker URL DEVICE_ID ACTION [KEY=VALUE ...] [--wait S]
    kiosk fleet config   --broker URL DEVICE_ID KEY=VALUE ... [--rev N]
    kiosk fleet simulate --broker URL --count N [--prefix ID]
    kiosk fleet console  --broker URL [--port P]
    kiosk fleet keygen   [--out FILE] [--pub FILE]
    kiosk fleet sign-release ARCHIVE --version V --url https://... [--key FILE]
    kiosk fleet sign-bundle FILE --kind catalog|disclosure|voice --version V [--key FILE]

``--broker`` defaults to ``[fleet] broker`` of the kiosk config, so on the
demo ``kiosk fleet status`` alone shows the demo kiosk. Exit codes: 0 ok,
1 error, 2 the kiosk refused or failed the command, 3 no ack in time.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from kiosk import ROOT
from kiosk.core import config as config_mod
from kiosk.fleet.guard import ACTIONS

DEFAULT_KEY = "var/fleet/operator.key"


def _link_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--broker", help="mqtt://host:port or mqtts://host:port (default: [fleet] broker)")
    p.add_argument("--username", default="")
    p.add_argument("--password", default="")
    p.add_argument("--ca", default="", help="CA file for mqtts")
    p.add_argument("--cert", default="", help="client certificate for mqtts")
    p.add_argument("--keyfile", default="", help="client certificate key")


def register(sub, groups) -> None:
    p = sub.add_parser("fleet", help="see and service the kiosks over the fleet broker")
    fs = p.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)

    s = fs.add_parser("status", help="every kiosk: online/offline, paper, devices, outbox, version; problems first")
    _link_args(s)
    s.add_argument("--county")
    s.add_argument("--json", action="store_true", help="a JSON array of objects (device_id, online, problems, ...)")
    s.add_argument("--settle", type=float, default=0.5, help="seconds without new messages before printing")
    s.set_defaults(func=status)

    c = fs.add_parser("cmd", help="send a signed command and print the kiosk's ack as JSON")
    _link_args(c)
    c.add_argument("device_id")
    c.add_argument("action", choices=ACTIONS)  # what the kiosk accepts (kiosk.fleet.guard)
    c.add_argument("args", nargs="*", help="KEY=VALUE (values parsed as JSON when possible), e.g. n=50, "
                                          "key=ui.idle_timeout value=90")
    c.add_argument("--county", help="default: looked up from the kiosk's retained state")
    c.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the ack")
    c.add_argument("--ttl", type=float, default=600.0, help="seconds until the command expires")
    c.add_argument("--key", default=DEFAULT_KEY, help="operator private key (kiosk fleet keygen)")
    c.add_argument("--manifest", help="a JSON file whose object is the command's args (kiosk fleet sign-release)")
    c.set_defaults(func=cmd)

    r = fs.add_parser("sign-release", help="print the signed manifest of a release archive (for `cmd ... update`)")
    r.add_argument("archive", help="the release's .tar.gz, as the kiosks will download it")
    r.add_argument("--version", required=True)
    r.add_argument("--url", required=True, help="https:// address the kiosks download the archive from")
    r.add_argument("--key", default=DEFAULT_KEY, help="operator private key (kiosk fleet keygen)")
    r.set_defaults(func=sign_release)

    b = fs.add_parser("sign-bundle", help="print the signed manifest of a data bundle (for `cmd ... update_bundle`)")
    b.add_argument("file", help="the bundle as the kiosks will download it from [fleet] bundle_url")
    b.add_argument("--kind", required=True, choices=("catalog", "disclosure", "voice"))
    b.add_argument("--version", required=True)
    b.add_argument("--key", default=DEFAULT_KEY, help="operator private key (kiosk fleet keygen)")
    b.set_defaults(func=sign_bundle)

    g = fs.add_parser("config", help="publish the desired configuration of a kiosk (retained, signed)")
    _link_args(g)
    g.add_argument("device_id")
    g.add_argument("settings", nargs="+", help="KEY=VALUE, e.g. ui.idle_timeout=90")
    g.add_argument("--county")
    g.add_argument("--rev", type=int, default=None, help="revision number (default: current time)")
    g.add_argument("--key", default=DEFAULT_KEY)
    g.set_defaults(func=config_cmd)

    m = fs.add_parser("simulate", help="N simulated kiosks in one process (same client code), until killed")
    _link_args(m)
    m.add_argument("--count", type=int, required=True)
    m.add_argument("--prefix", default="SIM")
    m.add_argument("--counties", default="临县,兴县,方山县", help="comma-separated; kiosks are spread over them")
    m.add_argument("--health-interval", type=float, default=60.0)
    m.add_argument("--reconnect-max", type=float, default=300.0)
    m.add_argument("--no-jitter", action="store_true", help="reconnect without random jitter (benchmark baseline)")
    m.add_argument("--ramp", type=float, default=None, help="spread the first connects over S seconds")
    m.add_argument("--keys", default=None, help="operator public keys (default: [fleet] operator_keys)")
    m.set_defaults(func=simulate)

    w = fs.add_parser("console", help="the fleet table in a browser, live, with history and command buttons")
    _link_args(w)
    w.add_argument("--county")
    w.add_argument("--host", default="127.0.0.1", help="address to serve on (default loopback only)")
    w.add_argument("--port", type=int, default=8780)
    w.add_argument("--key", default=DEFAULT_KEY, help="operator private key for the command buttons")
    w.add_argument("--state-dir", default="var/fleet-console",
                   help="where the 24-h health history is kept (SQLite; survives a restart)")
    w.add_argument("--history-bucket", type=int, default=60, help=argparse.SUPPRESS)  # seconds per row (tests)
    w.set_defaults(func=console)

    k = fs.add_parser("keygen", help="make an operator Ed25519 key pair; the public key goes to the kiosks")
    k.add_argument("--out", default=DEFAULT_KEY, help="private key file (mode 0600)")
    k.add_argument("--pub", default=None, help="public-key file to append to (default: [fleet] operator_keys)")
    k.add_argument("--name", default="operator", help="a label after the key in the public-key file")
    k.add_argument("--force", action="store_true", help="replace an existing private key")
    k.set_defaults(func=keygen)


def _resolve(p: str) -> Path:
    path = Path(p)
    return path if path.is_absolute() else ROOT / path


def _link(args: argparse.Namespace):
    from kiosk.fleet.link import parse_url

    url = args.broker
    if not url:
        url = config_mod.load(args.config)["fleet"]["broker"]
    return parse_url(url, username=args.username, password=args.password, ca_file=args.ca, cert_file=args.cert,
                     key_file=args.keyfile)


def _kv(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"kiosk fleet: expected KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


def status(args: argparse.Namespace) -> int:
    from kiosk.fleet.status import collect, format_table

    link = _link(args)
    try:
        view = collect(link, args.county, settle=args.settle)
    except (OSError, ConnectionError) as exc:
        print(f"kiosk fleet: cannot read the fleet from {link.url}: {exc}", file=sys.stderr)
        return 1
    rows = view.rows(args.county)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        print(format_table(rows) if rows else f"no kiosks seen at {link.url}")
    return 0


def _county(args: argparse.Namespace, link) -> str | None:
    if args.county:
        return args.county
    from kiosk.fleet.operator import find_county

    county = find_county(link, args.device_id)
    if county is None:
        print(f"kiosk fleet: {args.device_id} has never reported to {link.url}; give --county", file=sys.stderr)
    return county


def _key(path: str):
    from kiosk.fleet.signing import load_private

    p = _resolve(path)
    if not p.exists():
        print(f"kiosk fleet: no operator key at {p}; make one with `kiosk fleet keygen`", file=sys.stderr)
        return None
    return load_private(p)


def _target(args: argparse.Namespace):
    """(link, operator key, county) for a command to one kiosk; None after printing why not."""
    link = _link(args)
    key = _key(args.key)
    county = _county(args, link) if key is not None else None
    return None if county is None else (link, key, county)


def cmd(args: argparse.Namespace) -> int:
    from kiosk.fleet.operator import build_command, send

    target = _target(args)
    if target is None:
        return 1
    link, key, county = target
    cmd_args = _kv(args.args)
    if args.manifest:
        cmd_args.update(json.loads(Path(args.manifest).read_text("utf-8")))
    doc = build_command(key, args.device_id, args.action, cmd_args, ttl=args.ttl)
    try:
        ack = send(link, county, doc, wait=args.wait)
    except (OSError, ConnectionError) as exc:
        print(f"kiosk fleet: cannot reach {link.url}: {exc}", file=sys.stderr)
        return 1
    if ack is None:
        print(json.dumps({"id": doc["id"], "device_id": args.device_id, "status": "no_ack",
                          "detail": f"no acknowledgement within {args.wait:.0f}s; the kiosk may be offline. "
                                    f"The command stays valid until its expiry and runs when it reconnects."},
                         ensure_ascii=False))
        return 3
    print(json.dumps(ack, ensure_ascii=False, indent=1))
    return 0 if ack.get("status") == "ok" else 2


def sign_release(args: argparse.Namespace) -> int:
    from kiosk.fleet import release, signing

    try:
        key = signing.load_private(_resolve(args.key))
        data = Path(args.archive).read_bytes()
    except (OSError, ValueError) as exc:
        print(f"kiosk fleet: {exc}", file=sys.stderr)
        return 1
    try:
        manifest = release.make_manifest(key, args.version, args.url, data)
        release.check_manifest(manifest, {key.key_id: key.public})  # the kiosk's own checks, before sending
    except release.BundleError as exc:
        print(f"kiosk fleet: this manifest would be refused: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(manifest, ensure_ascii=False, indent=1))
    return 0


def sign_bundle(args: argparse.Namespace) -> int:
    from kiosk.fleet import bundles, signing

    try:
        key = signing.load_private(_resolve(args.key))
        path = Path(args.file)
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        print(f"kiosk fleet: {exc}", file=sys.stderr)
        return 1
    if not bundles.SAFE_NAME.match(path.name) or not bundles.SAFE_NAME.match(args.version):
        print(f"kiosk fleet: file name and version must be plain names (letters, digits, . _ -): "
              f"{path.name!r}, {args.version!r}", file=sys.stderr)
        return 2
    manifest = bundles.make_manifest(key, args.kind, args.version, path.name, data)
    print(json.dumps(manifest, ensure_ascii=False, indent=1))
    return 0


def config_cmd(args: argparse.Namespace) -> int:
    import time

    from kiosk.fleet.operator import publish_desired

    target = _target(args)
    if target is None:
        return 1
    link, key, county = target
    rev = args.rev if args.rev is not None else int(time.time())
    publish_desired(link, county, args.device_id, _kv(args.settings), rev, key)
    print(json.dumps({"device_id": args.device_id, "rev": rev, "published": True}))
    return 0


def simulate(args: argparse.Namespace) -> int:
    from kiosk.fleet.simulate import run

    keys = args.keys or str(_resolve(config_mod.load(args.config)["fleet"]["operator_keys"]))
    return run(_link(args), args.count, prefix=args.prefix, counties=[c for c in args.counties.split(",") if c],
               health_interval=args.health_interval, jitter=not args.no_jitter, reconnect_max=args.reconnect_max,
               keys_path=keys, ramp=args.ramp)


def console(args: argparse.Namespace) -> int:
    import threading

    from kiosk.fleet.console import Console

    key_path = _resolve(args.key)
    key = _key(args.key) if key_path.exists() else None
    c = Console(_link(args), key, args.county, args.host, args.port, state_dir=_resolve(args.state_dir),
                bucket=args.history_bucket).start()
    print(f"fleet console at {c.url} (Ctrl-C to stop)" + ("" if key else "; no operator key: buttons refused"),
          flush=True)

    def on_term(_sig: int, _frame: object) -> None:
        raise SystemExit(0)  # systemd's stop: write the last history batch on the way out
    signal.signal(signal.SIGTERM, on_term)
    try:
        threading.Event().wait()
    finally:
        c.stop()
    return 0


def keygen(args: argparse.Namespace) -> int:
    from kiosk.fleet import signing

    out = _resolve(args.out)
    if out.exists() and not args.force:
        print(f"kiosk fleet: {out} exists (use --force to replace it)", file=sys.stderr)
        return 1
    key = signing.generate()
    signing.save_private(key, out)
    pub = _resolve(args.pub or config_mod.load(args.config)["fleet"]["operator_keys"])
    pub.parent.mkdir(parents=True, exist_ok=True)
    line = f"{signing.public_text(key.public)} {args.name}\n"
    with open(pub, "a", encoding="utf-8") as f:
        f.write(line)
    print(f"private key: {out} (keep it with the operator; never on a kiosk)")
    print(f"public key appended to {pub}: {line.strip()}")
    return 0
