"""kiosk.toml validation: defaults work, bad keys are named, env overrides."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kiosk.core import config
from kiosk.core.errors import ConfigError
from tests.conftest import ROOT


def test_shipped_config_is_valid_and_uses_simulators():
    cfg = config.load(config.DEFAULT_PATH, env={})
    assert cfg["site"]["device_id"]
    for dev in ("idcard", "sscard", "camera", "printer"):
        assert cfg[f"devices.{dev}"]["driver"] == "sim"
    assert cfg["platform"]["url"].startswith("http://127.0.0.1")
    assert cfg["ui"]["idle_timeout"] == 60 and cfg["ui"]["idle_warning"] == 10


@pytest.mark.parametrize("toml, named", [
    ("[ui]\nidle_timout = 30\n", "[ui] idle_timout"),
    ("[ui]\nidle_timeout = \"60\"\n", "[ui] idle_timeout must be an integer"),
    ("[ui]\nidle_timeout = 2\n", "[ui] idle_timeout must be between"),
    ("[devices.printer]\npaper_width = 72\n", "[devices.printer] paper_width must be one of [58, 80]"),
    ("[devices.idcard]\ndriver = \"usb\"\n", "[devices.idcard] driver"),
    ("[devices.scales]\ndriver = \"sim\"\n", "unknown section [devices.scales]"),
    ("[platform]\nurl = \"ftp://x\"\n", "[platform] url"),
    ("[ui\n", "not valid TOML"),
])
def test_bad_values_are_named(tmp_path, toml, named):
    p = tmp_path / "kiosk.toml"
    p.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        config.load(p, env={})
    assert named in str(err.value)


def test_environment_overrides_file(tmp_path):
    p = tmp_path / "kiosk.toml"
    p.write_text("[ui]\nidle_timeout = 60\n", encoding="utf-8")
    cfg = config.load(p, env={"KIOSK__UI__IDLE_TIMEOUT": "90", "KIOSK__DEVICES__PRINTER__PAPER_WIDTH": "58",
                              "KIOSK__UI__FULLSCREEN": "false"})
    assert cfg["ui"]["idle_timeout"] == 90
    assert cfg["devices.printer"]["paper_width"] == 58
    assert cfg["ui"]["fullscreen"] is False
    with pytest.raises(ConfigError, match="KIOSK__UI__NOPE"):
        config.load(p, env={"KIOSK__UI__NOPE": "1"})
    cfg = config.load(None, env={"KIOSK_CONFIG": str(p)})
    assert cfg.source == p


def test_secrets_hidden_in_public_view():
    cfg = config.load(config.DEFAULT_PATH, env={})
    assert cfg.public_view()["platform"]["device_secret"] == "******"
    assert cfg["platform"]["device_secret"] != "******"


def test_cli_reports_bad_config_without_traceback(tmp_path):
    p = tmp_path / "kiosk.toml"
    p.write_text("[site]\ndevice_id = \"\"\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "kiosk", "--config", str(p), "run"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "[site] device_id must be not empty" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_config_that_is_not_utf8_is_named(tmp_path):
    p = tmp_path / "kiosk.toml"
    p.write_bytes("[site]\nname = \"示范村\"\n".encode("gb18030"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(p, env={})
