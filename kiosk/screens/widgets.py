"""Widgets shared by every screen; their look is in kiosk.kv."""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import Screen


class KButton(Button):
    """A large touch button; ``danger`` paints it red (logout, cancel)."""

    danger = BooleanProperty(False)


class IconButton(Button):
    """A small control (speaker, keypad key) that is not one of a screen's large buttons."""


class KKey(IconButton):
    """A key of an on-screen keypad."""


class HeaderBar(BoxLayout):
    title = StringProperty("")
    who = StringProperty("")


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
