"""Shared fixtures: a virtual display, per-test kiosk configs, app runs in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The original seed documents live outside the repository (shared/seeds beside the
# clone, or $KIOSK_SEEDS_DIR). Only tests that compare the repository's derived data
# with them read this, and they skip when it is absent: the suite runs on any clone.
SEEDS = Path(os.environ.get("KIOSK_SEEDS_DIR", ROOT.parent / "shared" / "seeds"))


# Tests that need a window are marked `ui` here, from the fixtures they use (directly or
# through run_kiosk), so no test can forget the marker. `slow` is set by hand on tests
# that take seconds without a window (see README "Tests"). A developer's fast subset:
#   .venv/bin/python -m pytest -m "not ui and not slow"
UI_FIXTURES = {"xdisplay", "run_kiosk"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if UI_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.ui)


@pytest.fixture(scope="session")
def xdisplay():
    """A real X display: the one we have, or an Xvfb started for the session."""
    from kiosk.display import start_xvfb

    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    vd = start_xvfb(1280, 800, announce=False)
    os.environ["DISPLAY"] = vd.display
    try:
        yield vd.display
    finally:
        vd.stop()
        os.environ.pop("DISPLAY", None)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(tmp_path: Path, extra: str = "") -> Path:
    """A kiosk.toml for one test: windowed, its own storage dir, plus `extra` TOML."""
    if "[ui]" in extra:
        extra = extra.replace("[ui]", "[ui]\nfullscreen = false", 1)
    else:
        extra = "[ui]\nfullscreen = false\n" + extra
    if "[platform]" not in extra:
        # Each kiosk run gets its own platform simulator on a free loopback port.
        extra += f'\n[platform]\nurl = "http://127.0.0.1:{free_port()}"\n'
    if "[fleet]" not in extra:
        # ... and its own fleet broker (Mosquitto, started by the kiosk) on another.
        extra += f'\n[fleet]\nbroker = "mqtt://127.0.0.1:{free_port()}"\n'
    if "[storage]" not in extra:
        extra += f'\n[storage]\ndir = "{tmp_path / "var"}"\n'
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(extra, encoding="utf-8")
    return cfg


@pytest.fixture
def run_kiosk(xdisplay, tmp_path):
    """Run the real app in a fresh process, driven by a script in a test module.

    Usage: ``run_kiosk("tests.test_ui_navigation:scenario", extra_toml)``.
    Returns the CompletedProcess; fails the test with the app's output if the
    script raised.
    """

    def run(script: str, extra: str = "", env: dict | None = None, timeout: float = 120, expect_exit: int = 0):
        cfg = write_config(tmp_path, extra)
        e = dict(os.environ)
        e.update({"DISPLAY": xdisplay, "KIVY_HOME": str(tmp_path / "kivy"), "SDL_AUDIODRIVER": "dummy",
                  "KIOSK_TEST_OUT": str(tmp_path),
                  "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
        e.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "kiosk.runner", "--script", script, "--config", str(cfg)],
                              cwd=ROOT, env=e, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != expect_exit:
            pytest.fail(f"kiosk scenario {script} failed (exit {proc.returncode}, expected {expect_exit}):\n"
                        f"--- stderr ---\n{proc.stderr[-6000:]}\n--- stdout ---\n{proc.stdout[-2000:]}")
        return proc

    return run
