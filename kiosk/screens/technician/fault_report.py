"""Report a problem: category, preset phrases, a suggestion; sent with the device, site, self-test and log."""

from __future__ import annotations

from functools import partial
from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.uix.gridlayout import GridLayout

from kiosk.flows import fault_report as fr
from kiosk.screens.technician.widgets import MARK, TechPage, button, choice, label
from kiosk.screens.widgets import KButton


class TechFaultScreen(TechPage):
    feature = "fault_report"

    def fill(self, **_params: Any) -> None:
        self.title = "反映问题"
        self.clear()
        self.category = "system"
        self.phrases: list[str] = []
        self.suggestion = ""
        body = self.ids.body
        body.add_widget(label("问题分类（系统性、功能性问题报省工作专班；业务指导性问题报县人社部门）"))
        self.cat_row = GridLayout(cols=3, spacing=16, size_hint_y=None)
        self.cat_row.bind(minimum_height=self.cat_row.setter("height"))
        self.cat_buttons: dict[str, KButton] = {}
        for key, cat in fr.CATEGORIES.items():
            b = choice(cat.name_zh, partial(self.choose_category, key))
            self.cat_buttons[key] = b
            self.cat_row.add_widget(b)
        body.add_widget(self.cat_row)
        body.add_widget(label("问题描述（可多选）"))
        self.phrase_grid = GridLayout(cols=2, spacing=16, size_hint_y=None)
        self.phrase_grid.bind(minimum_height=self.phrase_grid.setter("height"))
        body.add_widget(self.phrase_grid)
        self.extra = Factory.TechInput(hint_text="补充说明（可选，可粘贴）")
        body.add_widget(self.extra)
        body.add_widget(label("解决建议"))
        self.sugg_grid = GridLayout(cols=3, spacing=16, size_hint_y=None)
        self.sugg_grid.bind(minimum_height=self.sugg_grid.setter("height"))
        self.sugg_buttons: dict[str, KButton] = {}
        for s in fr.PRESET_SUGGESTIONS:
            b = choice(s, partial(self.choose_suggestion, s))
            self.sugg_buttons[s] = b
            self.sugg_grid.add_widget(b)
        body.add_widget(self.sugg_grid)
        last = self.controller.mode.last_selftest
        body.add_widget(label("将附上：设备编号、服务点、" + ("本次自检结果、" if last else "")
                              + "最近日志（个人信息已隐去）。", small=True))
        # Submit comes after the choices it sends, with its answer right below it.
        body.add_widget(button("提交问题", self.submit))
        self.msg = label("")
        body.add_widget(self.msg)
        self.ids.actions.add_widget(button("问题台账", lambda: self.controller.open("tech_faults")))
        self.choose_category("system")

    def choose_category(self, key: str) -> None:
        self.category = key
        for k, b in self.cat_buttons.items():
            b.text = (MARK if k == key else "") + fr.CATEGORIES[k].name_zh
        self.phrases = [p for p in self.phrases if p in fr.PRESET_PHRASES[key]]
        self.phrase_grid.clear_widgets()
        self.phrase_buttons: dict[str, KButton] = {}
        for p in fr.PRESET_PHRASES[key]:
            b = choice(p, partial(self.toggle_phrase, p))
            self.phrase_buttons[p] = b
            self.phrase_grid.add_widget(b)
        self._mark_phrases()

    def toggle_phrase(self, phrase: str) -> None:
        if phrase in self.phrases:
            self.phrases.remove(phrase)
        else:
            self.phrases.append(phrase)
        self._mark_phrases()

    def _mark_phrases(self) -> None:
        for p, b in self.phrase_buttons.items():
            b.text = (MARK if p in self.phrases else "") + p

    def choose_suggestion(self, s: str) -> None:
        self.suggestion = "" if self.suggestion == s else s
        for k, b in self.sugg_buttons.items():
            b.text = (MARK if k == self.suggestion else "") + k

    def submit(self) -> None:
        theme = App.get_running_app().theme
        if not self.phrases and not self.extra.text.strip():
            self.msg.text = "请至少选择一项问题描述。"
            self.msg.color = theme.accent
            return
        self.msg.text = "正在提交……"
        self.msg.color = theme.fg
        ctl = self.controller
        args = (self.category, list(self.phrases), self.extra.text, self.suggestion)
        ctl.background(lambda: ctl.mode.report_fault(*args), self._done)

    def _done(self, rec: fr.FaultRecord | Exception) -> None:
        theme = App.get_running_app().theme
        if isinstance(rec, Exception):
            self.msg.text = getattr(rec, "message_zh", None) or "提交出错，请重试。"
            self.msg.color = theme.accent
            return
        self.last_record = rec
        if rec.state == "sent":
            self.msg.text = (f"已提交，问题编号 {rec.fault_no}，由{rec.routed_to_zh}处理"
                             + (f"，{rec.reply_due_zh}" if rec.reply_due_zh else "") + "。")
            self.msg.color = theme.ok
        else:
            self.msg.text = f"服务平台暂时连不上，问题已保存在本机台账（{rec.local_id}），网络恢复后在“问题台账”中点“刷新”发送。"
            self.msg.color = theme.accent
