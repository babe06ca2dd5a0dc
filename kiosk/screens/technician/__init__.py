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

from pathlib import Path
from kivy.lang import Builder
from kivy.uix.screenmanager import ScreenManager

from kiosk import logbuffer
from kiosk.screens.technician.controller import TechApp, TechController
from kiosk.screens.technician.fault_list import TechFaultListScreen
from kiosk.screens.technician.fault_report import TechFaultScreen
from kiosk.screens.technician.home import HOME_ITEMS, TechHomeScreen
from kiosk.screens.technician.info import TechInfoScreen
from kiosk.screens.technician.login import TechLoginScreen
from kiosk.screens.technician.logs import TechLogScreen
from kiosk.screens.technician.outbox import TechOutboxScreen
from kiosk.screens.technician.receipts import TechReceiptsScreen
from kiosk.screens.technician.selftest import TechSelftestScreen
from kiosk.screens.technician.settings import TechSettingsScreen
from kiosk.screens.technician.widgets import TechBase, TechPage

KV_FILE = Path(__file__).with_name("technician.kv")

SCREENS: list[tuple[type[TechBase], str]] = [
    (TechLoginScreen, "tech_login"), (TechHomeScreen, "tech_home"), (TechSelftestScreen, "tech_selftest"),
    (TechLogScreen, "tech_log"), (TechOutboxScreen, "tech_outbox"), (TechReceiptsScreen, "tech_receipts"),
    (TechInfoScreen, "tech_info"), (TechSettingsScreen, "tech_settings"), (TechFaultScreen, "tech_fault"),
    (TechFaultListScreen, "tech_faults"),
]


def register(app: TechApp, sm: ScreenManager) -> TechController:
    """Install the log buffer and the controller; the kv rules and technician screens
    are built on first use when the screen manager can (kiosk.screens.lazy)."""
    logbuffer.install()
    ctl = TechController(app, sm)
    app.plugins_tech = ctl  # the app's handle on technician mode

    def build() -> None:
        Builder.load_file(str(KV_FILE))
        for cls, name in SCREENS:
            screen = cls(name=name)
            screen.controller = ctl
            if not isinstance(screen, TechPage):
                screen.ids.nav.controller = ctl
            sm.add_widget(screen)

    if hasattr(sm, "add_lazy"):
        sm.add_lazy([name for _cls, name in SCREENS], build)
    else:
        build()
    app.bind(on_stop=lambda *_a: ctl.mode.close())
    return ctl


__all__ = ["HOME_ITEMS", "SCREENS", "TechController", "register"]
