"""The device self-test screen: one card per check as it finishes, failures first at the end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.selftest import CheckResult, summary_zh
from kiosk.screens.technician.widgets import TechPage, button, label


class TechSelftestScreen(TechPage):
    feature = "selftest"
    running = BooleanProperty(False)

    def fill(self, test_page: bool = False, **_params: Any) -> None:
        self.title = "设备自检"
        self.clear()
        self.rows: dict[str, BoxLayout] = {}  # one card per check
        actions = self.ids.actions
        actions.add_widget(button("重新自检", lambda: self.start(False)))
        actions.add_widget(button("自检并打印测试页", lambda: self.start(True)))
        self.summary = label("", title=True)
        self.ids.body.add_widget(self.summary)
        self.start(test_page)

    def start(self, test_page: bool) -> None:
        if self.running:
            return
        self.running = True
        self.results: Sequence[CheckResult] = []
        for w in list(self.rows.values()):
            self.ids.body.remove_widget(w)
        self.rows = {}
        self.summary.text = "正在自检，请稍候……"
        self.summary.color = App.get_running_app().theme.fg
        ctl = self.controller

        def progress(res: CheckResult) -> None:
            Clock.schedule_once(lambda _dt: self._add_row(res))

        ctl.background(lambda: ctl.mode.run_selftest(test_page=test_page, on_result=progress), self._done)

    def _add_row(self, res: CheckResult) -> None:
        if not self.running and res.name in self.rows:
            return
        theme = App.get_running_app().theme
        card = BoxLayout(orientation="vertical", size_hint_y=None, spacing=4, padding=[0, 8])
        card.bind(minimum_height=card.setter("height"))
        head = BoxLayout(size_hint_y=None, height=max(64, theme.huge * 1.3), spacing=24)
        head.add_widget(Factory.KTitle(text=res.title_zh, size_hint_x=0.6))
        status = Factory.KTitle(text=res.status_zh, size_hint_x=0.4, font_size=theme.huge, halign="right")
        status.color = theme.ok if res.ok else theme.accent
        head.add_widget(status)
        card.add_widget(head)
        card.add_widget(label(res.detail_zh))
        card.result = res
        card.status_label = status
        self.rows[res.name] = card
        self.ids.body.add_widget(card)

    def _done(self, result: Sequence[CheckResult] | Exception) -> None:
        self.running = False
        theme = App.get_running_app().theme
        if isinstance(result, Exception):
            self.summary.text = getattr(result, "message_zh", None) or "自检出错，请重试。"
            self.summary.color = theme.accent
            return
        self.results = result
        for res in result:  # rows missed by progress (none normally)
            if res.name not in self.rows:
                self._add_row(res)
        bad = [r for r in result if not r.ok]
        # Failures first: the technician reads what to fix without scrolling.
        body = self.ids.body
        order = [r.name for r in result if not r.ok] + [r.name for r in result if r.ok]
        for name in order:
            body.remove_widget(self.rows[name])
        for name in order:
            body.add_widget(self.rows[name])
        self.summary.text = ("自检完成：" + summary_zh(list(result))) + (
            "" if not bad else "。请按下面的提示处理，处理后点“重新自检”。")
        self.summary.color = theme.ok if not bad else theme.accent
        if bad and self.controller.mode.can("fault_report"):
            self.ids.actions.add_widget(button("反映问题", lambda: self.controller.open("tech_fault")))
