"""``kiosk snapshot SCREEN OUT.png``: render one screen to a PNG."""

from __future__ import annotations

import argparse
import os
import re
import shutil
from pathlib import Path

from kiosk.core import config as config_mod
from kiosk.core.errors import ConfigError

SCREENS_HELP = ("attract | menu | menu-logged-in | category:<jobs|skills|insurance|card> | item:<1-40> | "
                "search | disclosure | disclosure:<item no>")


def register(sub, groups) -> None:
    p = sub.add_parser("snapshot", help="render a screen to a PNG (starts a virtual display if needed)")
    p.add_argument("screen", help=SCREENS_HELP)
    p.add_argument("out", help="output PNG path")
    p.add_argument("--elder", action="store_true", help="render in elder mode (large type)")
    p.set_defaults(func=snapshot)


def parse_screen(spec: str) -> tuple[str, dict]:
    if spec in ("attract", "menu", "menu-logged-in", "search"):
        return spec, {}
    if spec == "disclosure":
        return "disclosure", {"path": ()}
    m = re.fullmatch(r"disclosure:([\w-]+)", spec)
    if m:
        return "disclosure_item", {"item_no": m.group(1)}
    m = re.fullmatch(r"category:(\w+)", spec)
    if m:
        return "items", {"category_id": m.group(1)}
    m = re.fullmatch(r"item:(\d+)", spec)
    if m:
        return "guide", {"item_no": int(m.group(1))}
    raise ConfigError(f"unknown screen {spec!r}; use {SCREENS_HELP}")


def snapshot_script(spec: str, out: Path, elder: bool):
    name, params = parse_screen(spec)

    def script(app):
        yield 0.2
        if elder:
            app.toggle_elder()
        if name == "menu-logged-in":
            app.devices.sim_insert("idcard", 0)
            yield lambda: app.sm.current == "menu"
        elif name != "attract":
            app.go(name, **params)
        yield 1.5  # let layout, textures and the camera preview settle
        from kivy.core.window import Window

        written = Window.screenshot(name=str(out.with_suffix("")) + "%(counter)04d.png")
        shutil.move(written, out)
        print(f"wrote {out}")

    return script


def snapshot(args: argparse.Namespace) -> int:
    cfg = config_mod.load(args.config)
    cfg["ui"]["fullscreen"] = False
    cfg["fleet"]["enabled"] = False  # a screenshot run is not a kiosk: it must not report to (or start) a broker
    parse_screen(args.screen)  # fail fast on a bad name, before a window opens
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    from kiosk.runner import start_kiosk

    os.environ.setdefault("KIOSK_SNAPSHOT", "1")
    return start_kiosk(cfg, fullscreen=False, script=snapshot_script(args.screen, out, args.elder))
