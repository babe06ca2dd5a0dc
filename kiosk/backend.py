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
from kiosk.platform.http_client import HttpPlatform
from kiosk.platform.outbox import Outbox

if TYPE_CHECKING:
    from kiosk.platform.simulator.launcher import SimulatorHandle

log = logging.getLogger("kiosk.backend")

HEARTBEAT_EVERY = 60.0


class Backend:
    def __init__(self, cfg: Config, *, status: Callable[[], dict[str, Any]] | None = None) -> None:
        settings = cfg.settings
        self.settings = settings.platform
        self.storage_dir = settings.storage.dir
        p = self.settings
        self.platform = HttpPlatform(p.url, settings.site.device_id, p.device_secret,
                                     p.connect_timeout, p.read_timeout, ca_bundle=p.ca_bundle or None)
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        self.outbox = Outbox(self.storage_dir / "outbox.json", self.platform)
        self.simulator: SimulatorHandle | None = None
        self.ready = threading.Event()   # set once the platform side is settled (simulator up or not ours)
        self._status = status or (lambda: {})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="backend", daemon=True)

    def start(self) -> "Backend":
        self._thread.start()
        return self

    def _run(self) -> None:
        p = self.settings
        if p.start_simulator:
            from kiosk.platform.simulator.launcher import ensure_simulator

            try:
                self.simulator = ensure_simulator(p.url, p.simulator_seed, device_secret=p.device_secret,
                                                  state_path=str(self.storage_dir / "platform-sim.jsonl"))
                if self.simulator is not None:
                    log.info("platform simulator started at %s (seed %s)", p.url, p.simulator_seed)
            except KioskError as exc:
                log.error("platform simulator did not start: %s", exc)
        self.ready.set()
        while not self._stop.is_set():
            try:
                self.heartbeat()
            except Exception:  # the worker survives anything; close() racing a heartbeat ends here
                if self._stop.is_set():
                    break
                log.exception("heartbeat failed; next try in %.0f s", HEARTBEAT_EVERY)
            self._stop.wait(HEARTBEAT_EVERY)

    def heartbeat(self) -> bool:
        """Tell the platform we are alive; when it answers, send what waits in the outbox."""
        try:
            self.platform.heartbeat({**self._status(), "outbox_pending": self.outbox.status().pending})
        except PlatformError as exc:
            log.info("heartbeat: platform unreachable (%s)", exc)
            return False
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
