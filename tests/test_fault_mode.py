"""Fault 2 (demo vs production) and fault 6 (escapes from kiosk mode).

Production never starts the platform simulator, refuses the shipped or an empty
device secret, and has no simulator hotkeys; a demo kiosk says 演示 on screen
and on paper. No key of a USB keyboard leaves the kiosk UI.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.backend import Backend
from kiosk.core import config
from kiosk.core.errors import ConfigError
from kiosk.hardware.escpos_render import decode, decoded_lines
from kiosk.platform.simulator.launcher import start_simulator
from kiosk.receipts import Receipt
from kiosk.receipts.render import render_receipt
from tests.conftest import ROOT, free_port

NO_DEVICES = """
[devices.idcard]
driver = "none"
[devices.sscard]
driver = "none"
[devices.camera]
driver = "none"
[devices.printer]
driver = "none"
"""

PRODUCTION = """mode = "production"

[platform]
url = "http://127.0.0.1:{port}"
device_secret = "{secret}"
start_simulator = {start_sim}

[storage]
dir = "{storage}"
""" + NO_DEVICES

GOOD_SECRET = "province-issued-3f9a1c7e"


def production_toml(tmp_path: Path, *, secret: str = GOOD_SECRET, start_sim: str = "false", port: int = 0) -> Path:
    p = tmp_path / "kiosk.toml"
    p.write_text(PRODUCTION.format(port=port or free_port(), secret=secret, start_sim=start_sim,
                                   storage=tmp_path / "var"), encoding="utf-8")
    return p


@pytest.mark.parametrize("secret, start_sim, named", [
    ("dev-secret-change-me", "false", "device_secret"),
    ("", "false", "device_secret"),
    ("   ", "false", "device_secret"),
    (GOOD_SECRET, "true", "start_simulator"),
])
def test_production_refuses_demo_secret_and_simulator_in_one_line(tmp_path, secret, start_sim, named):
    path = production_toml(tmp_path, secret=secret, start_sim=start_sim)
    with pytest.raises(ConfigError) as err:
        config.load(path, env={})
    assert named in str(err.value)
    proc = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(path), "run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0] and "Traceback" not in proc.stderr
    assert "dev-secret-change-me" not in proc.stderr  # a secret is never echoed


def test_production_refuses_simulated_devices(tmp_path):
    path = production_toml(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace('[devices.idcard]\ndriver = "none"',
                                                            '[devices.idcard]\ndriver = "sim"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"simulated devices \['idcard'\]"):
        config.load(path, env={})


def test_mode_from_environment(tmp_path):
    cfg = config.load(production_toml(tmp_path), env={})
    assert cfg.mode == "production" and not cfg.demo
    assert config.load(None, env={}).demo  # the shipped config is the demo
    with pytest.raises(ConfigError, match="device_secret"):
        config.load(None, env={"KIOSK__MODE": "production"})


def test_production_backend_never_starts_the_simulator(tmp_path):
    """A local gateway that is down at boot stays down: no fake platform, nothing marked delivered."""
    port = free_port()
    path = production_toml(tmp_path, port=port)
    cfg = config.load(path, env={})
    # The same URL with start_simulator = true in demo mode does start one: the test can fail.
    backend = Backend(cfg).start()
    try:
        assert backend.ready.wait(30)
        assert backend.simulator is None
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0  # nothing listens there
        from kiosk.core.idnumber import make_id
        import datetime as _dt

        outcome = backend.outbox.submit(1, make_id("141124", _dt.date(1962, 3, 8), 21), {"desired_job": "司机"},
                                        wait=3)
        assert outcome.state == "pending" and outcome.acceptance is None
    finally:
        backend.close()


def test_simulator_secret_never_on_its_command_line():
    secret = "sekrit-on-cmdline-7d1e"
    sim = start_simulator(port=0, device_secret=secret)
    try:
        cmdline = Path(f"/proc/{sim.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        assert secret not in cmdline
        from kiosk.platform.http_client import HttpPlatform

        signed = HttpPlatform(sim.url, "SX-DEMO-0001", secret, 3, 5)
        try:
            signed.heartbeat({})  # the simulator got the secret: a signed request passes
        finally:
            signed.close()
    finally:
        sim.stop()


def test_demo_receipts_say_so_and_production_ones_do_not():
    r = dict(kind="acceptance", site_name="示范村便民服务站", device_id="SX-DEMO-0001", service_name="求职登记",
             acceptance_no="SX20260615000001")
    demo = decoded_lines(decode(render_receipt(Receipt(**r, demo=True))))
    real = decoded_lines(decode(render_receipt(Receipt(**r))))
    assert "演示" in demo[0]
    assert not any("演示" in line for line in real)


# ---------------------------------------------------------------- the real window
# (scenarios run inside the kiosk process)

# (key, modifiers) a person could press on a USB keyboard plugged into the kiosk
KEYS = [(281 + n, []) for n in range(1, 13)] + [
    (27, []),                    # Escape
    (285, ["alt"]),              # Alt+F4
    (9, ["alt"]),                # Alt+Tab
    (99, ["ctrl"]),              # Ctrl+C
    (113, ["ctrl"]),             # Ctrl+Q
    (119, ["ctrl"]),             # Ctrl+W
    (8, ["ctrl", "alt"]),        # Ctrl+Alt+Backspace
    (127, ["ctrl", "alt"]),      # Ctrl+Alt+Delete
    (282, ["ctrl", "alt"]),      # Ctrl+Alt+F1
    (1073742051, ["meta"]),      # the Windows key
    (1073741925, []),            # the menu key
    (292, ["shift"]),            # Shift+F11
    (293, ["ctrl"]),             # Ctrl+F12
]


def _press(key: int, modifiers: list[str]) -> None:
    """As Kivy's SDL2 window does: on_key_down, then on_keyboard unless it was taken."""
    from kivy.core.window import Window

    if not Window.dispatch("on_key_down", key, 0, None, modifiers):
        Window.dispatch("on_keyboard", key, 0, None, modifiers)
    Window.dispatch("on_key_up", key, 0)


def scenario_every_key(app):
    from kivy.core.window import Window
    from kivy.uix.settings import Settings

    from tests.ui_helpers import report, texts, walk

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    yield 0.5
    for key, mods in KEYS:
        _press(key, mods)
        yield 0.15
    refused = Window.dispatch("on_request_close")
    yield 2.0  # let the demo hotkeys' simulator actions finish before the app exits
    report("keys", {
        "screen": app.sm.current,
        "logged_in": app.logged_in,
        "settings": [type(w).__name__ for w in Window.children for w in walk(w) if isinstance(w, Settings)],
        "app_settings": app._app_settings is not None,
        "close_refused": bool(refused),
        "window_children": [type(w).__name__ for w in Window.children],
        "demo_badge": "演示" in [t for w in Window.children for t in texts(w)],
    })


PRODUCTION_UI = """[platform]
device_secret = "province-issued-3f9a1c7e"
start_simulator = false
""" + NO_DEVICES


def test_no_key_leaves_the_kiosk_in_production(run_kiosk, tmp_path):
    run_kiosk("tests.test_fault_mode:scenario_every_key", PRODUCTION_UI, env={"KIOSK__MODE": "production"})
    got = json.loads((tmp_path / "keys.json").read_text(encoding="utf-8"))
    assert got["settings"] == [] and got["app_settings"] is False  # F1 opened no settings panel
    assert got["screen"] == "attract" and got["logged_in"] is False  # F-keys do nothing in production
    assert got["close_refused"] is True
    assert got["demo_badge"] is False
    kivy_ini = tmp_path / "kivy" / "config.ini"
    assert not kivy_ini.exists() or "[modules]" not in kivy_ini.read_text() or \
        "inspector" not in kivy_ini.read_text()


def test_demo_shows_the_marker_and_keys_stay_in_the_kiosk(run_kiosk, tmp_path):
    run_kiosk("tests.test_fault_mode:scenario_every_key")
    got = json.loads((tmp_path / "keys.json").read_text(encoding="utf-8"))
    assert got["demo_badge"] is True
    assert got["settings"] == [] and got["app_settings"] is False
    assert got["close_refused"] is True
    # F1..F5 are the demo's card hotkeys: a resident may be logged in, but the kiosk UI is all there is.
    assert got["screen"] in ("attract", "menu")
