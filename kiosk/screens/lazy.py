"""A ScreenManager that builds rarely used screens on first use.

Technician screens are opened a few times a year but cost ~29 MiB and
~95 ms of start-up when built with the others. A module registers a
*builder* for a group of screen names; the first ``get_screen``,
``has_screen`` or ``current = name`` for any of them runs the builder, which
adds the group's screens. ``when_built(name, fn)`` lets another module
decorate a lazy screen once it exists (the QR login on the technician login).

Screens a visit needs soon (the menu, the item list...) are registered *warm*:
still not built before the attract screen's first frame, but built one per
frame right after it (``warm_up``), so the first touch finds them ready.
A *pending registration* (``add_pending``) is a screen module's whole
registration, run after the first frame (``register_next``), or at once when
a screen nobody has registered yet is asked for.
"""

from __future__ import annotations

import logging
from typing import Callable

from kivy.uix.screenmanager import ScreenManager

log = logging.getLogger("kiosk.screens")


class LazyScreenManager(ScreenManager):
    def __init__(self, clip: bool = False, **kw) -> None:
        self._builders: dict[str, Callable[[], None]] = {}
        self._warm: list[Callable[[], None]] = []  # builders to run soon after the first frame, in order
        self._pending: list[Callable[[], None]] = []  # registrations not run yet, in order
        self._after: dict[str, list[Callable]] = {}
        super().__init__(**kw)
        if not clip:
            # Kivy's ScreenManager rule clips its screens with a stencil: two extra
            # full-window passes on every redraw (a third of a redraw's cost on
            # software GL). Screens fill the manager and the kiosk switches them
            # without sliding transitions, so nothing ever needs clipping.
            self.canvas.before.clear()
            self.canvas.after.clear()

    def add_lazy(self, names: list[str], build: Callable[[], None], warm: bool = False) -> None:
        """``build()`` adds the screens ``names`` when one of them is first needed
        (or, if ``warm``, during ``warm_up`` if that comes first)."""
        for name in names:
            self._builders[name] = build
        if warm:
            self._warm.append(build)

    def add_pending(self, register: Callable[[], None]) -> None:
        """``register()`` adds screens or lazy builders: run by ``register_next``, or before
        any look-up of a screen name that is not known yet."""
        self._pending.append(register)

    def register_next(self) -> bool:
        """Run the oldest pending registration; True while more are pending."""
        if self._pending:
            self._pending.pop(0)()
        return bool(self._pending)

    def warm_next(self) -> bool:
        """Build the oldest warm group not built yet; True while more are waiting."""
        while self._warm:
            build = self._warm.pop(0)
            names = [n for n, b in self._builders.items() if b is build]
            if names:
                self._build(names[0])
                break
        return bool(self._warm)

    def _known(self, name: str) -> bool:
        if name in self._builders or super().has_screen(name):
            return True
        while self._pending:  # an unknown name may be one a pending registration adds
            self.register_next()
            if name in self._builders or super().has_screen(name):
                return True
        return False

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
        return self._known(name)

    def get_screen(self, name: str):
        self._known(name)
        self._build(name)
        return super().get_screen(name)
