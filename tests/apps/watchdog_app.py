"""Minimal Kivy app wired to the watchdog exactly as the kiosk app must be.

Run by tests/test_watchdog_systemd.py in a subprocess under Xvfb with a real
``$NOTIFY_SOCKET``. The wiring to copy into the real app:

* ``Clock.schedule_interval(watchdog.tick, ...)`` so ticks come from the UI loop;
* ``watchdog.ready()`` once the first (attract) screen is up;
* ``watchdog.set_status(...)`` for the STATUS line;
* the ``KIOSK_TEST_BLOCK_UI_AFTER`` hook that blocks the UI loop on purpose.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")

from kivy.app import App  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.uix.label import Label  # noqa: E402

from kiosk.watchdog import Watchdog, block_after_from_env  # noqa: E402


class WatchdogDemoApp(App):
    def build(self) -> Label:
        self.watchdog = Watchdog()
        # Tick well inside stale_after so a busy frame never looks like a hang.
        Clock.schedule_interval(self.watchdog.tick, min(1.0, self.watchdog.stale_after / 4))
        return Label(text="attract screen")

    def on_start(self) -> None:
        self.watchdog.set_status("screen", "attract screen")
        self.watchdog.set_status("outbox", "outbox 0 queued")
        self.watchdog.set_status("printer", "printer ok")
        self.watchdog.ready()
        block_after = block_after_from_env()
        if block_after is not None:
            Clock.schedule_once(self._block_ui_loop, block_after)

    def _block_ui_loop(self, _dt: float) -> None:
        self.watchdog.set_status("test", "blocking the UI loop on purpose")
        time.sleep(3600)  # the test kills us long before this returns

    def on_stop(self) -> None:
        self.watchdog.close()


if __name__ == "__main__":
    WatchdogDemoApp().run()
