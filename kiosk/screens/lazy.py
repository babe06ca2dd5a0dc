"""A ScreenManager that builds rarely used screens on first use.

Technician screens are opened a few times a year but cost ~29 MiB and
~95 ms of start-up when built with the others. A module registers a
*builder* for a group of screen names; the first ``get_screen``,
``has_screen`` or ``current = name`` for any of them runs the builder, which
adds the group's screens. ``when_built(name, fn)`` lets another module
decorate a lazy screen once it exists (the QR login on the technician login).
"""

from __future__ import annotations

import logging
from typing import Callable

from kivy.uix.screenmanager import ScreenManager

log = logging.getLogger("kiosk.screens")


class LazyScreenManager(ScreenManager):
    def __init__(self, clip: bool = False, **kw) -> None:
        self._builders: dict[str, Callable[[], None]] = {}
        self._after: dict[str, list[Callable]] = {}
        super().__init__(**kw)
        if not clip:
            # Kivy's ScreenManager rule clips its screens with a stencil: two extra
            # full-window passes on every redraw (a third of a redraw's cost on
            # software GL). Screens fill the manager and the kiosk switches them
            # without sliding transitions, so nothing ever needs clipping.
            self.canvas.before.clear()
            self.canvas.after.clear()

    def add_lazy(self, names: list[str], build: Callable[[], None]) -> None:
        """``build()`` adds the screens ``names`` when one of them is first needed."""
        for name in names:
            self._builders[name] = build

    def is_built(self, name: str) -> bool:
        return super().has_screen(name)

    def when_built(self, name: str, fn: Callable) -> None:
        """Call ``fn(screen)`` once the screen ``name`` exists (now, if it does)."""
        if self.is_built(name):
            fn(super().get_screen(name))
        else:
            self._after.setdefault(name, []).append(fn)

    def _build(self, name: str) -> None:
        build = self._builders.get(name)
        if build is None or self.is_built(name):
            return
        for other in [n for n, b in self._builders.items() if b is build]:
            del self._builders[other]
        log.info("building screens on first use (%s)", name)
        build()
        for built, fns in list(self._after.items()):
            if self.is_built(built):
                del self._after[built]
                for fn in fns:
                    fn(super().get_screen(built))

    def has_screen(self, name: str) -> bool:
        return name in self._builders or super().has_screen(name)

    def get_screen(self, name: str):
        self._build(name)
        return super().get_screen(name)
