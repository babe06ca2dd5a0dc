"""The few settings a technician may change on the kiosk (kiosk.flows.tech_mode.SAFE_SETTINGS)."""

from __future__ import annotations

from functools import partial
from typing import Any

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.core.errors import KioskError
from kiosk.flows.tech_mode import SAFE_SETTINGS
from kiosk.screens.technician.widgets import TechPage, button, label


class TechSettingsScreen(TechPage):
    feature = "edit_settings"
    message = StringProperty("")

    def fill(self, **_params: Any) -> None:
        self.title = "修改设置"
        self.clear()
        self.values = self.controller.mode.current_settings()
        self.value_labels: dict[str, Label] = {}
        body = self.ids.body
        for name, spec in SAFE_SETTINGS.items():
            body.add_widget(label(spec.label_zh + ("（重启后生效）" if not spec.live else ""), title=True))
            row = BoxLayout(size_hint_y=None, height=100, spacing=24)
            if spec.choices:
                for choice in spec.choices:
                    row.add_widget(button(f"{choice}{spec.unit_zh}", partial(self.set, name, choice)))
            else:
                row.add_widget(button("减少", partial(self.step, name, -1)))
                row.add_widget(button("增加", partial(self.step, name, +1)))
            value = label("", title=True, size_hint_x=0.8)
            self.value_labels[name] = value
            row.add_widget(value)
            body.add_widget(row)
        self.msg = label("", color=self.controller.app.theme.accent)
        body.add_widget(self.msg)
        self.ids.actions.add_widget(button("保存设置", self.save))
        self._refresh()

    def _refresh(self) -> None:
        for name, w in self.value_labels.items():
            spec = SAFE_SETTINGS[name]
            v = self.values[name]
            shown = f"{int(round(v * 100))}%" if name == "volume" else f"{v}{spec.unit_zh}"
            w.text = f"当前：{shown}"

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value
        self._refresh()

    def step(self, name: str, direction: int) -> None:
        spec = SAFE_SETTINGS[name]
        v = self.values[name] + direction * spec.step
        v = max(spec.low, min(spec.high, v))  # type: ignore[type-var]
        self.values[name] = round(v, 2) if isinstance(spec.step, float) else int(v)
        self._refresh()

    def save(self) -> None:
        app = self.controller.app
        current = self.controller.mode.current_settings()
        changed = {n: v for n, v in self.values.items() if v != current[n]}
        if not changed:
            self.msg.text = "设置没有变化。"
            return
        try:
            stored = self.controller.mode.change_settings(changed)
        except KioskError as exc:
            self.msg.text = exc.message_zh or "设置无效。"
            return
        if "idle_timeout" in stored:
            app.apply_settings("ui.idle_timeout")  # the app builds its idle timer (one rule for both modes)
        later = [SAFE_SETTINGS[n].label_zh for n in stored if not SAFE_SETTINGS[n].live]
        self.msg.text = "已保存。" + (f"{'、'.join(later)}重启程序后生效。" if later else "")
        self.msg.color = app.theme.ok
