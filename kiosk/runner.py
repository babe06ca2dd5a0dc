"""Start the kiosk app, optionally driven by a script (snapshots, tests, benchmarks).

A script is a generator function taking the running app. It yields a number
(seconds to wait), or a callable (wait until it returns true, at most
``WAIT_LIMIT`` seconds). Steps run on the UI thread through Clock, so the
script sees and touches the real widget tree. When the script ends the app
stops; an exception in it makes ``start_kiosk`` return 1 after printing it.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import time
import traceback
from typing import Any, Callable, Generator, Iterator

from kiosk.core.config import Config
from kiosk.display import ensure_display

log = logging.getLogger("kiosk.runner")

Script = Callable[..., Generator]
WAIT_LIMIT = 20.0


def _drive(app, script: Script, outcome: dict) -> None:
    from kivy.clock import Clock

    gen: Iterator = script(app)
    state: dict[str, Any] = {"until": None, "deadline": 0.0}

    def step(_dt: float) -> None:
        try:
            if state["until"] is not None:
                if not state["until"]():
                    if time.monotonic() > state["deadline"]:
                        raise TimeoutError(f"waited {WAIT_LIMIT}s for {getattr(state['until'], '__name__', 'condition')}")
                    Clock.schedule_once(step, 0.05)
                    return
                state["until"] = None
            wait = next(gen)
        except StopIteration:
            app.stop()
            return
        except BaseException:  # a failing test step: report it and stop the app
            outcome["error"] = traceback.format_exc()
            app.stop()
            return
        if callable(wait):
            state["until"] = wait
            state["deadline"] = time.monotonic() + WAIT_LIMIT
            Clock.schedule_once(step, 0)
        else:
            Clock.schedule_once(step, float(wait or 0))

    Clock.schedule_once(step, 0.1)


def _stop_on_sigterm(app) -> None:
    """systemd stops the kiosk with SIGTERM: end the visit, close devices and the outbox cleanly."""
    import signal

    from kivy.clock import Clock

    def handler(signum, _frame) -> None:
        log.info("signal %d: stopping the kiosk", signum)
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    signal.signal(signal.SIGTERM, handler)


MMAP_THRESHOLD = 256 * 1024  # bytes: camera frames and decoder buffers are far above it


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas, as the systemd unit does with MALLOC_ARENA_MAX=2,
    and pin its mmap threshold.

    Every camera, decoder and device thread may otherwise get its own arena
    (up to 8 x cores) holding freed frame buffers: measured +190 MiB over 50
    visits with the default, +80 MiB with 2 (docs/benchmarks.md). Done here
    too so every way of starting the kiosk gets it. An explicit
    MALLOC_ARENA_MAX wins; elsewhere than glibc this does nothing.

    The threshold: glibc serves a large block with mmap (given back to the
    system on free) only until the first such block is freed, then raises its
    threshold to that block's size, so every later frame-sized buffer (1280x720
    frames, the decoder's 2x rescue image) comes from an arena and stays in the
    process once freed. A fixed threshold keeps them mmapped: -54 MiB of RSS
    after three visits (docs/benchmarks.md). MALLOC_MMAP_THRESHOLD_ set wins.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        if not os.environ.get("MALLOC_MMAP_THRESHOLD_"):
            libc.mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD (also ends the dynamic adjustment)
        if os.environ.get("MALLOC_ARENA_MAX"):
            return False
        return bool(libc.mallopt(-8, arenas))  # M_ARENA_MAX
    except (OSError, AttributeError):
        return False


def start_kiosk(cfg: Config, *, fullscreen: bool | None = None, script: Script | None = None,
                kivy_home: str | None = None) -> int:
    """Run the kiosk until it stops. Returns the process exit code."""
    t0 = time.monotonic()
    limit_malloc_arenas()
    # On a watchdog abort (SIGABRT from systemd) every thread's stack goes to the journal.
    faulthandler.enable(file=sys.__stderr__ or sys.stderr)  # Kivy may have wrapped sys.stderr
    ui = cfg.settings.ui
    display = ensure_display(ui.width, ui.height)
    try:
        from kiosk import kivy_setup

        kivy_setup.prepare(fullscreen=ui.fullscreen if fullscreen is None else fullscreen,
                           kiosk_mode=ui.kiosk_mode, width=ui.width, height=ui.height,
                           kivy_home=kivy_home or os.environ.get("KIVY_HOME"))
        kivy_setup.register_fonts()
        from kiosk.fleet.bundle_kinds import activate_all

        # Catalog, disclosure and voice bundles from the fleet when active (each falls back if it does not load).
        catalog, bundle_versions = activate_all(cfg)
        from kiosk.app import KioskApp

        def services() -> tuple[Any, Any]:
            """The platform link and the fleet agent: made after the attract screen's first frame
            (httpx, the outbox, MQTT: ~0.15 s of CPU the first frame does not need)."""
            from kiosk.backend import Backend

            fleet = None
            if cfg.settings.fleet.enabled:
                from kiosk.fleet.agent import FleetAgent

                fleet = FleetAgent(cfg)
                fleet.bundle_versions = bundle_versions
            return Backend(cfg), fleet

        app = KioskApp(cfg, catalog, services=services)
        app.launch_started = t0
        outcome: dict = {}
        if script is not None:
            _drive(app, script, outcome)
        _stop_on_sigterm(app)
        app.run()
        if outcome.get("error"):
            print(outcome["error"], file=sys.stderr)
            return 1
        return getattr(app, "exit_code", 0)  # 75 = restart requested by a technician
    finally:
        if display is not None:
            display.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m kiosk.runner --script module:function [--config PATH]``

    Runs the kiosk (windowed) driven by a script; tests and benchmarks use it
    to get a fresh app process per scenario.
    """
    import argparse
    import importlib

    from kiosk.core import config as config_mod

    parser = argparse.ArgumentParser(prog="python -m kiosk.runner")
    parser.add_argument("--script", required=True, help="module:function of a generator script")
    parser.add_argument("--config")
    args = parser.parse_args(argv)
    from kiosk import logsetup

    logsetup.setup()
    # The script module may import Kivy before start_kiosk prepares it.
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
    modname, func = args.script.split(":")
    script = getattr(importlib.import_module(modname), func)
    cfg = config_mod.load(args.config)
    return start_kiosk(cfg, fullscreen=False, script=script)


if __name__ == "__main__":
    raise SystemExit(main())
