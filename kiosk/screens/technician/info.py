"""Versions, alerts, device states and the configuration (secrets hidden)."""

from __future__ import annotations

import platform as _pyplatform
import sys
from typing import Any

from kiosk import __version__
from kiosk.core.alerts import alerts
from kiosk.screens.technician.widgets import TechPage, label


class TechInfoScreen(TechPage):
    feature = "view_status"

    def fill(self, **_params: Any) -> None:
        import kivy

        self.title = "版本与配置"
        self.clear()
        app = self.controller.app
        cfg = app.cfg
        site = cfg.settings.site
        body = self.ids.body
        body.add_widget(label("版本", title=True))
        for line in (f"自助机软件 {__version__}", f"Python {sys.version.split()[0]}　Kivy {kivy.__version__}",
                     f"系统 {_pyplatform.platform()}", f"设备编号 {site.device_id}　服务点 {site.name}",
                     f"配置文件 {cfg.source or '（内置默认值）'}"):
            body.add_widget(label(line, small=True))
        pending = alerts()
        if pending:
            body.add_widget(label("需要处理", title=True, color=app.theme.accent))
            for alert in pending:
                body.add_widget(label(alert.text_zh, small=True))
        states = app.devices.status()
        if states:
            body.add_widget(label("设备状态", title=True))
            for st in states.values():
                body.add_widget(label(f"{st.name}：{st.driver} {st.status} {st.detail}", small=True))
        body.add_widget(label("配置（密钥已隐藏）", title=True))
        for section, values in cfg.public_view().items():
            text = f"[{section}]\n" + "\n".join(f"{k} = {v!r}" for k, v in values.items())
            body.add_widget(label(text, small=True))
