"""Attract screen: where every visit starts and every session ends."""

from __future__ import annotations

import datetime as dt
import time

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty

from kiosk.core import clock as kclock
from kiosk.screens.widgets import KioskScreen

# Technician entry: this many taps in the top-left corner within this many seconds.
SECRET_TAPS = 5
SECRET_WINDOW = 4.0
SECRET_CORNER = 120  # px square

# A second-generation ID card is read contactless: it is laid on the reader, not inserted.
PROMPT = "请把身份证放在感应区，或插入社保卡，\n或出示电子社保卡二维码"
# A message left for the person who just acted (an unreadable card, a refused QR
# code, "logged out, take your ID card") goes away after this long, so the next
# visitor always finds a clean attract screen.
NOTICE_SECONDS = 12.0
WEEKDAYS = "一二三四五六日"


def clock_text(now: dt.datetime) -> str:
    return f"{now:%Y年%m月%d日} 星期{WEEKDAYS[now.weekday()]}  {now:%H:%M}"


class AttractScreen(KioskScreen):
    prompt_text = StringProperty(PROMPT)
    clock_text = StringProperty("")
    message = StringProperty("")  # last notice, e.g. a card that could not be read
    message_is_error = BooleanProperty(True)  # red for errors, green for "logged out" notices

    def show(self, **_params) -> None:
        """Every visit starts from a clean attract screen."""
        self.clear_notice()

    def notice(self, text: str, error: bool = True, seconds: float | None = None) -> None:
        """Show ``text`` under the prompt for a while (spoken separately by the caller)."""
        self.message, self.message_is_error = text, error
        ev = getattr(self, "_notice_ev", None)
        if ev is not None:
            ev.cancel()
        if seconds is None:
            seconds = App.get_running_app().cfg.settings.ui.notice_seconds
        self._notice_ev = Clock.schedule_once(lambda _dt: self.clear_notice(), seconds)

    def clear_notice(self) -> None:
        ev = getattr(self, "_notice_ev", None)
        if ev is not None:
            ev.cancel()
            self._notice_ev = None
        self.message = ""

    def wipe(self) -> None:
        self.clear_notice()

    def on_pre_enter(self, *args) -> None:
        self._tick(0)
        self._clock_ev = Clock.schedule_interval(self._tick, 1.0)

    def on_leave(self, *args) -> None:
        self._clock_ev.cancel()
        self.clear_notice()

    def on_touch_down(self, touch) -> bool:
        # A hidden gesture, invisible to residents: taps in the top-left corner.
        if touch.x < SECRET_CORNER and touch.y > self.height - SECRET_CORNER:
            now = time.monotonic()
            self._taps = [t for t in getattr(self, "_taps", []) if now - t < SECRET_WINDOW] + [now]
            if len(self._taps) >= SECRET_TAPS:
                self._taps = []
                App.get_running_app().open_technician()
            return True
        if super().on_touch_down(touch):
            return True
        # A touch anywhere else: the resident is looking for how to start.
        App.get_running_app().voice.say("insert_card")
        return True

    def _tick(self, _dt: float) -> None:
        self.clock_text = clock_text(kclock.now())
