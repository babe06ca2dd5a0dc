"""The guide (办事指南) of one service item, as the seed gives it."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import NumericProperty, StringProperty

from kiosk.flows.wording import plain_zh
from kiosk.screens.widgets import KioskScreen

# (guide field, heading shown) in the order a resident reads them.
SECTIONS = [
    ("description", "服务内容"),
    ("audience", "办理对象"),
    ("conditions", "办理条件"),
    ("materials", "所需材料"),
    ("place", "办理地点"),
    ("procedure", "办理流程"),
    ("time_limit", "办理时限"),
    ("phone", "咨询电话"),
    ("notes", "注意事项"),
]


def guide_sections(item) -> list[tuple[str, str, str]]:
    """(key, heading, text) of the non-empty guide parts of an item."""
    out = []
    for key, heading in SECTIONS:
        text = getattr(item.guide, key, "") or ""
        if text.strip():
            out.append((key, heading, plain_zh(text.strip())))
    return out


class GuideScreen(KioskScreen):
    item_no = NumericProperty(0)
    item_title = StringProperty("")
    start_text = StringProperty("")

    def show(self, item_no: int = 0, **_params) -> None:
        app = App.get_running_app()
        item = app.catalog.by_no(int(item_no))
        self.item_no = item.no
        self.item_title = f"{item.no}. {item.name}"
        body = self.ids.body
        body.clear_widgets()
        channel = "本业务可在自助机上办理。" if item.completes_on_kiosk else "本业务需到柜台办理，下面是需要准备的材料和办理地点。"
        note = Factory.KLabel(text=channel)
        note.color = app.theme.ok if item.completes_on_kiosk else app.theme.accent
        body.add_widget(note)
        self.section_labels = {}
        for key, heading, text in guide_sections(item):
            body.add_widget(Factory.KTitle(text=heading))
            label = Factory.KLabel(text=text)
            self.section_labels[key] = label
            body.add_widget(label)
        self.start_text = app.start_text_for(item)
        if not item.completes_on_kiosk:
            app.voice.say("counter_only")
        self.ids.scroll.scroll_y = 1

    def wipe(self) -> None:
        """The guide's text textures (~7 MiB for a long one) go with the visit; ``show`` builds them anew."""
        self.ids.body.clear_widgets()
        self.section_labels = {}
