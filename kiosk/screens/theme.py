"""Sizes and colours for standard and elder mode, bound by every kv rule.

Standard mode stays readable at arm's length (body >= 32 px, contrast >= 4.5:1);
elder mode is bigger and starker (body >= 48 px, contrast >= 7:1).

The pixel sizes below are for the reference panel (96 ppi, kiosk.core.panel);
``scale`` (the panel's ppi over the reference) keeps them the same size in
millimetres on any other panel: bigger on a dense 1920x1080 desk panel,
smaller (but never below 0.75x) on a coarse 43" standing panel.
"""

from __future__ import annotations

from typing import Any

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty


def hex_rgba(h: str) -> list[float]:
    h = h.lstrip("#")
    return [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0]


STANDARD: dict[str, Any] = {
    "body": 32, "title": 44, "button": 36, "huge": 56,
    "bg": "#F4F6FA", "fg": "#1A1A1A", "header_bg": "#0B4F8A", "header_fg": "#FFFFFF",
    "button_bg": "#1565C0", "button_fg": "#FFFFFF", "accent": "#C62828", "muted": "#3D4652",
    "card_bg": "#FFFFFF", "ok": "#1B5E20",
}
ELDER: dict[str, Any] = {
    "body": 48, "title": 60, "button": 52, "huge": 72,
    "bg": "#FFFFFF", "fg": "#000000", "header_bg": "#002B55", "header_fg": "#FFFFFF",
    "button_bg": "#0D3C78", "button_fg": "#FFFFFF", "accent": "#8E0000", "muted": "#1F1F1F",
    "card_bg": "#FFFFFF", "ok": "#0B3D0B",
}


SIZES = ("body", "title", "button", "huge")


class Theme(EventDispatcher):
    elder = BooleanProperty(False)
    scale = NumericProperty(1.0)
    body = NumericProperty(STANDARD["body"])
    title = NumericProperty(STANDARD["title"])
    button = NumericProperty(STANDARD["button"])
    huge = NumericProperty(STANDARD["huge"])
    bg = ColorProperty(hex_rgba(STANDARD["bg"]))
    fg = ColorProperty(hex_rgba(STANDARD["fg"]))
    header_bg = ColorProperty(hex_rgba(STANDARD["header_bg"]))
    header_fg = ColorProperty(hex_rgba(STANDARD["header_fg"]))
    button_bg = ColorProperty(hex_rgba(STANDARD["button_bg"]))
    button_fg = ColorProperty(hex_rgba(STANDARD["button_fg"]))
    accent = ColorProperty(hex_rgba(STANDARD["accent"]))
    muted = ColorProperty(hex_rgba(STANDARD["muted"]))
    card_bg = ColorProperty(hex_rgba(STANDARD["card_bg"]))
    ok = ColorProperty(hex_rgba(STANDARD["ok"]))

    def __init__(self, scale: float = 1.0, **kw) -> None:
        super().__init__(**kw)
        self.scale = scale
        self._apply()

    def on_elder(self, *_a) -> None:
        self._apply()

    def on_scale(self, *_a) -> None:
        self._apply()

    def px(self, value: float) -> float:
        """A reference-panel pixel length on this panel (kv: ``app.theme.px(96)``)."""
        return round(value * self.scale)

    def _apply(self) -> None:
        values = ELDER if self.elder else STANDARD
        for key, value in values.items():
            setattr(self, key, hex_rgba(value) if isinstance(value, str) else self.px(value))
