"""Category menu: the four categories of the provincial list."""

from __future__ import annotations

from kivy.app import App

from kiosk.screens.widgets import KButton, KioskScreen


class MenuScreen(KioskScreen):
    def show(self, **_params) -> None:
        app = App.get_running_app()
        app.voice.say("choose_service")
        grid = self.ids.grid
        grid.clear_widgets()
        for cat in app.catalog.categories:
            count = len(app.catalog.in_category(cat.id))
            btn = KButton(text=f"{cat.name}\n（{count} 项）")
            btn.category_id = cat.id
            btn.size_hint_y = 1
            btn.bind(on_release=lambda b: app.go("items", category_id=b.category_id))
            grid.add_widget(btn)

    def wipe(self) -> None:
        """The category buttons' textures go with the visit; ``show`` builds them anew."""
        self.ids.grid.clear_widgets()
