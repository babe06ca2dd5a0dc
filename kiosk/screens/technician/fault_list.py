"""The fault ledger: every report with its routing, deadline and the platform's replies."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.uix.boxlayout import BoxLayout

from kiosk.core import clock
from kiosk.screens.technician.widgets import TechPage, button, label


class TechFaultListScreen(TechPage):
    feature = "fault_report"

    def fill(self, refresh: bool = True, **_params: Any) -> None:
        self.title = "问题台账与回复"
        self.clear()
        self.ids.actions.add_widget(button("刷新回复", self.refresh))
        self.ids.actions.add_widget(button("反映新问题", lambda: self.controller.open("tech_fault")))
        self.msg = label("")
        self.ids.body.add_widget(self.msg)
        self.list_box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=16)
        self.list_box.bind(minimum_height=self.list_box.setter("height"))
        self.ids.body.add_widget(self.list_box)
        self.render()
        if refresh:
            self.refresh()

    def render(self) -> None:
        theme = App.get_running_app().theme
        self.list_box.clear_widgets()
        records = list(reversed(self.controller.mode.ledger.records()))
        if not records:
            self.list_box.add_widget(label("台账中还没有问题。"))
            return
        today = clock.today()
        for rec in records:
            head = f"{rec.fault_no or rec.local_id}　{rec.category_zh}　{rec.state_zh}"
            if rec.routed_to_zh:
                head += f"　→ {rec.routed_to_zh}"
            self.list_box.add_widget(label(head, title=True))
            lines = [f"问题：{rec.summary_zh}", f"提交时间：{rec.created_at[:16].replace('T', ' ')}"]
            if rec.reply_due_zh:
                lines.append(f"反馈时限：{rec.reply_due_zh}" + ("（已超期）" if rec.overdue(today) else ""))
            for rp in rec.replies:
                lines.append(f"回复（{rp.by_zh}，{rp.at[:16].replace('T', ' ')}）：{rp.text_zh}")
            self.list_box.add_widget(label("\n".join(lines), color=theme.accent if rec.overdue(today) else None))

    def refresh(self) -> None:
        self.msg.text = "正在从服务平台获取回复……"
        self.controller.background(self.controller.mode.refresh_faults, self._refreshed)

    def _refreshed(self, result: tuple[int, int] | Exception) -> None:
        theme = App.get_running_app().theme
        if isinstance(result, Exception):
            self.msg.text = "服务平台暂时连不上，显示的是本机台账。"
            self.msg.color = theme.accent
        else:
            sent, new = result
            self.msg.text = f"已更新：新发送 {sent} 条，新回复 {new} 条。"
            self.msg.color = theme.ok
        self.render()
