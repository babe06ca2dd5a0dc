"""Fault 8: settings save under ProtectSystem=strict, and the app's last-resort exception handler."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from kiosk.core import config
from kiosk.flows.tech_mode import save_settings
from tests.conftest import ROOT


@pytest.fixture
def read_only_config_dir(tmp_path):
    """A config directory on a filesystem mounted read-only, as ProtectSystem=strict makes /opt and /etc."""
    conf = tmp_path / "etc"
    conf.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(conf)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        shutil.copy(ROOT / "config" / "kiosk.toml", conf / "kiosk.toml")
        subprocess.run(["mount", "-o", "remount,ro", str(conf)], check=True)
        yield conf
    finally:
        subprocess.run(["umount", "-l", str(conf)], check=False)


def test_settings_save_with_read_only_config_dir(read_only_config_dir, tmp_path):
    env = {"KIOSK__STORAGE__DIR": str(tmp_path / "state")}
    cfg = config.load(read_only_config_dir / "kiosk.toml", env=env)
    with pytest.raises(OSError):
        (read_only_config_dir / "probe").write_text("x")  # really read-only, even for root
    stored = save_settings(cfg, {"idle_timeout": 90, "volume": 0.3})
    assert stored == {"idle_timeout": 90, "volume": 0.3}
    again = config.load(read_only_config_dir / "kiosk.toml", env=env)  # after a restart
    assert again["ui"]["idle_timeout"] == 90 and again["ui"]["volume"] == 0.3
    # The environment still wins over saved settings.
    assert config.load(read_only_config_dir / "kiosk.toml", env={**env, "KIOSK__UI__VOLUME": "0.9"})["ui"]["volume"] == 0.9


@pytest.mark.parametrize("content", ["[ui]\nidle_timeout = -5\n", "[platform]\ndevice_secret = \"x\"\n",
                                     "\x00\x01", "[ui\n", "ui = 3\n"])
def test_damaged_or_hostile_settings_file_never_stops_the_start(tmp_path, content):
    state = tmp_path / "state"
    state.mkdir()
    (state / "settings.toml").write_text(content, encoding="utf-8")
    cfg = config.load(None, env={"KIOSK__STORAGE__DIR": str(state)})
    assert cfg["ui"]["idle_timeout"] == 60 and cfg["platform"]["device_secret"] == config.DEFAULT_SECRET


# ---------------------------------------------------------------- the real window

def scenario_bug_in_a_handler(app):
    from kivy.clock import Clock
    from kivy.core.window import Window

    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    Window.dispatch("on_key_down", 282, 0, None, [])  # F1: a resident lays an ID card
    yield lambda: app.sm.current == "menu"

    def buggy(_dt):
        raise RuntimeError("a programming error in a screen")

    Clock.schedule_once(buggy, 0)
    yield 1.0
    report("crash", {"screen": app.sm.current, "logged_in": app.logged_in,
                     "message": app.sm.get_screen("attract").message})
    yield 0.5  # the event loop still turns: this step itself runs from the Clock
    report("after", {"screen": app.sm.current, "watchdog_ok": app.watchdog.health().ui_alive})


def test_unhandled_exception_returns_calmly_to_attract(run_kiosk, tmp_path):
    proc = run_kiosk("tests.test_fault_settings:scenario_bug_in_a_handler")
    got = json.loads((tmp_path / "crash.json").read_text(encoding="utf-8"))
    assert got["screen"] == "attract" and got["logged_in"] is False
    assert got["message"] == "系统刚才出了点小问题，已回到首页。请重新开始办理。"
    after = json.loads((tmp_path / "after.json").read_text(encoding="utf-8"))
    assert after == {"screen": "attract", "watchdog_ok": True}
    assert "a programming error in a screen" in proc.stderr and "Traceback" in proc.stderr  # in the log
