"""Measure what a resident can read: font sizes and contrast of every visible label.

Used by the accessibility tests and available to a technician check. The
contrast ratio is WCAG 2's: (L1 + 0.05) / (L2 + 0.05) of relative luminances.
"""

from __future__ import annotations

from dataclasses import dataclass


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgba) -> float:
    r, g, b = (_channel(float(x)) for x in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg, bg) -> float:
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@dataclass
class LabelFact:
    text: str
    font_size: float
    contrast: float
    is_button: bool


def ancestors(widget):
    """The widget and its parents up to the window (whose parent is itself)."""
    w, seen = widget, set()
    while w is not None and id(w) not in seen:
        seen.add(id(w))
        yield w
        w = w.parent


def background_of(widget, theme):
    """The colour painted behind ``widget``: the nearest ancestor that paints one."""
    from kivy.uix.modalview import ModalView

    from kiosk.screens.widgets import HeaderBar, KButton, KioskScreen, KKey

    for w in ancestors(widget):
        if hasattr(w, "bg_rgba"):  # a widget that paints its own background says which
            return w.bg_rgba
        if isinstance(w, KKey):
            return theme.button_bg
        if isinstance(w, KButton):
            return theme.accent if w.danger else theme.button_bg
        if isinstance(w, HeaderBar):
            return theme.header_bg
        if isinstance(w, ModalView):
            return theme.card_bg
        if isinstance(w, KioskScreen):
            return theme.bg
    return theme.bg


def _window_rect(widget) -> tuple[float, float, float, float]:
    x, y = widget.to_window(*widget.pos)
    return x, y, x + widget.width, y + widget.height


def visible(widget) -> bool:
    """Shown, and at least half of it inside the window and every scroll viewport.

    A sliver of a button at the edge of a list is not something a resident can
    read or press, so it does not count.
    """
    from kivy.core.window import Window
    from kivy.uix.scrollview import ScrollView

    if widget.width <= 0 or widget.height <= 0:
        return False
    x0, y0, x1, y1 = _window_rect(widget)
    area = (x1 - x0) * (y1 - y0)
    clips = [(0.0, 0.0, float(Window.width), float(Window.height))]
    for w in ancestors(widget):
        if getattr(w, "opacity", 1) == 0 or (w is widget and getattr(w, "disabled", False)):
            return False
        if isinstance(w, ScrollView) and w is not widget:
            clips.append(_window_rect(w))
    for cx0, cy0, cx1, cy1 in clips:
        x0, y0, x1, y1 = max(x0, cx0), max(y0, cy0), min(x1, cx1), min(y1, cy1)
    inside = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inside >= 0.5 * area


def walk(w):
    """The widget and all its descendants."""
    yield w
    for c in w.children:
        yield from walk(c)


def label_facts(root, theme) -> list[LabelFact]:
    from kivy.uix.label import Label

    from kiosk.screens.widgets import KButton

    out = []
    for w in walk(root):
        if isinstance(w, Label) and w.text.strip() and visible(w):
            out.append(LabelFact(w.text, float(w.font_size), contrast_ratio(w.color, background_of(w, theme)),
                                 isinstance(w, KButton)))
    return out
