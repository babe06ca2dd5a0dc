"""The health check that keeps a new software version (or lets ``boot()`` roll it back).

A version switched to by an update is on probation (kiosk.fleet.update). It
is kept (:func:`kiosk.fleet.update.mark_good`) once the attract screen has
been drawn and, either, every device has started and the platform answered,
or the attract screen has stayed up for ``grace`` seconds. The second arm
matters in a village: a printer out of paper or a platform outage on update
day is not the new version's fault, and rolling back for it would undo a
good update; a version that cannot even draw its attract screen (or crashes
before ``grace``) never gets the mark, and after ``MAX_BOOTS`` starts
``boot()`` rolls it back. Pure decisions here; the app supplies the signals.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.core.storage import write_text_atomic
from kiosk.fleet import update

log = logging.getLogger("kiosk.fleet.probation")

DEVICES = ("idcard", "printer", "camera", "sscard")
NOT_UP = ("offline", "starting", "no_device")


@dataclass(frozen=True)
class Signals:
    attract_drawn: bool
    devices_up: bool
    platform_reachable: bool
    up_for: float  # seconds since the attract screen was first drawn


def devices_up(states: dict[str, Any]) -> bool:
    """Every device has finished starting and none is offline (``disabled`` counts as up)."""
    return all(name in states and getattr(states[name], "status", "") not in NOT_UP for name in DEVICES)


def healthy(sig: Signals, grace: float) -> bool:
    if not sig.attract_drawn:
        return False
    return (sig.devices_up and sig.platform_reachable) or sig.up_for >= grace


class Probation:
    """One per start: reports a rollback that happened at boot, marks the new version good once healthy."""

    def __init__(self, base: Path, grace: float, report: Callable[..., None], keep: int = 3) -> None:
        self.base, self.grace, self.report, self.keep = base, grace, report, keep
        self.version = update.current_version(base)
        self.pending = update.pending(base)
        self.done = self.pending is None

    def report_boot(self) -> None:
        """A rollback done by ``boot()`` before this start becomes a fleet event, once."""
        state = update.state(self.base)
        if state.get("rolled_back"):
            log.error(
                "version %s failed its health check %d times; rolled back to %s",
                state["rolled_back"],
                update.MAX_BOOTS,
                self.version,
            )
            self.report(
                "software_update",
                ok=False,
                version=state["rolled_back"],
                stage="rolled_back",
                reason="health_check_failed",
                running=self.version,
            )
            if not state.get("pending"):
                write_text_atomic(self.base / "update.json", json.dumps({}))

    def prune(self) -> None:
        """Old release directories go once nothing is on probation (kiosk.fleet.update.prune)."""
        removed = update.prune(self.base, self.keep)
        if removed:
            log.info("old releases removed (keeping %d): %s", self.keep, ", ".join(removed))

    def check(self, sig: Signals) -> bool:
        """True once nothing is left to do (no version on probation, or it was just kept)."""
        if self.done:
            self.prune()
            return True
        if not healthy(sig, self.grace):
            return False
        update.mark_good(self.base)
        self.done = True
        self.prune()
        how = (
            "devices and platform up"
            if sig.devices_up and sig.platform_reachable
            else f"attract screen up for {int(sig.up_for)} s"
        )
        log.info("version %s passed its health check (%s): kept", self.pending, how)
        self.report("software_update", ok=True, version=self.pending, stage="kept", how=how)
        return True
