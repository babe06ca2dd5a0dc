"""What every technician screen shares: the base screens, the nav bar and small widget helpers.

Their looks are in technician.kv (``<TechNav>``, ``<TechPage>``, ``TechSmallLabel``, ``TechInput``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.screens.widgets import KButton, KioskScreen

if TYPE_CHECKING:
    from kiosk.screens.technician.controller import TechController

MARK = "√ "  # selected choice (the CJK font has U+221A)


class TechNav(BoxLayout):
    controller = ObjectProperty(None, allownone=True)
    show_home = BooleanProperty(True)


def label(text: str, *, color: Any = None, small: bool = False, title: bool = False, **kw: Any) -> Label:
    w = Factory.TechSmallLabel(text=text, **kw) if small else (Factory.KTitle(text=text, **kw) if title
                                                               else Factory.KLabel(text=text, **kw))
    if color is not None:
        w.color = color
    return w


def button(text: str, on: Callable[[], Any], *, danger: bool = False, **kw: Any) -> KButton:
    b = KButton(text=text, danger=danger, **kw)
    b.bind(on_release=lambda _b: on())
    return b


def choice(text: str, on: Callable[[], None]) -> KButton:
    """A choice button that grows with its wrapped text, so a mark and two lines stay inside it."""
    b = button(text, on)
    base = b.height
    b.bind(texture_size=lambda w, ts: setattr(w, "height", max(base, ts[1] + 32)))
    return b


class TechBase(KioskScreen):
    controller: TechController = ObjectProperty(None, allownone=True)
    who = StringProperty("")
    #: technician-mode feature needed to open the screen (staff_auth.Feature value), None: any session
    feature: str | None = None

    def show(self, **params: Any) -> None:
        ctl = self.controller
        self.who = ctl.who
        if self.feature is not None:
            if ctl.mode.session is None:
                Clock.schedule_once(lambda _dt: ctl.app.go("tech_login", _push=False))
                return
            if not ctl.mode.can(self.feature):
                Clock.schedule_once(lambda _dt: ctl.home())
                return
        self.fill(**params)

    def fill(self, **params: Any) -> None:  # pragma: no cover - overridden
        pass

    def wipe(self) -> None:
        self.who = ""


class TechPage(TechBase):
    """A page: header, action row, scrolling body filled by ``fill()``, technician nav (technician.kv)."""

    title = StringProperty("")
    show_home = BooleanProperty(True)

    def clear(self) -> None:
        self.ids.body.clear_widgets()
        self.ids.actions.clear_widgets()
        self.ids.scroll.scroll_y = 1

    def wipe(self) -> None:
        super().wipe()
        self.clear()
