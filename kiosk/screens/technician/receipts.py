"""The newest receipts, drawn as printed (this session's jobs and the simulated printer's saved ones)."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from kivy.uix.image import Image

from kiosk.receipts.render import preview_image
from kiosk.screens.technician.widgets import TechPage, button, label


class TechReceiptsScreen(TechPage):
    feature = "view_receipts"
    _tmp: str | None = None

    def fill(self, **_params: Any) -> None:
        self.title = "最近凭条"
        self.clear()
        app = self.controller.app
        self.ids.actions.add_widget(button("刷新", self.fill))
        jobs = app.devices.recent_print_jobs()
        if not jobs:
            self.ids.body.add_widget(label("还没有打印过凭条。"))
            return
        paper_width = app.cfg.settings.devices.printer.paper_width
        self._tmp = tempfile.mkdtemp(prefix="kiosk-receipts-")
        for i, (name, data) in enumerate(jobs):
            path = os.path.join(self._tmp, f"receipt-{i}.png")
            try:
                page = preview_image(data, paper_width)
                page.save(path, format="PNG")
            except Exception as exc:  # noqa: BLE001 - a garbled job must not break the screen
                self.ids.body.add_widget(label(f"{name}：无法显示（{type(exc).__name__}）", small=True))
                continue
            self.ids.body.add_widget(label(name, small=True))
            w, h = page.size
            img = Image(source=path, size_hint=(None, None), size=(w, h), nocache=True)
            self.ids.body.add_widget(img)
        self.images = len(jobs)

    def wipe(self) -> None:
        super().wipe()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
