"""One clock for the whole kiosk: dates follow the kiosk's time zone, not the host's."""

from __future__ import annotations

import datetime as _dt
import os
import subprocess
import sys

from kiosk.core import clock
from tests.conftest import ROOT

CHINA = _dt.timezone(_dt.timedelta(hours=8))


def _host_zone_on_another_date() -> str:
    """A POSIX TZ whose date differs from China's right now (UTC-12 or UTC+14)."""
    china_today = _dt.datetime.now(CHINA).date()
    for tz, hours in (("UTC+12", -12), ("UTC-14", 14)):  # POSIX signs are inverted
        if _dt.datetime.now(_dt.timezone(_dt.timedelta(hours=hours))).date() != china_today:
            return tz
    raise AssertionError("no zone with another date")  # pragma: no cover - impossible


def test_today_is_chinas_date_whatever_the_host_zone():
    env = dict(os.environ, TZ=_host_zone_on_another_date(), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", "import datetime;from kiosk.core import clock;"
                          "print(clock.today(), datetime.date.today())"],
                         env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == _dt.datetime.now(CHINA).date().isoformat()
    assert out[0] != out[1]  # the host's own date differs: the clock really ignored it


def test_demo_residents_exist_on_the_simulators_date_whatever_the_host_zone():
    """F1-F5 residents were picked by the host's date and vanished 16:00-24:00 UTC."""
    script = (
        "from kiosk.core import config, clock\n"
        "from kiosk.sim_people import demo_cards\n"
        "from kiosk.platform.simulator.data import generate\n"
        "cfg = config.load()\n"
        "world = generate(cfg['platform']['simulator_seed'], clock.today())\n"
        "cards = demo_cards(cfg)[:5]\n"
        "print(sum(c.id_number in world.residents for c in cards), len(cards))\n"
    )
    env = dict(os.environ, TZ=_host_zone_on_another_date(), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.split()
    assert out == ["5", "5"]


def test_unknown_zone_is_refused():
    try:
        clock.set_timezone("Mars/Olympus")
    except ValueError as e:
        assert "Mars/Olympus" in str(e)
    else:  # pragma: no cover
        raise AssertionError("accepted an unknown zone")
    finally:
        clock.set_timezone(clock.DEFAULT_TZ)
