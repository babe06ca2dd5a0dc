"""Attract screen: where every visit starts and every session ends."""

from __future__ import annotations

import datetime as dt
import time

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import StringProperty

from kiosk.core import clock as kclock
from kiosk.screens.widgets import KioskScreen

# Technician entry: this many taps in the top-left corner within this many seconds.
SECRET_TAPS = 5
SECRET_WINDOW = 4.0
SECRET_CORNER = 120  # px square

PROMPT = "请插入身份证或社保卡，\n或出示电子社保卡二维码"
WEEKDAYS = "一二三四五六日"


def clock_text(now: dt.datetime) -> str:
    return f"{now:%Y年%m月%d日} 星期{WEEKDAYS[now.weekday()]}  {now:%H:%M}"


class AttractScreen(KioskScreen):
    prompt_text = StringProperty(PROMPT)
    clock_text = StringProperty("")
    message = StringProperty("")  # last error, e.g. a card that could not be read

    def on_pre_enter(self, *args) -> None:
        self._tick(0)
        self._clock_ev = Clock.schedule_interval(self._tick, 1.0)

    def on_leave(self, *args) -> None:
        self._clock_ev.cancel()
        self.message = ""

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
