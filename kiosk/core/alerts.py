"""Technician alerts: conditions a technician must look at (not shown to residents).

A process-wide, thread-safe set keyed by source. The technician's info screen
lists them and the app puts them in systemd's STATUS= line. Texts are English
for the log plus a short Chinese line for the technician screen; never
personal data.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("kiosk.alerts")


@dataclass(frozen=True)
class Alert:
    key: str
    text_en: str
    text_zh: str
    at: float


_lock = threading.Lock()
_alerts: dict[str, Alert] = {}


def raise_alert(key: str, text_en: str, text_zh: str) -> Alert:
    alert = Alert(key, text_en, text_zh, time.time())
    with _lock:
        _alerts[key] = alert
    log.error("technician alert %s: %s", key, text_en)
    return alert


def clear_alert(key: str) -> None:
    with _lock:
        _alerts.pop(key, None)


def alerts() -> list[Alert]:
    with _lock:
        return sorted(_alerts.values(), key=lambda a: a.at)
