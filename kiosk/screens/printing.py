"""Print a receipt with feedback the resident can follow, and never lose it.

"正在打印，请稍候" while the job runs off the UI thread; "请取走回执" when it is
out; when the printer cannot print (paper out, cover open, offline) the
screen says so and offers the receipt on screen, a reprint, or the counter.
The job bytes stay in the session's results, so a reprint works while the
resident is still there.
"""

from __future__ import annotations

import io
import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.image import Image
from kivy.uix.modalview import ModalView

from kiosk.screens.widgets import CardPopup
from kivy.uix.scrollview import ScrollView

from kiosk.core.errors import KioskError
from kiosk.receipts import Receipt, render_receipt
from kiosk.receipts.render import preview_image

log = logging.getLogger("kiosk.print")

Builder.load_string("""
<PrintPopup>:
    BoxLayout:
        orientation: "vertical"
        padding: 32
        spacing: 20
        Label:
            id: message
            text: root.message
            font_size: app.theme.title
            color: app.theme.fg
            halign: "center"
            valign: "middle"
            text_size: self.width, None
        BoxLayout:
            size_hint_y: None
            height: self.minimum_height
            spacing: 20
            KButton:
                id: preview
                text: "在屏幕上查看"
                opacity: 1 if root.failed else 0
                disabled: not root.failed
                on_release: root.show_preview()
            KButton:
                id: retry
                text: "重新打印"
                opacity: 1 if root.failed else 0
                disabled: not root.failed
                on_release: root.retry()
            KButton:
                id: close
                text: "关闭"
                opacity: 1 if root.done else 0
                disabled: not root.done
                on_release: root.dismiss(animation=False)
""")


class PrintPopup(CardPopup):
    message = StringProperty("正在打印，请稍候")
    failed = BooleanProperty(False)
    done = BooleanProperty(False)

    def __init__(self, job: bytes, key: str, paper_width: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.job, self.key, self.paper_width = job, key, paper_width
        self.result = None

    def start(self) -> None:
        app = App.get_running_app()
        self.message, self.failed, self.done = "正在打印，请稍候", False, False
        app.voice.say("printing")
        app.devices.print_job(self.job, self.key, lambda r: Clock.schedule_once(lambda _dt: self._finished(r)),
                              label="receipt")

    def _finished(self, result) -> None:
        app = App.get_running_app()
        self.result = result
        self.done = True
        if isinstance(result, KioskError):
            self.failed = True
            self.message = result.message_zh
            app.voice.say("paper_out" if "缺纸" in result.message_zh else "error_retry")
        else:
            self.message = "打印完成，请取走回执"
            app.voice.say("take_receipt")
        app.last_print = self

    def retry(self) -> None:
        self.start()

    def show_preview(self) -> None:
        show_receipt_on_screen(self.job, self.paper_width)


def show_receipt_on_screen(job: bytes, paper_width: int) -> ModalView:
    """The receipt as a picture in a scrollable popup (paper out, or on request)."""
    buf = io.BytesIO()
    preview_image(job, paper_width).save(buf, format="png")
    buf.seek(0)
    texture = CoreImage(buf, ext="png").texture
    view = ModalView(size_hint=(0.6, 0.95), auto_dismiss=True)
    scroll = ScrollView(do_scroll_x=False)
    img = Image(texture=texture, size_hint_y=None, height=texture.height * 1.4, fit_mode="contain")
    scroll.add_widget(img)
    view.add_widget(scroll)
    view.open(animation=False)
    return view


def print_receipt(receipt: Receipt, key: str) -> PrintPopup:
    """Render and print ``receipt``; the job is kept in the session for a reprint."""
    app = App.get_running_app()
    c = app.cfg.settings.devices.printer
    receipt.demo = receipt.demo or bool(getattr(app.cfg, "demo", False))
    job = render_receipt(receipt, paper_width=c.paper_width, text_mode=c.text_mode, qr_mode=c.qr_mode)
    app.sessions.current.results.append({"kind": receipt.kind, "key": key, "job": job,
                                         "service": receipt.service_name})
    popup = PrintPopup(job, key, c.paper_width)
    popup.open(animation=False)
    popup.start()
    return popup
