"""Submissions waiting for the platform: the outbox's counts and its newest entries."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock

from kiosk.selftest import OUTBOX_FILE, outbox_counts_from_file
from kiosk.screens.technician.widgets import TechPage, button, label

STATE_ZH = {"pending": "待提交", "delivered": "已提交", "refused": "未受理", "failed": "需处理"}


class TechOutboxScreen(TechPage):
    feature = "view_status"

    def fill(self, **_params: Any) -> None:
        self.title = "待提交业务"
        self.clear()
        app = self.controller.app
        outbox = app.backend.outbox if app.backend is not None else None
        body = self.ids.body
        entries: list[tuple[str, int, str, int, str, str]] = []
        if outbox is not None:
            s = outbox.status()
            self.ids.actions.add_widget(button("立即重试", self._retry))
            if not (s.pending or s.failed):
                body.add_widget(label("没有暂存的业务，全部已提交。", title=True, color=app.theme.ok))
            body.add_widget(label(f"待提交 {s.pending} 笔，已提交 {s.delivered} 笔，未受理 {s.refused} 笔，需处理 {s.failed} 笔。"))
            if s.last_error:
                body.add_widget(label(f"最近一次失败：{s.last_error}", small=True))
            entries = [(q.ref, q.item_no, q.state, q.attempts, q.masked_id, q.last_error) for q in reversed(s.queue)]
        else:
            # No outbox in this app (no backend): what the outbox file holds, read without opening the store.
            path = app.cfg.settings.storage.dir / OUTBOX_FILE
            counts = None
            try:
                counts = outbox_counts_from_file(path)
            except ValueError:
                body.add_widget(label("暂存业务数据文件损坏，请反映系统问题。", color=app.theme.accent))
            if not counts:
                body.add_widget(label("没有暂存的业务。", title=True))
                return
            body.add_widget(label(f"待提交 {counts['pending']} 笔，已提交 {counts['delivered']} 笔，"
                                  f"未受理 {counts['refused']} 笔，需处理 {counts['failed']} 笔。", title=True))
        for ref, item, state, attempts, masked, err in entries[:50]:
            text = f"{ref}　第{item}项　{STATE_ZH.get(state, state)}　尝试{attempts}次　{masked}"
            body.add_widget(label(text + (f"\n{err}" if err else ""), small=True,
                                  color=app.theme.accent if state == "failed" else None))

    def _retry(self) -> None:
        backend = self.controller.app.backend
        if backend is not None:
            backend.outbox.kick()  # deliveries run on the outbox's own thread
        Clock.schedule_once(lambda _d: self.fill(), 1)
