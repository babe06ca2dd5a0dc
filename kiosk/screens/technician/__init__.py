"""Technician mode screens: login, home, self-test, log, outbox, receipts, info, settings, faults.

Loaded by the app through ``register(app, sm)`` (see kiosk.app.screen_modules);
one module per screen, the shared base and helpers in ``widgets``, the
controller in ``controller``, the kv rules in ``technician.kv``. The screens are
thin: every rule and every file/network action is in
``kiosk.flows.tech_mode.TechMode`` (Kivy-free, tested without a window), run on
worker threads; results come back to the UI thread through Clock.

Leaving technician mode in any way (the exit button, the idle timeout, a
card inserted, a restart) wipes the staff session and what the screens
showed.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from kivy.uix.screenmanager import ScreenManager

from kiosk import logbuffer

if TYPE_CHECKING:
    from kiosk.screens.technician.controller import TechApp, TechController
    from kiosk.screens.technician.widgets import TechBase

KV_FILE = Path(__file__).with_name("technician.kv")

# The screens' names, known without importing them: this package's modules (and the
# staff login, audit and self-test behind them) load when technician mode is first
# entered, never at the kiosk's start (docs/benchmarks.md, issue 16).
SCREEN_NAMES = ("tech_login", "tech_home", "tech_selftest", "tech_log", "tech_outbox", "tech_receipts",
                "tech_info", "tech_settings", "tech_fault", "tech_faults")


def screens() -> list[tuple[type[TechBase], str]]:
    """(screen class, name) of every technician screen, in SCREEN_NAMES' order."""
    from kiosk.screens.technician.fault_list import TechFaultListScreen
    from kiosk.screens.technician.fault_report import TechFaultScreen
    from kiosk.screens.technician.home import TechHomeScreen
    from kiosk.screens.technician.info import TechInfoScreen
    from kiosk.screens.technician.login import TechLoginScreen
    from kiosk.screens.technician.logs import TechLogScreen
    from kiosk.screens.technician.outbox import TechOutboxScreen
    from kiosk.screens.technician.receipts import TechReceiptsScreen
    from kiosk.screens.technician.selftest import TechSelftestScreen
    from kiosk.screens.technician.settings import TechSettingsScreen

    classes = (TechLoginScreen, TechHomeScreen, TechSelftestScreen, TechLogScreen, TechOutboxScreen,
               TechReceiptsScreen, TechInfoScreen, TechSettingsScreen, TechFaultScreen, TechFaultListScreen)
    return list(zip(classes, SCREEN_NAMES))


def register(app: TechApp, sm: ScreenManager) -> Callable[[], TechController]:
    """Install the log buffer; the controller, the kv rules and technician screens are
    made on first use when the screen manager can (kiosk.screens.lazy). Returns the
    function that gives the controller (made on its first call: ``app.plugins_tech``)."""
    logbuffer.install()
    made: list[TechController] = []
    lock = threading.Lock()  # the fleet's fault-list reprint may ask first, from its worker thread

    def controller() -> TechController:
        with lock:
            if not made:
                from kiosk.screens.technician.controller import TechController

                ctl = TechController(app, sm)
                made.append(ctl)
                app.bind(on_stop=lambda *_a: ctl.mode.close())
            return made[0]

    def build() -> None:
        from kivy.lang import Builder

        from kiosk.screens.technician.widgets import TechPage

        ctl = controller()
        Builder.load_file(str(KV_FILE))
        for cls, name in screens():
            screen = cls(name=name)
            screen.controller = ctl
            if not isinstance(screen, TechPage):
                screen.ids.nav.controller = ctl
            sm.add_widget(screen)

    if hasattr(sm, "add_lazy"):
        sm.add_lazy(list(SCREEN_NAMES), build)
    else:
        build()
    return controller


def __getattr__(name: str) -> Any:
    """The names this package exported before it loaded its modules lazily."""
    if name == "SCREENS":
        return screens()
    if name == "HOME_ITEMS":
        from kiosk.screens.technician.home import HOME_ITEMS

        return HOME_ITEMS
    if name == "TechController":
        from kiosk.screens.technician.controller import TechController

        return TechController
    raise AttributeError(name)


__all__ = ["HOME_ITEMS", "SCREENS", "SCREEN_NAMES", "TechController", "register", "screens"]
