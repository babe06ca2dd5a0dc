"""The ``kiosk`` command.

Each subcommand lives in its own module under ``kiosk.commands`` and exposes
``register(sub, groups)``: ``sub`` is the top-level subparsers object and
``groups`` maps the shared groups ("sim", "decode") to their subparsers, so
``kiosk sim idcard`` and ``kiosk sim printer`` come from different modules.
A registered parser sets ``func=`` to a callable taking the parsed args and
returning an exit code.
"""

from __future__ import annotations

import argparse
import sys

from kiosk import logsetup
from kiosk.commands import camera, catalog, fleet, flow, idcard, platform, printer, run, selftest, snapshot, sscard
from kiosk.core.errors import KioskError

# The subcommand modules, in the order of `kiosk --help`. Plain imports: a
# missing or broken module fails loudly at start, never silently drops a command.
COMMAND_MODULES = (run, catalog, snapshot, idcard, sscard, camera, printer, platform, flow, selftest, fleet)

GROUPS = {
    "sim": "run a device simulator on a real transport",
    "decode": "decode captured device data",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Village employment & social-security kiosk")
    parser.add_argument("--config", help="path of kiosk.toml (default: $KIOSK_CONFIG or config/kiosk.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups = {}
    for name, help_text in GROUPS.items():
        gp = sub.add_parser(name, help=help_text)
        groups[name] = gp.add_subparsers(dest=f"{name}_command", metavar="DEVICE", required=True)
    for module in COMMAND_MODULES:
        module.register(sub, groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logsetup.setup(args.verbose)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KioskError as exc:
        print(f"kiosk: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `kiosk catalog | head`: the reader left; not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
