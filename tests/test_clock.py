"""One clock for the whole kiosk (issue 17 point 14).

The host is set to a zone exactly 24 hours behind China ("<-16>16" = UTC-16),
so its local date is always the day before China's, whatever the real time:
any date taken from the host clock instead of kiosk.core.clock shows up.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys

import pytest

from kiosk.core import clock, config
from kiosk.core.errors import ConfigError
from tests.conftest import ROOT

HOST_TZ = "<-16>16"  # POSIX: local = UTC-16, always one calendar day behind Asia/Shanghai

SCRIPT = r"""
import datetime as dt, json, sys
from kiosk.core import config
cfg = config.load(sys.argv[1])
from kiosk.sim_people import demo_cards
from kiosk.platform.simulator.app import SimState
from kiosk.receipts.model import Receipt
from kiosk.screens.attract import clock_text
from kiosk.flows.tech_mode import TechMode
from kiosk.flows.engine import ServiceFlow
import inspect
state = SimState(cfg["platform"]["simulator_seed"], None, None, "x", n_residents=3000)
ids = [c.id_number for c in demo_cards(cfg)][:5]
r = Receipt(kind="acceptance", site_name="s", device_id="d", service_name="x")
print(json.dumps({
    "host_date": dt.date.today().isoformat(),
    "sim_date": state.today().isoformat(),
    "demo_known": [i in state.world.residents for i in ids],
    "receipt_date": r.time.date().isoformat(),
    "tech_today": TechMode(cfg).today().isoformat(),
    "attract": getattr(__import__("kiosk.screens.attract", fromlist=["x"]), "now_text", lambda: "")(),
}))
"""


def _run(tmp_path, extra: str = "") -> dict:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[storage]\ndir = "{tmp_path / "var"}"\n' + extra, encoding="utf-8")
    env = dict(os.environ, TZ=HOST_TZ, PYTHONPATH=str(ROOT), KIVY_NO_ARGS="1",
               KIVY_HOME=str(tmp_path / "kivy"))
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(cfg)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_host_clock_on_another_date_does_not_change_the_kiosk_date(tmp_path):
    got = _run(tmp_path)
    china = _dt.datetime.now(_dt.timezone(_dt.timedelta(hours=8))).date()
    assert got["host_date"] != china.isoformat()  # the set-up really puts the host on another day
    assert got["sim_date"] == china.isoformat()
    # The demo residents F1-F5 are the ones the platform simulator knows.
    assert got["demo_known"] == [True] * 5
    assert got["receipt_date"] == china.isoformat()
    assert got["tech_today"] == china.isoformat()
    assert got["attract"].startswith(f"{china:%Y年%m月%d日}")


def test_time_zone_is_configurable(tmp_path):
    got = _run(tmp_path, '[site]\ntime_zone = "Pacific/Kiritimati"\n')  # UTC+14
    kiri = _dt.datetime.now(_dt.timezone(_dt.timedelta(hours=14))).date()
    assert got["receipt_date"] == kiri.isoformat()


def test_unknown_time_zone_is_named(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[site]\ntime_zone = "Mars/Olympus"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[site\] time_zone"):
        config.load(cfg, env={})


def test_clock_is_aware_and_in_the_configured_zone():
    clock.configure("Asia/Shanghai")
    now = clock.now()
    assert now.utcoffset() == _dt.timedelta(hours=8)
    assert clock.today() == now.date()
