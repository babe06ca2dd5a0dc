"""Load and validate ``config/kiosk.toml``.

Defaults are embedded here, so a missing file still gives a working kiosk on
simulated devices. Every value is checked against the schema below; an
unknown key or a wrong type stops the start with a message naming the key.

A deployment is either ``mode = "demo"`` (the default: simulated devices, the
local platform simulator, a visible 演示 marker on screen and on receipts) or
``mode = "production"``: real devices only, never the simulator, and a real
device secret (the shipped default or an empty one stops the start). The
mode is a top-level key of the file (``mode = "production"`` before the first
table) or ``KIOSK__MODE=production`` in the environment.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk import CONFIG_DIR, ROOT
from kiosk.core import clock
from kiosk.core.errors import ConfigError
from kiosk.core.settings import Settings, check_schema_version

DEFAULT_PATH = CONFIG_DIR / "kiosk.toml"
ENV_PATH = "KIOSK_CONFIG"
ENV_PREFIX = "KIOSK__"

# section -> key -> (type, default, allowed values or None)
_Spec = dict[str, tuple[type | tuple[type, ...], Any, tuple[Any, ...] | None]]
SCHEMA: dict[str, _Spec] = {
    "kiosk": {
        "mode": (str, "demo", ("demo", "production")),
    },
    "site": {
        "name": (str, "示范村便民服务站", None),
        "device_id": (str, "SX-DEMO-0001", None),
        "county": (str, "临县", None),
        "office_phone": (str, "0358-4466038", None),
        "office_name": (str, "", None),
        "office_address": (str, "", None),
        "tracking_url": (str, "", None),
        "time_zone": (str, "Asia/Shanghai", None),
    },
    "ui": {
        "fullscreen": (bool, True, None),
        "kiosk_mode": (bool, True, None),
        "idle_timeout": (int, 60, None),
        "idle_warning": (int, 10, None),
        "elder_idle_timeout": (int, 120, None),
        "notice_seconds": ((int, float), 12, None),
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
        # A pending, or delivered this many hours ago, submission of the same item with the same
        # answers for the same person is shown instead of sent again (issue 12 fault 11); 0 = off.
        "duplicate_window_hours": ((int, float), 24, None),
        "retention_days": (int, 30, None),
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
        "releases_dir": (str, "", None),
        "health_grace": (int, 300, None),
        "keep_releases": (int, 3, None),
    },
}

DEFAULT_SECRET = "dev-secret-change-me"

#: Settings a technician changes on the kiosk live in the state directory (writable under
#: ProtectSystem=strict, unlike the config directory) and override the config file.
SETTINGS_FILE = "settings.toml"
SETTINGS_KEYS = {("ui", "idle_timeout"), ("ui", "volume"), ("devices.printer", "paper_width")}
MAX_TEXT = 200  # any string value (a site name, a path, a URL) is shorter than this


def _printable(v: str) -> bool:
    """No control characters (C0, DEL, C1), no line or paragraph separators."""
    return all(ch.isprintable() or ch == " " for ch in v)


def _identifier(v: str) -> bool:
    return 0 < len(v) <= 64 and all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in v)


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
    # 2 at least: the running version and its rollback target.
    ("fleet", "keep_releases"): (lambda v: 2 <= v <= 50, "between 2 and 50 release directories"),
    ("site", "device_id"): (_identifier, "not empty: 1-64 ASCII letters, digits, '-', '_' or '.'"),
    ("platform", "device_secret"): (
        lambda v: bool(v.strip()) and v.isprintable() and len(v) <= 256,
        "a non-empty printable secret",
    ),
    ("devices.sscard", "poll_interval"): (lambda v: 0.05 <= v <= 10, "between 0.05 and 10 seconds"),
    ("devices.sscard", "read_timeout"): (lambda v: 0.5 <= v <= 60, "between 0.5 and 60 seconds"),
    ("devices.idcard", "baudrate"): (lambda v: 1200 <= v <= 4_000_000, "a serial speed between 1200 and 4000000"),
    ("devices.scanner", "baudrate"): (lambda v: 1200 <= v <= 4_000_000, "a serial speed between 1200 and 4000000"),
    ("devices.printer", "baudrate"): (lambda v: 1200 <= v <= 4_000_000, "a serial speed between 1200 and 4000000"),
    ("devices.printer", "usb_vendor"): (lambda v: 0 <= v <= 0xFFFF, "between 0 and 65535"),
    ("devices.printer", "usb_product"): (lambda v: 0 <= v <= 0xFFFF, "between 0 and 65535"),
    ("devices.camera", "decode_rate"): (lambda v: 0 < v <= 60, "between 0 and 60 per second"),
    ("platform", "simulator_seed"): (lambda v: 0 <= v < 2**32, "between 0 and 4294967295"),
    ("photo", "min_sharpness"): (lambda v: 0 <= v <= 10_000, "between 0 and 10000"),
    ("photo", "min_brightness"): (lambda v: 0 <= v <= 255, "between 0 and 255"),
    ("photo", "max_brightness"): (lambda v: 0 <= v <= 255, "between 0 and 255"),
    ("photo", "min_face_width"): (lambda v: 0 <= v <= 1, "between 0.0 and 1.0"),
    ("photo", "max_jpeg_kb"): (lambda v: 10 <= v <= 10_000, "between 10 and 10000"),
    ("photo", "max_side"): (lambda v: 64 <= v <= 8192, "between 64 and 8192 pixels"),
    ("storage", "dir"): (lambda v: bool(v.strip()), "not empty"),
    ("storage", "duplicate_window_hours"): (lambda v: 0 <= v <= 24 * 31, "between 0 and 744 hours"),
    ("storage", "retention_days"): (lambda v: 1 <= v <= 365, "between 1 and 365 days"),
    ("site", "time_zone"): (lambda v: _known_zone(v), "an IANA time zone such as Asia/Shanghai"),
    ("ui", "notice_seconds"): (lambda v: 1 <= v <= 120, "between 1 and 120 seconds"),
    ("site", "county"): (lambda v: bool(v.strip()) and not set(v) & set("+#/"), "not empty, without + # /"),
    ("fleet", "broker"): (
        lambda v: v.split("://", 1)[0] in ("mqtt", "mqtts", "tcp", "ssl") and "://" in v,
        "an mqtt:// or mqtts:// URL",
    ),
    ("fleet", "health_interval"): (lambda v: 5 <= v <= 3600, "between 5 and 3600 seconds"),
    ("fleet", "keepalive"): (lambda v: 10 <= v <= 1200, "between 10 and 1200 seconds"),
    ("fleet", "reconnect_max"): (lambda v: 5 <= v <= 3600, "between 5 and 3600 seconds"),
}


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return name == clock.DEFAULT_TZ  # a host without tz data still has China's fixed offset
    return True


class Config(dict[str, dict[str, Any]]):
    """Validated settings: ``cfg["devices.idcard"]["port"]``, plus helpers.

    New readers take the typed view, ``cfg.settings`` (kiosk.core.settings).
    """

    source: Path | None = None

    def section(self, name: str) -> dict[str, Any]:
        return self[name]

    def override(self, section: str, key: str, value: Any, where: str) -> None:
        """Set one value from outside the settings files (a command-line flag), checked as they are."""
        self[section][key] = check_value(section, key, value, where)

    @property
    def mode(self) -> str:
        return str(self.get("kiosk", {}).get("mode", "demo"))

    @property
    def demo(self) -> bool:
        """True for a demonstration kiosk (simulators allowed, 演示 shown on screen and receipts)."""
        return self.mode == "demo"

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
    """TOML's nested tables ``[devices.idcard]`` -> key "devices.idcard"; top-level ``mode`` -> [kiosk]."""
    flat: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        if name == "mode":
            flat.setdefault("kiosk", {})["mode"] = value
        elif name == "devices" and isinstance(value, dict):
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
        raise ConfigError(
            f"{where}: [{section}] {key} must be {_typename(typ)}, got {type(value).__name__} {_short(value)}"
        )
    if isinstance(value, str) and (
        len(value) > MAX_TEXT * (2 if key == "device_secret" else 1)
        or (key != "device_secret" and not _printable(value))
    ):
        raise ConfigError(
            f"{where}: [{section}] {key} must be printable text of at most {MAX_TEXT} characters, got {_short(value)}"
        )
    if isinstance(value, float) and value != value:
        raise ConfigError(f"{where}: [{section}] {key} must be a number, got nan")
    if allowed is not None and value not in allowed:
        raise ConfigError(f"{where}: [{section}] {key} must be one of {list(allowed)}, got {value!r}")
    rng = _RANGES.get((section, key))
    if rng and not rng[0](value):
        shown = "(hidden)" if key == "device_secret" else _short(value)
        raise ConfigError(f"{where}: [{section}] {key} must be {rng[1]}, got {shown}")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0 and section != "kiosk":
        raise ConfigError(f"{where}: [{section}] {key} must not be negative, got {value!r}")
    return value


def _short(value: Any) -> str:
    """repr() of a value, cut to one short log line."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _name(text: str) -> str:
    """A key as written when it is short and printable, else its shortened repr."""
    return text if len(text) <= 60 and _printable(text) else _short(text)


def production_problems(cfg: Config) -> list[str]:
    """Why ``cfg`` may not run as a production kiosk ([] when it may)."""
    problems = []
    p = cfg["platform"]
    if p["device_secret"] == DEFAULT_SECRET or not p["device_secret"].strip():
        problems.append(
            "[platform] device_secret is the shipped default or empty: set the secret the province "
            "issued (e.g. KIOSK__PLATFORM__DEVICE_SECRET in /etc/default/kiosk, mode 0600)"
        )
    if p["start_simulator"]:
        problems.append("[platform] start_simulator must be false (the simulator never runs in production)")
    sims = [name.split(".", 1)[1] for name in SCHEMA if name.startswith("devices.") and cfg[name]["driver"] == "sim"]
    if sims:
        problems.append(f'simulated devices {sims}: set a real driver or "none"')
    return problems


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


MAX_CONFIG_BYTES = 256 * 1024


def settings_path(cfg: Config) -> Path:
    return cfg.storage_dir / SETTINGS_FILE


def _apply_settings(cfg: Config, env_keys: set[tuple[str, str]]) -> None:
    """Technicians' saved settings (state directory); a bad file or value is logged and skipped, never fatal."""
    import logging

    log = logging.getLogger("kiosk.config")
    path = settings_path(cfg)
    if not path.exists():
        return
    try:
        raw = _read_toml(path)
    except ConfigError as exc:
        log.error("saved settings ignored: %s", exc)
        return
    for section, table in _flatten(raw).items():
        if not isinstance(table, dict):
            log.error("saved settings: [%s] is not a table; ignored", _name(str(section)))
            continue
        for key, value in table.items():
            if (section, key) not in SETTINGS_KEYS:
                log.error("saved settings: [%s] %s may not be set there; ignored", _name(section), _name(str(key)))
                continue
            if (section, key) in env_keys:
                continue  # the environment wins
            try:
                cfg[section][key] = _check(section, key, value, str(path))
            except ConfigError as exc:
                log.error("saved setting ignored: %s", exc)


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse a config file: a regular file, bounded in size; any failure is one ConfigError line."""
    try:
        st = path.stat()
        if not path.is_file():
            raise ConfigError(f"{path}: not a regular file")
        if st.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {st.st_size} bytes; a config file is at most {MAX_CONFIG_BYTES}")
        with open(path, "rb") as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
        return tomllib.loads(data.decode("utf-8"))
    except ConfigError:
        raise
    except RecursionError as exc:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError, ValueError, MemoryError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {_short(str(exc))}") from exc


def load(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Defaults, then the file, then ``KIOSK__SECTION__KEY`` variables."""
    env = dict(os.environ if env is None else env)
    cfg = defaults()
    chosen = Path(path) if path else Path(env[ENV_PATH]) if env.get(ENV_PATH) else DEFAULT_PATH
    if chosen.exists():
        raw = _read_toml(chosen)
        if "schema_version" in raw:
            check_schema_version(raw.pop("schema_version"), str(chosen))
        for section, table in _flatten(raw).items():
            if section not in SCHEMA:
                raise ConfigError(f"{chosen}: unknown section [{_name(section)}]; known: {sorted(SCHEMA)}")
            if not isinstance(table, dict):
                raise ConfigError(f"{chosen}: [{section}] must be a table")
            for key, value in table.items():
                if key not in SCHEMA[section]:
                    raise ConfigError(
                        f"{chosen}: unknown key [{section}] {_name(key)}; known: {sorted(SCHEMA[section])}"
                    )
                cfg[section][key] = _check(section, key, value, str(chosen))
    elif path or env.get(ENV_PATH):
        raise ConfigError(f"config file {chosen} does not exist")
    env_keys: set[tuple[str, str]] = set()
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if parts == ["mode"]:
            parts = ["kiosk", "mode"]
        if len(parts) < 2:
            raise ConfigError(f"environment {name}: expected KIOSK__SECTION__KEY")
        section, key = ".".join(parts[:-1]), parts[-1]
        if section not in SCHEMA or key not in SCHEMA[section]:
            raise ConfigError(f"environment {name}: unknown key [{section}] {key}")
        env_keys.add((section, key))
        cfg[section][key] = _check(section, key, _parse_env_value(section, key, text), f"environment {name}")
    _apply_settings(cfg, env_keys)
    Settings.from_config(cfg)  # the rules relating several keys (kiosk.core.settings.check)
    if cfg.mode == "production":
        problems = production_problems(cfg)
        if problems:
            raise ConfigError("production mode refused: " + "; ".join(problems))
    cfg.source = chosen if chosen.exists() else None
    clock.set_timezone(cfg["site"]["time_zone"])  # every date the kiosk shows or sends uses this zone
    return cfg
