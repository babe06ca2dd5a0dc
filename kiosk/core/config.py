"""Load and validate ``config/kiosk.toml``.

Defaults are embedded here, so a missing file still gives a working kiosk on
simulated devices. Every value is checked against the schema below; an
unknown key or a wrong type stops the start with a message naming the key.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk import CONFIG_DIR, ROOT
from kiosk.core.errors import ConfigError
from kiosk.core.settings import Settings, check_schema_version

DEFAULT_PATH = CONFIG_DIR / "kiosk.toml"
ENV_PATH = "KIOSK_CONFIG"
ENV_PREFIX = "KIOSK__"

# section -> key -> (type, default, allowed values or None)
_Spec = dict[str, tuple[type | tuple[type, ...], Any, tuple[Any, ...] | None]]
SCHEMA: dict[str, _Spec] = {
    "site": {
        "name": (str, "示范村便民服务站", None),
        "device_id": (str, "SX-DEMO-0001", None),
        "county": (str, "临县", None),
        "office_phone": (str, "0358-4466038", None),
        "office_name": (str, "", None),
        "office_address": (str, "", None),
        "tracking_url": (str, "", None),
    },
    "ui": {
        "fullscreen": (bool, True, None),
        "kiosk_mode": (bool, True, None),
        "idle_timeout": (int, 60, None),
        "idle_warning": (int, 10, None),
        "elder_idle_timeout": (int, 120, None),
        "width": (int, 1280, None),
        "height": (int, 800, None),
        "diagonal_inches": ((int, float), 15.6, None),
        "volume": ((int, float), 0.8, None),
    },
    "platform": {
        "url": (str, "http://127.0.0.1:8765", None),
        "device_secret": (str, "dev-secret-change-me", None),
        "connect_timeout": ((int, float), 3.0, None),
        "read_timeout": ((int, float), 8.0, None),
        "start_simulator": (bool, True, None),
        "simulator_seed": (int, 42, None),
        "ca_bundle": (str, "", None),
    },
    "storage": {
        "dir": (str, "var", None),
    },
    "devices.idcard": {
        "driver": (str, "sim", ("sim", "serial", "none")),
        "transport": (str, "serial", ("serial", "hid")),
        "port": (str, "", None),
        "baudrate": (int, 115200, None),
        "poll_interval": ((int, float), 0.5, None),
    },
    "devices.sscard": {
        "driver": (str, "sim", ("sim", "pcsc", "none")),
        "reader": (str, "", None),
        "poll_interval": ((int, float), 0.2, None),
        "read_timeout": ((int, float), 5.0, None),
    },
    "devices.camera": {
        "driver": (str, "sim", ("sim", "opencv", "none")),
        "device": (str, "0", None),
        "sim_source": (str, "images/sim/camera", None),
        "fps": (int, 10, None),
        "decoder": (str, "zxing", ("zxing", "pyzbar")),
        "decode_rate": ((int, float), 5.0, None),
    },
    "photo": {
        "min_sharpness": ((int, float), 40.0, None),
        "min_brightness": ((int, float), 60.0, None),
        "max_brightness": ((int, float), 200.0, None),
        "min_face_width": ((int, float), 0.12, None),
        "max_jpeg_kb": (int, 200, None),
        "max_side": (int, 1280, None),
    },
    "devices.scanner": {
        "driver": (str, "none", ("none", "sim", "serial")),
        "port": (str, "", None),
        "baudrate": (int, 9600, None),
    },
    "devices.printer": {
        "driver": (str, "sim", ("sim", "usb", "serial", "network", "file", "none")),
        "port": (str, "", None),
        "usb_vendor": (int, 0, None),
        "usb_product": (int, 0, None),
        "paper_width": (int, 80, (58, 80)),
        "text_mode": (str, "escpos", ("escpos", "raster")),
        "profile": (str, "default", None),
        "status_profile": (str, "escpos", ("escpos", "epson_tm", "snbc_bk_t080")),
        "timeout": ((int, float), 3.0, None),
        "qr_mode": (str, "native", ("native", "image")),
        "baudrate": (int, 9600, None),
        "sim_out": (str, "printer-jobs", None),
    },
    "fleet": {
        "enabled": (bool, True, None),
        "broker": (str, "mqtt://127.0.0.1:1883", None),
        "start_broker": (bool, True, None),
        "health_interval": (int, 60, None),
        "keepalive": (int, 60, None),
        "reconnect_max": (int, 300, None),
        "username": (str, "", None),
        "password": (str, "", None),
        "ca_file": (str, "", None),
        "cert_file": (str, "", None),
        "key_file": (str, "", None),
        "operator_keys": (str, "var/fleet/operators.pub", None),
        "bundle_url": (str, "", None),
    },
}

# Extra range checks: (section, key) -> (predicate, description)
_RANGES: dict[tuple[str, str], tuple[Callable[[Any], bool], str]] = {
    ("ui", "idle_timeout"): (lambda v: 5 <= v <= 3600, "between 5 and 3600 seconds"),
    ("ui", "idle_warning"): (lambda v: 0 <= v <= 60, "between 0 and 60 seconds"),
    ("ui", "elder_idle_timeout"): (lambda v: 5 <= v <= 3600, "between 5 and 3600 seconds"),
    ("ui", "volume"): (lambda v: 0 <= v <= 1, "between 0.0 and 1.0"),
    ("ui", "width"): (lambda v: 640 <= v <= 7680, "between 640 and 7680 pixels"),
    ("ui", "height"): (lambda v: 480 <= v <= 7680, "between 480 and 7680 pixels"),
    ("ui", "diagonal_inches"): (lambda v: 7 <= v <= 100, "between 7 and 100 inches (the panel's visible diagonal)"),
    ("platform", "url"): (lambda v: v.startswith(("http://", "https://")), "an http:// or https:// URL"),
    ("platform", "connect_timeout"): (lambda v: 0 < v <= 60, "between 0 and 60 seconds"),
    ("platform", "read_timeout"): (lambda v: 0 < v <= 120, "between 0 and 120 seconds"),
    ("devices.idcard", "poll_interval"): (lambda v: 0.05 <= v <= 10, "between 0.05 and 10 seconds"),
    ("devices.printer", "timeout"): (lambda v: 0 < v <= 60, "between 0 and 60 seconds"),
    ("devices.camera", "fps"): (lambda v: 1 <= v <= 60, "between 1 and 60"),
    ("site", "device_id"): (lambda v: bool(v.strip()) and not set(v) & set("+#/"), "not empty, without + # /"),
    ("site", "county"): (lambda v: bool(v.strip()) and not set(v) & set("+#/"), "not empty, without + # /"),
    ("fleet", "broker"): (
        lambda v: v.split("://", 1)[0] in ("mqtt", "mqtts", "tcp", "ssl") and "://" in v,
        "an mqtt:// or mqtts:// URL",
    ),
    ("fleet", "health_interval"): (lambda v: 5 <= v <= 3600, "between 5 and 3600 seconds"),
    ("fleet", "keepalive"): (lambda v: 10 <= v <= 1200, "between 10 and 1200 seconds"),
    ("fleet", "reconnect_max"): (lambda v: 5 <= v <= 3600, "between 5 and 3600 seconds"),
}


class Config(dict[str, dict[str, Any]]):
    """Validated settings: ``cfg["devices.idcard"]["port"]``, plus helpers.

    New readers take the typed view, ``cfg.settings`` (kiosk.core.settings).
    """

    source: Path | None = None

    def section(self, name: str) -> dict[str, Any]:
        return self[name]

    @property
    def settings(self) -> Settings:
        """Typed, cross-checked settings, built from the current values."""
        return Settings.from_config(self)

    @property
    def storage_dir(self) -> Path:
        p = Path(self["storage"]["dir"])
        return p if p.is_absolute() else ROOT / p

    def public_view(self) -> dict[str, dict[str, Any]]:
        """Settings with secrets hidden (technician screen, fault reports)."""
        out = copy.deepcopy(dict(self))
        out["platform"]["device_secret"] = "******"
        if out.get("fleet", {}).get("password"):
            out["fleet"]["password"] = "******"
        return out


def defaults() -> Config:
    return Config({sec: {k: v[1] for k, v in spec.items()} for sec, spec in SCHEMA.items()})


def _flatten(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """TOML's nested tables ``[devices.idcard]`` -> key "devices.idcard"."""
    flat: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        if name == "devices" and isinstance(value, dict):
            for dev, table in value.items():
                flat[f"devices.{dev}"] = table
        else:
            flat[name] = value
    return flat


def _check(section: str, key: str, value: Any, where: str) -> Any:
    spec = SCHEMA[section][key]
    typ, _default, allowed = spec
    if isinstance(value, bool) and typ is not bool and bool not in (typ if isinstance(typ, tuple) else (typ,)):
        raise ConfigError(f"{where}: [{section}] {key} must be {_typename(typ)}, got a boolean")
    if not isinstance(value, typ):
        raise ConfigError(f"{where}: [{section}] {key} must be {_typename(typ)}, got {type(value).__name__} {value!r}")
    if allowed is not None and value not in allowed:
        raise ConfigError(f"{where}: [{section}] {key} must be one of {list(allowed)}, got {value!r}")
    rng = _RANGES.get((section, key))
    if rng and not rng[0](value):
        raise ConfigError(f"{where}: [{section}] {key} must be {rng[1]}, got {value!r}")
    return value


def check_value(section: str, key: str, value: Any, where: str = "remote setting") -> Any:
    """Validate one value against the schema (fleet remote configuration); raises ConfigError."""
    if section not in SCHEMA or key not in SCHEMA[section]:
        raise ConfigError(f"{where}: unknown key [{section}] {key}")
    return _check(section, key, value, where)


def _typename(typ: type | tuple[type, ...]) -> str:
    if isinstance(typ, tuple):
        return " or ".join(t.__name__ for t in typ)
    return {"str": "a string", "int": "an integer", "bool": "true or false"}.get(typ.__name__, typ.__name__)


def _parse_env_value(section: str, key: str, text: str) -> Any:
    typ = SCHEMA[section][key][0]
    types = typ if isinstance(typ, tuple) else (typ,)
    if bool in types:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        return text
    for t in (int, float):
        if t in types:
            try:
                return t(text)
            except ValueError:
                continue
    return text


def load(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Defaults, then the file, then ``KIOSK__SECTION__KEY`` variables."""
    env = dict(os.environ if env is None else env)
    cfg = defaults()
    chosen = Path(path) if path else Path(env[ENV_PATH]) if env.get(ENV_PATH) else DEFAULT_PATH
    if chosen.exists():
        try:
            raw = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise ConfigError(f"{chosen}: not valid TOML: {exc}") from exc
        if "schema_version" in raw:
            check_schema_version(raw.pop("schema_version"), str(chosen))
        for section, table in _flatten(raw).items():
            if section not in SCHEMA:
                raise ConfigError(f"{chosen}: unknown section [{section}]; known: {sorted(SCHEMA)}")
            if not isinstance(table, dict):
                raise ConfigError(f"{chosen}: [{section}] must be a table")
            for key, value in table.items():
                if key not in SCHEMA[section]:
                    raise ConfigError(f"{chosen}: unknown key [{section}] {key}; known: {sorted(SCHEMA[section])}")
                cfg[section][key] = _check(section, key, value, str(chosen))
    elif path or env.get(ENV_PATH):
        raise ConfigError(f"config file {chosen} does not exist")
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if len(parts) < 2:
            raise ConfigError(f"environment {name}: expected KIOSK__SECTION__KEY")
        section, key = ".".join(parts[:-1]), parts[-1]
        if section not in SCHEMA or key not in SCHEMA[section]:
            raise ConfigError(f"environment {name}: unknown key [{section}] {key}")
        cfg[section][key] = _check(section, key, _parse_env_value(section, key, text), f"environment {name}")
    Settings.from_config(cfg)  # the rules relating several keys (kiosk.core.settings.check)
    cfg.source = chosen if chosen.exists() else None
    return cfg
