"""Typed settings: one frozen dataclass per section of ``config/kiosk.toml``.

``kiosk.core.config.load`` checks every single value (type, allowed values,
range); this module adds what needs more than one value, in one place
(:func:`check`), and hands readers typed sections instead of string keys::

    s = cfg.settings                 # or Settings.from_config(cfg)
    s.ui.idle_timeout_for(elder=True)
    s.devices.printer.paper_width

A settings file may say which schema it was written for (top-level
``schema_version = 1``); a file written for another version is refused at
start with a message naming both. See docs/settings.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from kiosk import ROOT
from kiosk.core.errors import ConfigError

#: Bumped when a key is renamed or removed, or its meaning changes.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SiteSettings:
    name: str
    device_id: str
    county: str
    office_phone: str
    office_name: str
    office_address: str
    tracking_url: str
    time_zone: str = "Asia/Shanghai"  # kiosk.core.clock: every date shown, printed or sent


@dataclass(frozen=True)
class UiSettings:
    fullscreen: bool
    kiosk_mode: bool
    idle_timeout: int
    idle_warning: int
    elder_idle_timeout: int
    width: int
    height: int
    diagonal_inches: float  # with width and height: the panel's ppi (kiosk.core.panel)
    volume: float
    notice_seconds: float = 12.0  # how long a notice stays on the attract screen

    def idle_timeout_for(self, elder: bool) -> int:
        """Seconds without a touch before the session ends.

        Elder mode never gives less time than standard mode: a technician who
        raises ``idle_timeout`` above ``elder_idle_timeout`` should not make the
        elderly hurry more than everyone else.
        """
        return max(self.elder_idle_timeout, self.idle_timeout) if elder else self.idle_timeout


@dataclass(frozen=True)
class PlatformSettings:
    url: str
    device_secret: str
    connect_timeout: float
    read_timeout: float
    start_simulator: bool
    simulator_seed: int
    ca_bundle: str


@dataclass(frozen=True)
class StorageSettings:
    dir: Path  # absolute: a relative setting is taken from the repository root
    duplicate_window_hours: float = 24.0  # see kiosk.platform.outbox (fault 11)
    # days after which a finished or abandoned submission's personal data (record, photo,
    # set-aside fragments) is deleted; docs/privacy.md
    retention_days: int = 30

    @property
    def retention_s(self) -> float:
        return self.retention_days * 86400.0


@dataclass(frozen=True)
class KioskSettings:
    mode: str  # "demo" or "production" (kiosk.core.config: what each allows)


@dataclass(frozen=True)
class IdCardSettings:
    driver: str
    transport: str  # "serial" or "hid" (USB readers wrapping SAM frames in HID reports)
    port: str
    baudrate: int
    poll_interval: float


@dataclass(frozen=True)
class SsCardSettings:
    driver: str
    reader: str
    poll_interval: float
    read_timeout: float


@dataclass(frozen=True)
class CameraSettings:
    driver: str
    device: str
    sim_source: str
    fps: int
    decoder: str
    decode_rate: float


@dataclass(frozen=True)
class ScannerSettings:
    driver: str
    port: str
    baudrate: int


@dataclass(frozen=True)
class PrinterSettings:
    driver: str
    port: str
    usb_vendor: int
    usb_product: int
    paper_width: int
    text_mode: str
    profile: str
    status_profile: str  # which printer family's status bits to read
    timeout: float
    qr_mode: str
    baudrate: int
    sim_out: str


@dataclass(frozen=True)
class DeviceSettings:
    idcard: IdCardSettings
    sscard: SsCardSettings
    camera: CameraSettings
    scanner: ScannerSettings
    printer: PrinterSettings


@dataclass(frozen=True)
class PhotoSettings:
    min_sharpness: float
    min_brightness: float
    max_brightness: float
    min_face_width: float
    max_jpeg_kb: int
    max_side: int


@dataclass(frozen=True)
class FleetSettings:
    enabled: bool
    broker: str
    start_broker: bool
    health_interval: int
    keepalive: int
    reconnect_max: int
    username: str
    password: str
    ca_file: str
    cert_file: str
    key_file: str
    operator_keys: str
    bundle_url: str
    releases_dir: str
    health_grace: int
    keep_releases: int


@dataclass(frozen=True)
class Settings:
    site: SiteSettings
    ui: UiSettings
    platform: PlatformSettings
    storage: StorageSettings
    devices: DeviceSettings
    photo: PhotoSettings
    fleet: FleetSettings
    kiosk: KioskSettings
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def from_config(cls, sections: Mapping[str, Mapping[str, Any]]) -> Settings:
        """Typed settings from validated sections (a ``Config``); runs :func:`check`."""
        storage_dir = Path(sections["storage"]["dir"])
        settings = cls(
            site=_section(SiteSettings, sections["site"]),
            ui=_section(UiSettings, sections["ui"]),
            platform=_section(PlatformSettings, sections["platform"]),
            storage=StorageSettings(
                storage_dir if storage_dir.is_absolute() else ROOT / storage_dir,
                float(sections["storage"].get("duplicate_window_hours", 24)),
                int(sections["storage"]["retention_days"]),
            ),
            devices=DeviceSettings(
                idcard=_section(IdCardSettings, sections["devices.idcard"]),
                sscard=_section(SsCardSettings, sections["devices.sscard"]),
                camera=_section(CameraSettings, sections["devices.camera"]),
                scanner=_section(ScannerSettings, sections["devices.scanner"]),
                printer=_section(PrinterSettings, sections["devices.printer"]),
            ),
            photo=_section(PhotoSettings, sections["photo"]),
            fleet=_section(FleetSettings, sections["fleet"]),
            kiosk=_section(KioskSettings, sections["kiosk"]) if "kiosk" in sections else KioskSettings("demo"),
        )
        check(settings)
        return settings


_T = TypeVar("_T")


def _section(cls: type[_T], values: Mapping[str, Any]) -> _T:
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]  # cls is always one of the dataclasses above
        value = values[f.name]
        kwargs[f.name] = float(value) if f.type == "float" else value  # TOML's 3 is a valid 3.0
    return cls(**kwargs)


def check(settings: Settings) -> None:
    """Rules that relate two settings or more; the one place they are checked."""
    ui = settings.ui
    if ui.idle_warning >= ui.idle_timeout:
        raise ConfigError(
            f"[ui] idle_warning ({ui.idle_warning} s) must be shorter than [ui] idle_timeout ({ui.idle_timeout} s)",
            f"倒计时提示（{ui.idle_warning} 秒）必须短于无操作自动退出时间（{ui.idle_timeout} 秒）。",
        )
    if ui.idle_warning >= ui.elder_idle_timeout:
        raise ConfigError(
            f"[ui] idle_warning ({ui.idle_warning} s) must be shorter than "
            f"[ui] elder_idle_timeout ({ui.elder_idle_timeout} s)",
            f"倒计时提示（{ui.idle_warning} 秒）必须短于长辈模式的自动退出时间（{ui.elder_idle_timeout} 秒）。",
        )
    photo = settings.photo
    if photo.min_brightness >= photo.max_brightness:
        raise ConfigError(
            f"[photo] min_brightness ({photo.min_brightness}) must be below max_brightness ({photo.max_brightness})"
        )


def check_schema_version(value: object, where: str) -> None:
    """Refuse a settings file written for another schema version."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: schema_version must be an integer, got {value!r}")
    if value != SCHEMA_VERSION:
        raise ConfigError(
            f"{where}: written for settings schema_version {value}; this kiosk reads version {SCHEMA_VERSION} "
            "(see docs/settings.md for what changed)"
        )
