"""Which incoming commands a kiosk may run: signed, for this kiosk, not expired, not seen before.

Every refusal has a short machine reason that goes into the ack, so the
operator sees *why*: ``unsigned``, ``unknown_key``, ``bad_signature``,
``wrong_device``, ``expired``, ``expiry_too_far``, ``replayed``,
``clock_not_synced``, ``unknown_action``, ``malformed``.

Replay protection: the ids of accepted commands are remembered (on disk for a
real kiosk) until their expiry; since a command past its expiry is refused
anyway, the memory stays bounded by ``MAX_TTL``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.core.storage import write_text_atomic
from kiosk.fleet import signing

log = logging.getLogger("kiosk.fleet.guard")

MAX_TTL = 7 * 24 * 3600.0
#: A clock before this is surely not synced yet (RTC battery dead, just after a power cut).
CLOCK_FLOOR = 1767225600.0  # 2026-01-01 UTC; raise it with each release
ACTIONS = ("selftest", "restart", "logs", "set_config", "reprint_faults", "update_catalog", "update_bundle", "update")


def clock_plausible(now: float) -> bool:
    return now >= CLOCK_FLOOR


class SeenIds:
    """Command ids already run, with their expiry; persisted when ``path`` is given."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path else None
        self._ids: dict[str, float] = {}
        self._mutex = threading.Lock()
        if self.path and self.path.exists():
            try:
                self._ids = {str(k): float(v) for k, v in json.loads(self.path.read_text("utf-8")).items()}
            except (ValueError, AttributeError, OSError) as exc:
                log.error("fleet: replay list %s unreadable (%s); starting empty", self.path, exc)

    def add_if_new(self, cmd_id: str, expires: float, now: float) -> bool:
        with self._mutex:
            self._ids = {k: v for k, v in self._ids.items() if v >= now}
            if cmd_id in self._ids:
                return False
            self._ids[cmd_id] = expires
            if self.path:
                write_text_atomic(self.path, json.dumps(self._ids))
            return True


class Guard:
    def __init__(
        self,
        device_id: str,
        keys: Callable[[], dict[str, Ed25519PublicKey]],
        seen: SeenIds,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.device_id = device_id
        self.keys = keys
        self.seen = seen
        self.clock = clock

    def check(self, cmd_id: str, doc: Any) -> str | None:
        """None to run the command; else the refusal reason."""
        if (
            not isinstance(doc, dict)
            or doc.get("id") != cmd_id
            or not isinstance(doc.get("action"), str)
            or not isinstance(doc.get("expires"), (int, float))
            or not isinstance(doc.get("args", {}), dict)
        ):
            return "malformed"
        reason = signing.verify(doc, self.keys())
        if reason:
            return reason
        if doc.get("device_id") != self.device_id:
            return "wrong_device"
        now = self.clock()
        if not clock_plausible(now):
            return "clock_not_synced"  # cannot judge expiry; the operator retries after NTP
        if doc["expires"] < now:
            return "expired"
        if doc["expires"] > now + MAX_TTL:
            return "expiry_too_far"
        if doc["action"] not in ACTIONS:
            return "unknown_action"
        if not self.seen.add_if_new(cmd_id, float(doc["expires"]), now):
            return "replayed"
        return None
