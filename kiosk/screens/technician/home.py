"""The technician home: one button per screen the staff member's role may open, and restart."""

from __future__ import annotations

from functools import partial
from typing import Any

from kivy.clock import Clock
from kivy.uix.gridlayout import GridLayout

from kiosk.screens.technician.widgets import TechPage, button, label
from kiosk.screens.widgets import KButton

# (feature, button text, screen)
HOME_ITEMS = [
    ("selftest", "设备自检", "tech_selftest"),
    ("view_logs", "查看日志", "tech_log"),
    ("view_status", "待提交业务", "tech_outbox"),
    ("view_receipts", "最近凭条", "tech_receipts"),
    ("view_status", "版本与配置", "tech_info"),
    ("edit_settings", "修改设置", "tech_settings"),
    ("fault_report", "反映问题", "tech_fault"),
    ("fault_report", "问题台账与回复", "tech_faults"),
]


class TechHomeScreen(TechPage):
    feature = None
    _restart_btn: KButton | None = None

    def fill(self, **_params: Any) -> None:
        ctl = self.controller
        if ctl.mode.session is None:
            Clock.schedule_once(lambda _dt: ctl.app.go("tech_login", _push=False))
            return
        self.title = "维护模式"
        self.show_home = False
        self.clear()
        self._restart_armed = False
        body = self.ids.body
        site = ctl.app.cfg.settings.site
        body.add_widget(label(f"{site.name}　设备编号 {site.device_id}"))
        grid = GridLayout(cols=3, spacing=24, size_hint_y=None)
        grid.bind(minimum_height=grid.setter("height"))
        for feature, text, screen in HOME_ITEMS:
            if ctl.mode.can(feature):
                grid.add_widget(button(text, partial(ctl.open, screen)))
        if ctl.mode.can("restart_app"):
            self._restart_btn = button("重启程序", self._restart, danger=True)
            grid.add_widget(self._restart_btn)
        body.add_widget(grid)

    def _restart(self) -> None:
        if not self._restart_armed:
            self._restart_armed = True
            if self._restart_btn is not None:
                self._restart_btn.text = "再按一次确认重启"
            Clock.schedule_once(lambda _dt: self._disarm(), 5)
            return
        self.controller.restart()

    def _disarm(self) -> None:
        self._restart_armed = False
        if self._restart_btn is not None:
            self._restart_btn.text = "重启程序"
