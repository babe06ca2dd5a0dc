"""Remote configuration: which keys the fleet may set, applying them, and keeping them over restarts.

Only keys on :data:`ALLOWED` can be changed remotely (``set_config`` command or
``config/desired``): timeouts, volume, contact details, intervals. Device
drivers, URLs, secrets and keys never are: a mistake there would take the
kiosk off the network, out of reach of the very channel that could fix it.
Applied values are validated by the same schema as ``kiosk.toml`` and kept in
``<storage>/fleet/settings.json``, applied again at every start.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from kiosk.core.config import Config, check_value
from kiosk.core.errors import ConfigError
from kiosk.core.settings import Settings
from kiosk.core.storage import write_text_atomic

log = logging.getLogger("kiosk.fleet.remote_config")

ALLOWED = frozenset(
    {
        "ui.idle_timeout",
        "ui.idle_warning",
        "ui.elder_idle_timeout",
        "ui.volume",
        "site.name",
        "site.office_phone",
        "site.office_name",
        "site.office_address",
        "fleet.health_interval",
        "devices.printer.timeout",
        "devices.idcard.poll_interval",
    }
)


def split_key(dotted: str) -> tuple[str, str]:
    section, _, key = dotted.rpartition(".")
    return section, key


def config_hash(cfg: Config) -> str:
    text = json.dumps(cfg.public_view(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class RemoteConfig:
    def __init__(self, cfg: Config, path: str | Path) -> None:
        self.cfg = cfg
        self.path = Path(path)
        self.saved: dict[str, Any] = {}
        if self.path.exists():
            try:
                self.saved = dict(json.loads(self.path.read_text("utf-8")))
            except (ValueError, TypeError, OSError) as exc:
                log.error("fleet settings %s unreadable (%s); ignoring them", self.path, exc)
        for dotted, value in list(self.saved.items()):
            reason = self._apply(dotted, value)
            if reason:
                log.warning(
                    "fleet setting %s=%r from %s no longer valid (%s); dropped", dotted, value, self.path.name, reason
                )
                self.saved.pop(dotted)

    def set(self, dotted: str, value: Any) -> str | None:
        """Apply and keep one setting; None when applied, else why it was refused."""
        reason = self._apply(dotted, value)
        if reason is None:
            self.saved[dotted] = value
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.path, json.dumps(self.saved, ensure_ascii=False, indent=1))
            log.info("fleet: setting %s = %r applied", dotted, value)
        else:
            log.warning("fleet: setting %s refused: %s", dotted, reason)
        return reason

    def _apply(self, dotted: str, value: Any) -> str | None:
        if dotted not in ALLOWED:
            return "not_allowed"
        section, key = split_key(dotted)
        try:
            check_value(section, key, value)
        except ConfigError as exc:
            return f"invalid: {exc}"
        old = self.cfg[section][key]
        self.cfg[section][key] = value
        try:
            Settings.from_config(self.cfg)  # the rules relating several keys (kiosk.core.settings.check)
        except ConfigError as exc:
            self.cfg[section][key] = old
            return f"invalid: {exc}"
        return None
