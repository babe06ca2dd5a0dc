"""Attract screen: where every visit starts and every session ends."""

from __future__ import annotations

import datetime as dt

from kivy.clock import Clock
from kivy.properties import StringProperty

from kiosk.screens.widgets import KioskScreen

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

    def _tick(self, _dt: float) -> None:
        self.clock_text = clock_text(dt.datetime.now())
