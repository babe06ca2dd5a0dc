"""Public-disclosure browser (政务公开): the county's catalog, browsed by level, printed by item.

Which county comes from ``[site] county``. The catalog is public information:
no login needed, and it is reachable from the attract screen.
"""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty

from kiosk.core.errors import KioskError
from kiosk.flows.disclosure import load_disclosure
from kiosk.screens.widgets import KButton, KioskScreen

log = logging.getLogger("kiosk.disclosure")

LIST_KV = """
BoxLayout:
    orientation: "vertical"
    HeaderBar:
        id: header
        title: root_title
        who: app.who_text
    ScrollView:
        id: scroll
        do_scroll_x: False
        bar_width: 16
        BoxLayout:
            id: body
            orientation: "vertical"
            size_hint_y: None
            height: self.minimum_height
            padding: [48, 24]
            spacing: 16
    BoxLayout:
        id: actions
        size_hint_y: None
        height: self.minimum_height
        padding: [24, 0]
    NavBar:
        id: nav
"""


class _DisclosureBase(KioskScreen):
    title = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        from kivy.lang import Builder

        self.layout = Builder.load_string(LIST_KV.replace("root_title", "app.disclosure_title"))
        self.add_widget(self.layout)

    @property
    def body(self):
        return self.layout.ids.body

    def catalog(self):
        app = App.get_running_app()
        if getattr(app, "_disclosure", None) is None:
            app._disclosure = load_disclosure(app.cfg.settings.site.county)
        return app._disclosure


class DisclosureListScreen(_DisclosureBase):
    """One level of the hierarchy: sub-groups if there are any, else the items."""

    def show(self, path: tuple = (), **_params) -> None:
        app = App.get_running_app()
        self.body.clear_widgets()
        self.layout.ids.actions.clear_widgets()
        try:
            cat = self.catalog()
        except KioskError as exc:
            log.error("disclosure catalog for %s: %s", app.cfg.settings.site.county, exc)
            self.body.add_widget(Factory.KLabel(text=exc.message_zh))
            return
        app.disclosure_title = "政务公开 · " + (" / ".join(path) if path else cat.county)
        if not path:
            app.voice.say("disclosure_browse")
        path = tuple(path)
        groups = cat.children(*path) if len(path) < cat.depth else []
        groups = [g for g in groups if g]
        if groups:
            for g in groups:
                n = len(cat.items_under(*path, g))
                btn = KButton(text=f"{g}（{n} 项）")
                btn.path = path + (g,)
                btn.bind(on_release=lambda b: app.go("disclosure", path=b.path))
                self.body.add_widget(btn)
        else:
            for item in cat.items_under(*path):
                btn = KButton(text=f"{item.no}. {item.name}")
                btn.item_no = item.no
                btn.bind(on_release=lambda b: app.go("disclosure_item", item_no=b.item_no))
                self.body.add_widget(btn)
        self.layout.ids.scroll.scroll_y = 1


class DisclosureItemScreen(_DisclosureBase):
    def show(self, item_no: str = "", **_params) -> None:
        app = App.get_running_app()
        item = self.catalog().item(item_no)
        self.item = item
        app.disclosure_title = f"{item.no}. {item.name}"
        self.body.clear_widgets()
        self.rows = item.element_rows()
        for label, text in self.rows:
            self.body.add_widget(Factory.KTitle(text=label))
            self.body.add_widget(Factory.KLabel(text=text))
        actions = self.layout.ids.actions
        actions.clear_widgets()
        btn = KButton(text="打印本事项")
        btn.bind(on_release=lambda _b: self.print_item())
        actions.add_widget(btn)
        self.layout.ids.scroll.scroll_y = 1

    def print_item(self):
        from kiosk.receipts import Receipt
        from kiosk.screens.printing import print_receipt

        app = App.get_running_app()
        site = app.cfg.settings.site
        receipt = Receipt(kind="enquiry", site_name=site.name, device_id=site.device_id,
                          service_name=f"政务公开 {self.item.no}", title=self.item.name,
                          fields=list(self.rows), office_phone=site.office_phone)
        return print_receipt(receipt, key=f"disclosure-{site.county}-{self.item.no}")


def register(app, sm):
    sm.add_widget(DisclosureListScreen(name="disclosure"))
    sm.add_widget(DisclosureItemScreen(name="disclosure_item"))
    return None
