"""Find a service by pinyin: a letter keypad (Kivy has no Chinese IME) and ranked results.

Residents type full pinyin (``yanglao``) or initials (``yl``); the ranking is
kiosk.flows.search's: name matches first, kiosk-channel items first.
"""

from __future__ import annotations

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import StringProperty

from kivy.factory import Factory

from kiosk.screens.item_list import where_zh
from kiosk.screens.widgets import KioskScreen, KKey

KEY_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
MAX_RESULTS = 12

# One hit: as tall as its wrapped name needs, never less than a large button. Loaded by
# register(), after kiosk.kv: a rule loaded later wins, and KButton's own rule is in kiosk.kv.
RESULT_RULE = """
<SearchResult@KButton>:
    font_size: app.theme.body
    height: max(96, self.font_size * 2.4, self.texture_size[1] + 28)
    halign: "left"
    text_size: self.width - 40, None
"""

Builder.load_string("""
<SearchScreen>:
    BoxLayout:
        orientation: "vertical"
        HeaderBar:
            id: header
            title: "查找业务"
            who: app.who_text
        # Results fill one column from under the header to the nav bar; the query sits
        # over the keypad in the other (landscape). On a portrait panel the keypad and
        # its query go under the results, keys at full size.
        BoxLayout:
            id: split
            orientation: "horizontal" if root.width >= root.height else "vertical"
            padding: [24, 12]
            spacing: 20
            BoxLayout:
                orientation: "vertical"
                spacing: 8
                Label:
                    id: hint
                    text: root.hint
                    font_size: app.theme.body
                    color: app.theme.muted
                    text_size: self.width, None
                    size_hint_y: None
                    height: self.texture_size[1] + 4
                ScrollView:
                    id: scroll
                    do_scroll_x: False
                    bar_width: 16
                    BoxLayout:
                        id: results
                        orientation: "vertical"
                        size_hint_y: None
                        height: self.minimum_height
                        padding: [0, 0, 22, 0]
                        spacing: 12
            BoxLayout:
                orientation: "vertical"
                spacing: 8
                size_hint_y: 1 if split.orientation == "horizontal" else None
                height: query.height + keypad.height + 8
                Label:
                    id: query
                    text: root.query_text
                    font_size: app.theme.title
                    color: app.theme.fg
                    text_size: self.width - 16, None
                    halign: "center"
                    size_hint_y: None
                    height: self.texture_size[1] + 16
                    canvas.before:
                        Color:
                            rgba: app.theme.card_bg
                        Rectangle:
                            pos: self.pos
                            size: self.size
                GridLayout:
                    id: keypad
                    cols: 1
                    size_hint_y: None
                    height: self.minimum_height
                Widget:
        NavBar:
            id: nav
""")


class SearchScreen(KioskScreen):
    query = StringProperty("")
    query_text = StringProperty("")
    hint = StringProperty("")

    def show(self, **_params) -> None:
        app = App.get_running_app()
        if not self.ids.keypad.children:
            self._build_keys()
        self.query = ""
        self._update()
        app.voice.say("search_hint")

    def _build_keys(self) -> None:
        from kivy.uix.boxlayout import BoxLayout

        app = App.get_running_app()
        height = max(80, app.theme.button * 1.7)
        for row in KEY_ROWS:
            line = BoxLayout(size_hint_y=None, height=height)
            for ch in row:
                key = KKey(text=ch.upper())
                key.bind(on_release=lambda b: self.type(b.text.lower()))
                line.add_widget(key)
            self.ids.keypad.add_widget(line)
        edit = BoxLayout(size_hint_y=None, height=height)
        for text, action in (("删除", self.backspace), ("清空", self.clear)):
            key = KKey(text=text)
            key.bind(on_release=lambda _b, a=action: a())
            edit.add_widget(key)
        self.ids.keypad.add_widget(edit)

    def type(self, ch: str) -> None:
        if len(self.query) < 20:
            self.query += ch
            self._update()

    def backspace(self) -> None:
        self.query = self.query[:-1]
        self._update()

    def clear(self) -> None:
        self.query = ""
        self._update()

    def _update(self) -> None:
        app = App.get_running_app()
        box = self.ids.results
        box.clear_widgets()
        self.query_text = self.query.upper() if self.query else "请输入拼音"
        if not self.query:
            self.hint = "例如：养老 输入 YL 或 YANGLAO"
            return
        from kiosk.flows.search import search  # pypinyin loads in ~0.25 s: not at start-up

        matches = search(app.catalog, self.query, limit=MAX_RESULTS)
        self.hint = f"找到 {len(matches)} 项，请点选：" if matches else "没有找到，请换个说法，或按类别查找"
        for m in matches:
            item = app.catalog.by_no(m.no)
            # One run of text without spaces: Kivy wraps CJK only inside an over-long
            # "word", so "25. 企业…" would leave the number alone on the first line.
            btn = Factory.SearchResult(text=f"{item.no}.{item.name}（{where_zh(item)}）")
            btn.item_no = item.no
            btn.bind(on_release=lambda b: app.go("guide", item_no=b.item_no))
            box.add_widget(btn)
        self.ids.scroll.scroll_y = 1


def register(app, sm):
    Builder.load_string(RESULT_RULE)
    sm.add_widget(SearchScreen(name="search"))
    return None
