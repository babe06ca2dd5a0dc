"""Widgets shared by every screen; their look is in kiosk.kv."""

from __future__ import annotations

from collections.abc import Callable

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView

from kiosk.screens.kinsoku import NO_LINE_START
from kiosk.screens.line_breaks import KioskCoreLabel


class KButton(Button):
    """A large touch button; ``danger`` paints it red (logout, cancel)."""

    danger = BooleanProperty(False)


class IconButton(Button):
    """A small control (speaker, keypad key) that is not one of a screen's large buttons."""


class KKey(IconButton):
    """A key of an on-screen keypad."""


def text_height(text: str, font_size: float, width: float, bold: bool = False) -> float:
    """Height of ``text`` wrapped at ``width`` (the labels' own layout, no texture drawn)."""
    core = KioskCoreLabel(text=text, font_size=font_size, bold=bold, text_size=(max(1.0, width), None))
    core.resolve_font_name()
    return float(core.render()[1])


def text_width(text: str, font_size: float, bold: bool = False) -> float:
    """Width of ``text`` on one line."""
    core = KioskCoreLabel(text=text, font_size=font_size, bold=bold)
    core.resolve_font_name()
    return float(core.render()[0])


def choice_columns(texts: list[str], font_size: float, width: float, spacing: float = 8, most: int = 3,
                   margin: float = 32) -> int:
    """How many choice buttons fit abreast with every caption on one line (at least 1)."""
    need = max((text_width(t, font_size) for t in texts), default=0) + margin
    for cols in range(min(most, max(1, len(texts))), 1, -1):
        if (width - spacing * (cols - 1)) / cols >= need:
            return cols
    return 1


DEMO_BADGE_HEIGHT = 27  # kiosk.kv, <DemoBadge>; KioskApp.badge_room keeps the top edge free for it


def balanced_lines(title: str, fits: Callable[[str], bool]) -> str:
    """``title`` as two lines of near equal width, or unchanged when no such break fits.

    Widths are estimated (a Latin letter or digit is about half a Chinese
    character), so only the chosen break is measured. The break never falls
    inside the item number ("30.\u00a0"), between two ASCII letters or digits,
    or before a closing mark.
    """
    start = title.find("\u00a0") + 1
    weights = [0.55 if c.isascii() else 1.0 for c in title]
    half = sum(weights) / 2
    run, by_balance = 0.0, []
    for i in range(1, len(title)):
        run += weights[i - 1]
        by_balance.append((abs(run - half), i))
    for _gap, i in sorted(by_balance):
        left, right = title[:i], title[i:]
        if i <= start or right[0] in NO_LINE_START:
            continue
        if left[-1].isascii() and left[-1].isalnum() and right[0].isascii() and right[0].isalnum():
            continue
        if fits(left) and fits(right):
            return left.rstrip("\u00a0 ") + "\n" + right.lstrip("\u00a0 ")
    return title


class HeaderBar(BoxLayout):
    """Screen title, 再听一遍 and who is logged in.

    A long title (item names run to 30 characters) shrinks step by step down
    to body size so it fits in at most ``MAX_LINES`` lines, and the bar grows
    to hold them: it never wraps out of the bar or is cut at top and bottom.
    """

    MAX_LINES = 2
    title = StringProperty("")
    who = StringProperty("")
    title_size = NumericProperty(44)
    # no-break spaces: "30. 参加…" wraps inside the name, never leaving "30." alone on a line
    shown_title = StringProperty("")

    def on_kv_post(self, _base) -> None:
        from kivy.app import App
        from kivy.clock import Clock

        theme = App.get_running_app().theme
        self._fit_ev = Clock.create_trigger(self._fit, 0)
        self.bind(title=self._fit_ev)
        self.ids.title.bind(width=self._fit_ev)
        theme.bind(title=self._fit_ev, body=self._fit_ev)
        # Not now: a bar just built has Kivy's placeholder width (100 px), at which every
        # title "shrinks" through each size (a bold font opened per size, for good).
        self._fit_ev()

    def _fit(self, *_a) -> None:
        from kivy.app import App

        theme = App.get_running_app().theme
        width = self.ids.title.width
        size = theme.title
        title = self.shown_title = self.title.replace(" ", "\u00a0")
        if width > 100 and title:  # laid out (see on_kv_post)
            for size in title_sizes(theme.title, theme.body):
                one_line = text_height("国", size, width, bold=True)
                if text_height(title, size, width, True) <= one_line * self.MAX_LINES + 1:
                    break
            if text_height(title, size, width, True) > one_line + 1:
                # Two lines: break near the middle, so no character is left alone on the second.
                self.shown_title = balanced_lines(title, lambda part: text_width(part, size, True) <= width)
        self.title_size = size


def title_sizes(title: float, body: float) -> list[float]:
    """The sizes a long title may shrink to, largest first: the title's, one halfway, the body's.

    A short ladder, not every size down to the body's: SDL2_ttf opens the font
    once per size (~2.5 MiB each for the CJK face) and Kivy keeps up to 64 open
    for good, so shrinking 2 px at a time kept five more bold fonts after a few
    visits (docs/benchmarks.md, "Third pass: memory").
    """
    if title <= body:
        return [title]
    middle = round((title + body) / 4) * 2  # even, as every theme size
    return [title] + ([middle] if body < middle < title else []) + [body]


class KScrollView(ScrollView):
    """A ScrollView that does not pile up bindings on every content change.

    Kivy 2.3's ``update_from_scroll`` binds ``bar_color`` again on each call
    and unbinds it once, 0.5 s later: a list rebuilt in several layout passes
    left one more binding each pass, for good (~58 per visit on the guide and
    item list: the visit-to-visit growth of docs/benchmarks.md, "Third pass").
    """

    def update_from_scroll(self, *largs) -> None:
        self.funbind("bar_color", self._change_bar_color)
        super().update_from_scroll(*largs)


class NavBar(BoxLayout):
    """Back, home and logout. The menu hides back and home (they lead nowhere there)."""

    show_back = BooleanProperty(True)
    show_home = BooleanProperty(True)


class KioskScreen(Screen):
    """Base of every screen: ``show(**params)`` is called before it is entered."""

    def show(self, **params) -> None:  # pragma: no cover - overridden
        pass

    def wipe(self) -> None:
        """Drop anything personal this screen shows; called at every logout."""


class CardPopup(ModalView):
    """A white card over the dimmed screen that only its own buttons close (look in kiosk.kv)."""


class IdleWarning(ModalView):
    seconds = NumericProperty(10)


class AskPopup(ModalView):
    """A question with two large answers (another resident's card, elder mode offer)."""

    title = StringProperty("")
    text = StringProperty("")
    keep_text = StringProperty("")   # the answer that leaves things as they are
    change_text = StringProperty("")  # the answer that changes them
    change_danger = BooleanProperty(False)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.on_keep = lambda: None
        self.on_change = lambda: None
        self.source = ""  # for another resident's card: which device it came from
