"""The recent log lines (ID numbers already masked by the log buffer), newest first."""

from __future__ import annotations

from typing import Any

from kivy.app import App

from kiosk import logbuffer
from kiosk.screens.technician.widgets import TechPage, button, label


class TechLogScreen(TechPage):
    feature = "view_logs"

    def fill(self, **_params: Any) -> None:
        self.title = "最近日志"
        self.clear()
        self.ids.actions.add_widget(button("刷新", self.fill))
        buf = logbuffer.get()
        lines = buf.lines(200) if buf else []
        if not lines:
            self.ids.body.add_widget(label("没有日志。"))
            return
        self.ids.body.add_widget(label(f"最近 {len(lines)} 行，最新的在最上面（身份证号已隐去）："))
        for line in reversed(lines):
            w = label(line, small=True)
            if " ERROR " in line or " WARNING " in line:
                w.color = App.get_running_app().theme.accent
            self.ids.body.add_widget(w)
