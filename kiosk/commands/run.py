"""``kiosk run``: the kiosk itself, full screen."""

from __future__ import annotations

import argparse

from kiosk.core import config as config_mod


def register(sub, groups) -> None:
    p = sub.add_parser("run", help="start the kiosk (full screen; simulated devices on the shipped config)")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen (development)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = config_mod.load(args.config)
    from kiosk.runner import start_kiosk

    return start_kiosk(cfg, fullscreen=False if args.windowed else None)
