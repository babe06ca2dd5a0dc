"""``kiosk snapshot SCREEN OUT.png``: render one screen to a PNG."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

from kiosk.core import config as config_mod
from kiosk.core.errors import ConfigError

SCREENS_HELP = ("attract | menu | menu-logged-in | category:<jobs|skills|insurance|card> | item:<1-40> | "
                "search | disclosure | disclosure:<item no>")


def register(sub, groups) -> None:
    p = sub.add_parser("snapshot", help="render a screen to a PNG (starts a virtual display if needed)")
    p.add_argument("screen", nargs="?", help=SCREENS_HELP)
    p.add_argument("out", nargs="?", help="output PNG path")
    p.add_argument("--elder", action="store_true", help="render in elder mode (large type)")
    p.add_argument("--audit", action="store_true",
                   help="instead of a PNG: open every screen in both modes with long data and print layout "
                        "findings as JSON lines (docs/layout-audit.md); exit 1 on any")
    p.add_argument("--size", metavar="WxH[@INCHES]",
                   help="panel to render on, e.g. 1080x1920@32 (default: [ui] width, height, diagonal_inches)")
    p.add_argument("--mode", choices=("standard", "elder", "both"), default="both", help="modes for --audit")
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
        from kiosk.screens.layout_audit import settle

        yield 0.2
        yield lambda: app.devices.wait_started(0)  # started after the first frame: the camera preview with them
        if elder:
            app.toggle_elder()
        if name == "menu-logged-in":
            app.devices.sim_insert("idcard", 0)
            yield lambda: app.sm.current == "menu"
        elif name != "attract":
            app.go(name, **params)
        yield 1.5  # let layout, textures and the camera preview settle
        yield from settle(app)  # then until text fitting stops moving the layout
        from kivy.core.window import Window

        written = Window.screenshot(name=str(out.with_suffix("")) + "%(counter)04d.png")
        shutil.move(written, out)
        print(f"wrote {out}")

    return script


def parse_size(spec: str) -> tuple[int, int, float | None]:
    m = re.fullmatch(r"(\d+)x(\d+)(?:@(\d+(?:\.\d+)?))?", spec or "")
    if not m:
        raise ConfigError(f"bad --size {spec!r}; use WIDTHxHEIGHT or WIDTHxHEIGHT@DIAGONAL_INCHES, e.g. 1080x1920@32")
    return int(m.group(1)), int(m.group(2)), float(m.group(3)) if m.group(3) else None


def audit_script(modes: tuple[bool, ...], out=print):
    """Scenario: the layout-audit tour; prints each finding as a JSON line, counts them."""
    state = {"findings": 0, "screens": 0}

    def sink(_screen: str, findings) -> None:
        state["screens"] += 1
        for f in findings:
            state["findings"] += 1
            out(f.json())

    def script(app):
        from kiosk.screens.layout_audit import tour

        yield from tour(app, sink, modes=modes)
        app.exit_code = 1 if state["findings"] else 0
        print(f"layout audit: {state['screens']} screens on {app.panel.describe()}, "
              f"{state['findings']} findings", file=sys.stderr)

    return script


def snapshot(args: argparse.Namespace) -> int:
    cfg = config_mod.load(args.config)
    cfg.override("ui", "fullscreen", False, "snapshot")
    # a screenshot run is not a kiosk: it must not report to (or start) a broker
    cfg.override("fleet", "enabled", False, "snapshot")
    if args.size:
        w, h, diag = parse_size(args.size)
        cfg.override("ui", "width", w, "--size")  # the same range checks as the settings file
        cfg.override("ui", "height", h, "--size")
        if diag is not None:
            cfg.override("ui", "diagonal_inches", diag, "--size")
    os.environ.setdefault("KIOSK_SNAPSHOT", "1")
    from kiosk.runner import start_kiosk

    if args.audit:
        modes = {"standard": (False,), "elder": (True,), "both": (False, True)}[args.mode]
        return start_kiosk(cfg, fullscreen=False, script=audit_script(modes))
    if not args.screen or not args.out:
        raise ConfigError("snapshot needs SCREEN and OUT.png (or --audit)")
    parse_screen(args.screen)  # fail fast on a bad name, before a window opens
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    return start_kiosk(cfg, fullscreen=False, script=snapshot_script(args.screen, out, args.elder))
