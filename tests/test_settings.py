"""Typed settings (kiosk.core.settings): sections, cross-field rules, schema version."""

from __future__ import annotations

import dataclasses
import re

import pytest

from kiosk import ROOT
from kiosk.core import config
from kiosk.core.errors import ConfigError
from kiosk.core.settings import SCHEMA_VERSION, Settings
from kiosk.flows.session import IdleTimer


def _load(tmp_path, toml: str, env: dict[str, str] | None = None) -> config.Config:
    p = tmp_path / "kiosk.toml"
    p.write_text(toml, encoding="utf-8")
    return config.load(p, env=env or {})


def test_elder_timeout_shorter_than_the_warning_is_refused_at_start(tmp_path):
    """Before: this file loaded, and the kiosk crashed (ValueError in IdleTimer) the
    moment a resident turned on elder mode. Now the start stops, naming both keys."""
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "[ui]\nidle_timeout = 60\nidle_warning = 10\nelder_idle_timeout = 8\n")
    assert "[ui] elder_idle_timeout" in str(err.value) and "[ui] idle_warning" in str(err.value)
    assert "长辈模式" in err.value.message_zh


def test_the_same_rule_holds_for_environment_overrides(tmp_path):
    with pytest.raises(ConfigError, match="elder_idle_timeout"):
        _load(tmp_path, "", env={"KIOSK__UI__ELDER_IDLE_TIMEOUT": "10"})


def test_warning_shorter_than_timeout_is_checked_once_with_both_values(tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "[ui]\nidle_timeout = 10\nidle_warning = 10\n")
    assert str(err.value) == "[ui] idle_warning (10 s) must be shorter than [ui] idle_timeout (10 s)"


@pytest.mark.parametrize("elder", [False, True])
def test_every_valid_config_builds_the_idle_timer_in_both_modes(tmp_path, elder):
    cfg = _load(tmp_path, "[ui]\nidle_timeout = 20\nidle_warning = 15\nelder_idle_timeout = 30\n")
    ui = cfg.settings.ui
    timer = IdleTimer(ui.idle_timeout_for(elder), ui.idle_warning)  # raised ValueError before, for elder = 8
    assert timer.timeout == (30 if elder else 20) and timer.warning == 15


def test_elder_mode_never_shortens_the_timeout(tmp_path):
    ui = _load(tmp_path, "[ui]\nidle_timeout = 300\n").settings.ui
    assert ui.elder_idle_timeout == 120
    assert ui.idle_timeout_for(elder=False) == 300 and ui.idle_timeout_for(elder=True) == 300
    assert config.load(config.DEFAULT_PATH, env={}).settings.ui.idle_timeout_for(elder=True) == 120


def test_typed_sections_follow_the_validated_config(tmp_path):
    cfg = _load(tmp_path, "[devices.printer]\npaper_width = 58\n[platform]\nconnect_timeout = 3\n[storage]\ndir = \"v\"\n")
    s = cfg.settings
    assert s.devices.printer.paper_width == 58
    assert s.platform.connect_timeout == 3.0 and isinstance(s.platform.connect_timeout, float)
    assert s.storage.dir == ROOT / "v" == cfg.storage_dir
    assert s.schema_version == SCHEMA_VERSION
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.ui.idle_timeout = 5  # type: ignore[misc]
    # a change made to the config (technician settings) shows in the next typed view
    cfg["ui"]["idle_timeout"] = 90
    assert cfg.settings.ui.idle_timeout == 90


def test_every_schema_key_has_a_typed_field():
    def names(cls):
        return {f.name for f in dataclasses.fields(cls)}

    s = Settings.from_config(config.defaults())
    typed = {
        "site": s.site, "ui": s.ui, "platform": s.platform, "storage": s.storage, "photo": s.photo,
        "devices.idcard": s.devices.idcard, "devices.sscard": s.devices.sscard, "devices.camera": s.devices.camera,
        "devices.scanner": s.devices.scanner, "devices.printer": s.devices.printer, "fleet": s.fleet, "kiosk": s.kiosk,
    }
    assert set(typed) == set(config.SCHEMA)
    for section, obj in typed.items():
        assert names(type(obj)) == set(config.SCHEMA[section]), section


@pytest.mark.parametrize("line, named", [
    ("schema_version = 2\n", "written for settings schema_version 2; this kiosk reads version 1"),
    ("schema_version = \"1\"\n", "schema_version must be an integer"),
])
def test_a_file_for_another_schema_version_is_refused(tmp_path, line, named):
    with pytest.raises(ConfigError, match=named):
        _load(tmp_path, line + "[ui]\nidle_timeout = 60\n")


def test_the_shipped_file_declares_the_current_schema_version():
    text = (ROOT / "config" / "kiosk.toml").read_text(encoding="utf-8")
    assert re.search(rf"^schema_version = {SCHEMA_VERSION}\b", text, re.M)
    assert config.load(config.DEFAULT_PATH, env={}).settings.schema_version == SCHEMA_VERSION


def test_override_checks_a_flag_as_the_settings_file_would(tmp_path):
    """``kiosk snapshot --size`` sets [ui] through Config.override: same checks, the flag named."""
    cfg = _load(tmp_path, "")
    cfg.override("ui", "width", 1920, "--size")
    assert cfg.settings.ui.width == 1920
    with pytest.raises(ConfigError, match=r"--size: \[ui\] diagonal_inches"):
        cfg.override("ui", "diagonal_inches", 0.0, "--size")
    with pytest.raises(ConfigError, match=r"unknown key \[ui\] widht"):
        cfg.override("ui", "widht", 1, "--size")
    assert cfg.settings.ui.diagonal_inches > 0  # a refused value is not stored
