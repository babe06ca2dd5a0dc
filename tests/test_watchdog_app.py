"""The app under a real NOTIFY_SOCKET: READY, periodic WATCHDOG, and silence
once the UI loop is blocked (so systemd's WatchdogSec would restart it).

By default this runs the minimal Kivy app tests/apps/watchdog_app.py under
Xvfb. To point the same test at the full kiosk app set
``KIOSK_WATCHDOG_TEST_CMD`` (a shell-quoted command, e.g.
``"/work/venv/bin/python -m kiosk run"``); the app must send READY through
kiosk.watchdog.Watchdog and honour ``KIOSK_TEST_BLOCK_UI_AFTER``.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.notify_listener import NotifyListener

ROOT = Path(__file__).resolve().parent.parent
WATCHDOG_SEC = 2.0     # -> ping every 0.5 s, UI counted blocked after 1 s
BLOCK_AFTER = 4.0      # seconds after READY the app blocks its UI loop


@pytest.fixture(scope="module")
def display(xdisplay):
    """The session's X display (conftest: $DISPLAY or one Xvfb for the whole run)."""
    return xdisplay


def _app_command(which: str, tmp_path) -> list[str]:
    custom = os.environ.get("KIOSK_WATCHDOG_TEST_CMD")
    if custom:
        return shlex.split(custom)
    if which == "kiosk":
        cfg = tmp_path / "kiosk.toml"
        cfg.write_text(f'[ui]\nfullscreen = false\n[storage]\ndir = "{tmp_path / "var"}"\n', encoding="utf-8")
        return [sys.executable, "-m", "kiosk", "--config", str(cfg), "run", "--windowed"]
    return [sys.executable, str(ROOT / "tests" / "apps" / "watchdog_app.py")]


@pytest.mark.parametrize("which", ["minimal", "kiosk"])
def test_ready_then_periodic_watchdog_then_silence_when_ui_blocked(display, tmp_path, which):
    listener = NotifyListener(abstract=True)
    env = dict(os.environ)
    env.update(
        DISPLAY=display,
        NOTIFY_SOCKET=listener.address,
        WATCHDOG_USEC=str(int(WATCHDOG_SEC * 1_000_000)),
        KIOSK_TEST_BLOCK_UI_AFTER=str(BLOCK_AFTER),
        KIVY_HOME=str(tmp_path / "kivy"),
        KIVY_NO_ARGS="1",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.pop("WATCHDOG_PID", None)
    log = open(tmp_path / "app.log", "wb")
    app = subprocess.Popen(_app_command(which, tmp_path), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                           start_new_session=True)
    try:
        ready = listener.wait_for(lambda f: f.get("READY") == "1", timeout=90)
        assert ready, f"no READY=1; app output:\n{(tmp_path / 'app.log').read_text(errors='replace')[-3000:]}"

        # A slow frame on a loaded machine may look like a short hang and
        # recover; what must hold is a NOT RESPONDING status followed by
        # silence once the loop is blocked for good.
        deadline = time.monotonic() + 60
        while True:
            left = deadline - time.monotonic()
            blocked = listener.wait_for(lambda f: f.get("STATUS", "").startswith("NOT RESPONDING"),
                                        timeout=max(left, 0.1))
            assert blocked, "the watchdog never noticed the blocked UI loop"
            assert "UI loop not responding" in blocked.fields["STATUS"]
            # Four ping periods, longer than WatchdogSec: systemd would now restart us.
            after = listener.collect(WATCHDOG_SEC + 0.5)
            if not [m for m in after if "WATCHDOG" in m.fields]:
                break
            assert time.monotonic() < deadline, "WATCHDOG=1 kept coming while the UI loop was blocked"
        pings = [m for m in listener.messages if m.fields.get("WATCHDOG") == "1" and m.at <= blocked.at]
        assert len(pings) >= 3, f"expected periodic WATCHDOG=1 while the UI ran, got {len(pings)}"
        assert app.poll() is None, "the app exited instead of hanging"
    finally:
        os.killpg(app.pid, signal.SIGKILL)
        app.wait(10)
        log.close()
        listener.close()
