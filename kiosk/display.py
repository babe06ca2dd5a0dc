"""A display for the kiosk: the real one, or a virtual Xvfb one when none exists."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import ConfigError


@dataclass
class VirtualDisplay:
    display: str
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _free_display_number() -> int:
    for n in range(90, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise ConfigError("no free X display number for Xvfb")


def start_xvfb(width: int = 1280, height: int = 800, announce: bool = True) -> VirtualDisplay:
    """Start Xvfb on a free display number and wait until it accepts clients."""
    if not shutil.which("Xvfb"):
        raise ConfigError("no display and Xvfb is missing: install the Debian package xvfb (`make run` does this)")
    for _attempt in range(5):
        n = _free_display_number()
        proc = subprocess.Popen(
            ["Xvfb", f":{n}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "+extension", "GLX"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        sock = Path(f"/tmp/.X11-unix/X{n}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if sock.exists():
                if announce:
                    print(f"kiosk: no display found; started a virtual display (Xvfb) on :{n} "
                          f"at {width}x{height}", file=sys.stderr)
                return VirtualDisplay(f":{n}", proc)
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
    raise ConfigError("Xvfb did not start")


def ensure_display(width: int = 1280, height: int = 800, announce: bool = True) -> VirtualDisplay | None:
    """Use $DISPLAY if set; otherwise start Xvfb and point $DISPLAY at it."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    vd = start_xvfb(width, height, announce)
    os.environ["DISPLAY"] = vd.display
    return vd
