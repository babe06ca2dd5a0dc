"""On-screen keyboards: numeric keypad (numbers, dates, ID numbers, money) and a pinyin
keypad with a candidate bar for the Chinese text a form cannot avoid.

Each opens as a popup over the form, shows what will be entered in large
type, and calls ``on_done(text)`` when the resident presses 确定.
"""

from __future__ import annotations

import threading
from typing import Callable

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.modalview import ModalView
from kivy.uix.scrollview import ScrollView

from kiosk.flows import pinyin_ime
from kiosk.screens.widgets import KKey

Builder.load_string("""
<InputPopup>:
    auto_dismiss: False
    size_hint: 1, 1
    background: ""
    background_color: app.theme.card_bg
    overlay_color: (0, 0, 0, 0.6)
    BoxLayout:
        orientation: "vertical"
        padding: [12, 12 + app.badge_room, 12, 12]
        spacing: 6
        BoxLayout:
            size_hint_y: None
            height: app.theme.title * 1.6
            spacing: 16
            Label:
                text: root.label + "："
                font_size: app.theme.title
                bold: True
                color: app.theme.fg
                size_hint_x: None
                width: self.texture_size[0]
            Label:
                id: shown
                text: root.shown or root.hint
                font_size: app.theme.title
                color: app.theme.fg if root.shown else app.theme.muted
                text_size: self.size
                halign: "left"
                valign: "middle"
                canvas.before:
                    Color:
                        rgba: app.theme.bg
                    Rectangle:
                        pos: self.pos
                        size: self.size
        BoxLayout:
            id: keypad
            orientation: "vertical"
        BoxLayout:
            id: actions
            size_hint_y: None
            height: self.minimum_height
            spacing: 16
            KButton:
                id: cancel
                text: "取消"
                on_release: root.cancel()
            KButton:
                id: ok
                text: "确定"
                on_release: root.done()
""")


class InputPopup(ModalView):
    label = StringProperty("")
    value = StringProperty("")
    shown = StringProperty("")
    hint = StringProperty("")

    def __init__(self, label: str, value: str, on_done: Callable[[str], None], hint: str = "", **kw) -> None:
        super().__init__(**kw)
        self.label, self.value, self.hint = label, value, hint
        self.on_done_cb = on_done
        self.refresh()

    def refresh(self) -> None:
        self.shown = self.value

    def done(self) -> None:
        self.dismiss(animation=False)
        self.on_done_cb(self.value)

    def cancel(self) -> None:
        self.dismiss(animation=False)

    def place_actions(self) -> None:
        """Elder mode: 取消/确定 join the last key row instead of a bar of their own.

        Elder type makes every fixed row taller; without this the keys got
        shorter than in standard mode (and the bar once covered the last row).
        """
        if not App.get_running_app().theme.elder:
            return
        bar, last = self.ids.actions, self.ids.keypad.children[0]
        for b in (self.ids.cancel, self.ids.ok):
            bar.remove_widget(b)
            b.size_hint_y = 1
            last.add_widget(b)
        bar.parent.remove_widget(bar)

    def key_row(self, keys: list[str], action) -> BoxLayout:
        row = BoxLayout()
        for k in keys:
            b = KKey(text=k)
            b.bind(on_release=lambda btn: action(btn.text))
            row.add_widget(b)
        return row


class NumericPad(InputPopup):
    """Digits; ``extra`` adds X (ID numbers), '.' (money); dates show as YYYY-MM-DD."""

    MAX = {"numeric": 11, "date": 8, "id_number": 18, "decimal": 10, "alnum": 20}

    def __init__(self, label: str, value: str, on_done, keyboard: str = "numeric", hint: str = "") -> None:
        self.keyboard = keyboard
        if keyboard == "date":
            value = "".join(c for c in value if c.isdigit())
        super().__init__(label, value, on_done, hint)
        rows = [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"]]
        last = {"id_number": "X", "decimal": "."}.get(keyboard, "")
        rows.append([k for k in (last, "0", "删除") if k])
        for r in rows:
            self.ids.keypad.add_widget(self.key_row(r, self.press))
        self.place_actions()

    def press(self, key: str) -> None:
        if key == "删除":
            self.value = self.value[:-1]
        elif len(self.value) < self.MAX.get(self.keyboard, 20):
            if key == "." and "." in self.value:
                return
            self.value += key
        self.refresh()

    def refresh(self) -> None:
        v = self.value
        if self.keyboard == "date":
            self.shown = "-".join(p for p in (v[:4], v[4:6], v[6:8]) if p)
        else:
            self.shown = v

    def done(self) -> None:
        if self.keyboard == "date" and len(self.value) == 8:
            self.value = f"{self.value[:4]}-{self.value[4:6]}-{self.value[6:]}"
        super().done()


class PinyinPad(InputPopup):
    """Letters a-z compose pinyin; the candidate bar turns it into characters."""

    letters = StringProperty("")

    def __init__(self, label: str, value: str, on_done, hint: str = "", alnum: bool = False) -> None:
        self.alnum = alnum
        super().__init__(label, value, on_done, hint or ("请输入字母和数字" if alnum else "输入拼音，再点选汉字"))
        keys = self.ids.keypad
        if not alnum:
            # The index is built when a keypad first opens (tens of ms from the set-up tables),
            # off the UI thread; by the first letter typed it is there.
            threading.Thread(target=pinyin_ime.warm_up, name="pinyin-index", daemon=True).start()
            self.cands = GridLayout(rows=1, size_hint=(None, 1), spacing=4)
            self.cands.bind(minimum_width=self.cands.setter("width"))
            scroll = ScrollView(do_scroll_y=False, size_hint_y=None, height=App.get_running_app().theme.button * 2)
            scroll.add_widget(self.cands)
            keys.add_widget(scroll)
        else:
            keys.add_widget(self.key_row(list("1234567890"), self.press))
        for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm"):
            keys.add_widget(self.key_row([c.upper() for c in row], self.press))
        keys.add_widget(self.key_row(["删除", "空格", "清空"], self.press))
        self.place_actions()

    def press(self, key: str) -> None:
        if key == "删除":
            if self.letters:
                self.letters = self.letters[:-1]
            else:
                self.value = self.value[:-1]
        elif key == "清空":
            self.letters, self.value = "", ""
        elif key == "空格":
            self.value += " "
        elif self.alnum:
            self.value += key
        elif len(self.letters) < 24:
            self.letters += key.lower()
        self.refresh()

    def refresh(self) -> None:
        self.shown = self.value + (f" {self.letters}" if self.letters else "")
        if getattr(self, "cands", None) is None:
            return
        self.cands.clear_widgets()
        for text, used in pinyin_ime.candidates(self.letters):
            theme = App.get_running_app().theme
            b = KKey(text=text, size_hint_x=None, width=max(theme.px(96), theme.button * len(text) + theme.px(32)))
            b.used = used
            b.bind(on_release=self.pick)
            self.cands.add_widget(b)

    def pick(self, button) -> None:
        self.value += button.text
        self.letters = self.letters[button.used:]
        self.refresh()

    def done(self) -> None:
        self.letters = ""  # unconverted letters are not part of the answer
        super().done()


def open_keyboard(keyboard: str, label: str, value: str, on_done, hint: str = "") -> InputPopup:
    if keyboard == "pinyin":
        pad: InputPopup = PinyinPad(label, value, on_done, hint)
    elif keyboard == "alnum":
        pad = PinyinPad(label, value, on_done, hint, alnum=True)
    else:
        pad = NumericPad(label, value, on_done, keyboard, hint)
    pad.open(animation=False)
    App.get_running_app().idle.touch()
    return pad
