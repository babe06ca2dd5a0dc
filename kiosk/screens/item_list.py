"""The service items of one category."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty

from kiosk.screens.widgets import KButton, KioskScreen


def where_zh(item) -> str:
    """The channel label of every list, search result and guide (from the catalog's kiosk_mode)."""
    return "自助机可办" if item.completes_on_kiosk else "需到柜台办理"


def item_caption(item) -> str:
    return f"{item.no}. {item.name}\n[{where_zh(item)}]"


class ItemListScreen(KioskScreen):
    category_name = StringProperty("")
    category_id = StringProperty("")

    def show(self, category_id: str = "", **_params) -> None:
        app = App.get_running_app()
        self.category_id = category_id
        self.category_name = next(c.name for c in app.catalog.categories if c.id == category_id)
        box = self.ids.list
        box.clear_widgets()
        for item in app.catalog.in_category(category_id):
            btn = KButton(text=item_caption(item))
            btn.item_no = item.no
            btn.height = max(120, app.theme.button * 3.2)
            btn.bind(on_release=lambda b: app.go("guide", item_no=b.item_no))
            box.add_widget(btn)
        self.ids.scroll.scroll_y = 1

    def wipe(self) -> None:
        """The buttons' text textures (~9 MiB for a long category) go with the visit;
        ``show`` builds the list anew each time anyway."""
        self.ids.list.clear_widgets()
