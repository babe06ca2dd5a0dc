"""The technician-mode controller: owns ``TechMode``, navigation inside technician mode, worker threads.

One per app (``app.plugins_tech``). Every rule and every file/network action is
in ``kiosk.flows.tech_mode.TechMode`` (Kivy-free); the controller hands it what
it needs from the app (the platform client, the self-test over the app's
devices) and runs its calls on worker threads, results coming back to the UI
thread through Clock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Protocol

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import StringProperty
from kivy.uix.screenmanager import ScreenManager

from kiosk.core.config import Config
from kiosk.core.errors import KioskError
from kiosk.flows import staff_auth as sa
from kiosk.flows.tech_mode import TechMode
from kiosk.selftest import CheckResult, run_selftest

if TYPE_CHECKING:
    from kiosk.backend import Backend
    from kiosk.devices import DeviceHub
    from kiosk.fleet.agent import FleetAgent
    from kiosk.screens.theme import Theme

log = logging.getLogger("kiosk.tech")


class TechApp(Protocol):
    """What technician mode uses of the app (kiosk.app.KioskApp; screens do not import the app)."""

    cfg: Config
    devices: DeviceHub
    backend: Backend | None
    fleet: FleetAgent | None
    theme: Theme
    exit_code: int

    @property
    def plugins_tech(self) -> TechController: ...

    def bind(self, **kwargs: Any) -> Any: ...

    def go(self, name: str, _push: bool = True, **params: Any) -> None: ...
    def go_attract(self) -> None: ...
    def apply_settings(self, dotted: str) -> None: ...
    def stop(self) -> None: ...


class TechController(EventDispatcher):
    who = StringProperty("")

    def __init__(self, app: TechApp, sm: ScreenManager, mode: TechMode | None = None) -> None:
        super().__init__()
        self.app = app
        self.sm = sm
        # Handed the app's platform client (the backend's; asked when first needed) and the self-test.
        self.mode = mode or TechMode(app.cfg, selftest=self.run_selftest,
                                     platform=lambda: app.backend.platform if app.backend is not None else None)
        self.generation = 0  # bumped at every wipe: late worker results for an old session are dropped
        sm.bind(current=self._on_screen)

    # -- the self-test TechMode runs: the app's devices, platform client and outbox (kiosk.backend.Backend) --
    def run_selftest(self, test_page: bool, on_result: Callable[[CheckResult], None] | None) -> Sequence[CheckResult]:
        """The self-test over the app's own devices, platform client and outbox (TechMode's ``selftest``)."""
        backend = self.app.backend
        return run_selftest(self.app.cfg, self.app.devices, platform=backend.platform if backend else None,
                            outbox=backend.outbox if backend else None, test_page=test_page, on_result=on_result)

    # -- navigation ---------------------------------------------------------
    def home(self) -> None:
        self.app.go("tech_home", _push=False)

    def open(self, screen: str) -> None:
        self.app.go(screen, _push=False)

    def leave(self) -> None:
        self.wipe("technician left")
        self.app.go_attract()

    def _on_screen(self, _sm: ScreenManager, name: str) -> None:
        if not name.startswith("tech_") and (self.mode.session is not None or self.who):
            self.wipe(f"left technician mode for {name}")

    def wipe(self, reason: str) -> None:
        """End the staff session and clear every technician screen."""
        from kiosk.screens.technician.widgets import TechBase

        self.generation += 1
        self.mode.end_session(reason)
        self.who = ""
        for screen in self.sm.screens:
            if isinstance(screen, TechBase):
                screen.wipe()

    def logged_in(self, result: sa.LoginResult | None) -> None:
        self.who = self.mode.who_zh
        fleet = self.app.fleet
        if fleet is not None and result is not None and result.session is not None:
            # The county sees who serviced the kiosk: the account only, never a name or ID number.
            fleet.event("technician_login", account=result.session.account.account_id, method=result.method)
        self.home()

    # -- threads ------------------------------------------------------------
    def background(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run ``work`` on a worker thread; ``done(result or exception)`` on the UI thread."""
        gen = self.generation

        def run() -> None:
            try:
                result: Any = work()
            except Exception as exc:  # noqa: BLE001 - shown on screen
                if not isinstance(exc, KioskError):
                    log.exception("technician action failed")
                result = exc
            Clock.schedule_once(lambda _dt: done(result) if gen == self.generation else None)

        threading.Thread(target=run, name="tech-action", daemon=True).start()

    def restart(self) -> None:
        code = self.mode.request_restart()
        self.app.exit_code = code  # kiosk run returns it; systemd (Restart=always) starts the kiosk again
        log.info("technician restart: app exits with %d", code)
        self.app.stop()
