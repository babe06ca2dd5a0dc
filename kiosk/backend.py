"""The kiosk's link to the provincial platform: client, durable outbox, heartbeat.

Built from config without touching the network, so the UI can start at once.
On embedded defaults the local platform simulator is started on a worker
thread; until it (or the real platform) answers, submissions wait durably in
the outbox and enquiries say the platform is unreachable.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable

from kiosk.core.config import Config
from kiosk.core.errors import KioskError, PlatformError
from kiosk.core.storage import sweep_set_aside
from kiosk.core.supervised import run_loop
from kiosk.platform.http_client import HttpPlatform
from kiosk.platform.outbox import Outbox

if TYPE_CHECKING:
    from kiosk.platform.simulator.launcher import SimulatorHandle

log = logging.getLogger("kiosk.backend")

HEARTBEAT_EVERY = 60.0


def report_recovery(cfg: Config, recovery: Any) -> None:
    """A store was damaged and repaired at open: technician alert + audit entry (never fatal)."""
    from kiosk.audit import AuditLog
    from kiosk.core.alerts import raise_alert

    raise_alert(f"storage-{recovery.path.name}", recovery.describe(),
                f"本机数据文件 {recovery.path.name} 损坏已修复：保留 {recovery.kept} 条，"
                f"{recovery.lost} 条无法恢复，请联系运维核对。")
    try:
        with AuditLog(cfg.storage_dir / "audit.jsonl") as audit:
            audit.append("storage.recovered", outcome="partial" if recovery.lost else "ok", file=recovery.path.name,
                         reason=recovery.reason, kept=recovery.kept, lost=recovery.lost,
                         set_aside=recovery.set_aside.name if recovery.set_aside else "")
    except Exception as exc:  # noqa: BLE001 - the alert stands even if the audit log is unwritable
        log.error("could not audit the recovery of %s: %s", recovery.path.name, exc)


class Backend:
    def __init__(self, cfg: Config, *, status: Callable[[], dict[str, Any]] | None = None) -> None:
        self.cfg = cfg
        settings = cfg.settings
        self.settings = settings.platform
        self.storage_dir = settings.storage.dir
        p = self.settings
        self.platform = HttpPlatform(p.url, settings.site.device_id, p.device_secret,
                                     p.connect_timeout, p.read_timeout, ca_bundle=p.ca_bundle or None)
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        self.outbox = Outbox(self.storage_dir / "outbox.json", self.platform,
                             duplicate_window=settings.storage.duplicate_window_hours * 3600,
                             retention_s=settings.storage.retention_s)
        # set-aside fragments of corrupt files follow the same retention rule as the records
        sweep_set_aside(self.storage_dir, settings.storage.retention_s)
        if self.outbox.recovery is not None:
            report_recovery(cfg, self.outbox.recovery)
        self.simulator: SimulatorHandle | None = None
        self.ready = threading.Event()   # set once the platform side is settled (simulator up or not ours)
        self.platform_answered: bool | None = None  # the last heartbeat's outcome (None: none yet)
        self._status = status or (lambda: {})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backend", daemon=True)

    def start(self) -> "Backend":
        self._thread.start()
        return self

    def _run(self) -> None:
        p = self.settings
        # Only a demo kiosk ever starts the simulator (config refuses start_simulator in production):
        # a fake platform must never hand out acceptance numbers on a real kiosk.
        if p.start_simulator and self.cfg.demo:
            from kiosk.platform.simulator.launcher import ensure_simulator

            try:
                self.simulator = ensure_simulator(p.url, p.simulator_seed, device_secret=p.device_secret,
                                                  state_path=str(self.storage_dir / "platform-sim.jsonl"))
                if self.simulator is not None:
                    log.info("platform simulator started at %s (seed %s)", p.url, p.simulator_seed)
            except KioskError as exc:
                log.error("platform simulator did not start: %s", exc)
        self.ready.set()
        # Supervised: any failure (not only the platform's) is logged once and retried.
        run_loop("platform-heartbeat", self._beat_once, self._stop, max_silence=120.0, backoff_base=5.0,
                 backoff_cap=HEARTBEAT_EVERY, logger=log)

    def _beat_once(self) -> float:
        self.heartbeat()
        return HEARTBEAT_EVERY

    def heartbeat(self) -> bool:
        """Tell the platform we are alive; when it answers, send what waits in the outbox."""
        try:
            self.platform.heartbeat({**self._status(), "outbox_pending": self.outbox.status().pending})
        except PlatformError as exc:
            log.info("heartbeat: platform unreachable (%s)", exc)
            self.platform_answered = False
            return False
        self.platform_answered = True
        self.outbox.kick()
        return True

    def close(self) -> None:
        self._stop.set()
        try:
            self.outbox.close()
        finally:
            self.platform.close()
            if self.simulator is not None:
                self.simulator.stop()
