"""A display for the kiosk: the real one, or a virtual Xvfb one when none exists."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

from kiosk.core.errors import ConfigError


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


def start_xvfb(width: int = 1280, height: int = 800, announce: bool = True, timeout: float = 10.0) -> VirtualDisplay:
    """Start Xvfb on a display number it picks itself and wait until it accepts clients.

    ``-displayfd`` makes Xvfb choose a free number and write it once it is
    ready, so parallel runs (tests, benches, the kiosk) never race for a number.
    """
    if not shutil.which("Xvfb"):
        raise ConfigError("no display and Xvfb is missing: install the Debian package xvfb (`make run` does this)")
    rfd, wfd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(wfd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp", "+extension", "GLX"],
        pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(wfd)
    number = b""
    try:
        deadline = time.monotonic() + timeout
        while not number.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([rfd], [], [], left)[0]:
                break
            chunk = os.read(rfd, 16)
            if not chunk:  # Xvfb exited
                break
            number += chunk
    finally:
        os.close(rfd)
    if not number.strip().isdigit():
        VirtualDisplay("", proc).stop()
        raise ConfigError(f"Xvfb did not start within {timeout:.0f}s")
    display = f":{number.strip().decode()}"
    if announce:
        print(f"kiosk: no display found; started a virtual display (Xvfb) on {display} at {width}x{height}",
              file=sys.stderr)
    return VirtualDisplay(display, proc)


def ensure_display(width: int = 1280, height: int = 800, announce: bool = True) -> VirtualDisplay | None:
    """Use $DISPLAY if set; otherwise start Xvfb and point $DISPLAY at it."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    vd = start_xvfb(width, height, announce)
    os.environ["DISPLAY"] = vd.display
    return vd
