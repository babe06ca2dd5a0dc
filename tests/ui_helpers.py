"""Helpers for scenario scripts that run inside the kiosk process (see conftest.run_kiosk)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kivy.tests.common import UnitTestTouch
from kivy.uix.label import Label


def tap(widget) -> None:
    """A real touch down/up at the centre of ``widget`` (in window coordinates)."""
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def walk(root):
    yield root
    for child in root.children:
        yield from walk(child)


def labels(root) -> list[Label]:
    return [w for w in walk(root) if isinstance(w, Label)]


def find_button(root, startswith: str):
    """The visible Label-derived widget whose first line starts with ``startswith``.

    A caption ending in "：" or a full first line matches exactly, so "我要办社保"
    does not find "我要办社保卡".
    """
    def first_line(w):
        return w.text.split("\n", 1)[0]

    hits = [w for w in labels(root) if not w.disabled and w.opacity > 0
            and (first_line(w) == startswith or (startswith[-1] in ".．" and first_line(w).startswith(startswith)))]
    assert hits, f"no button starting with {startswith!r} on screen; texts: {[w.text for w in labels(root)][:40]}"
    # Reading order: the top-most match, then the left-most.
    return min(hits, key=lambda w: (-w.to_window(*w.pos)[1], w.to_window(*w.pos)[0]))


def texts(root) -> list[str]:
    return [w.text for w in labels(root) if w.text]


def report(name: str, data) -> None:
    """Write facts for the pytest side to assert on (outside the app process)."""
    out = Path(os.environ["KIOSK_TEST_OUT"]) / f"{name}.json"
    out.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")


def hidden_in_scroll(widget) -> bool:
    """True when ``widget`` is not wholly inside the visible part of its ScrollView:
    a resident would have to swipe before touching it."""
    from kivy.uix.scrollview import ScrollView

    w = widget.parent
    while w is not None and w is not w.parent:
        if isinstance(w, ScrollView):
            _x, y0 = w.to_window(w.x, w.y)
            _x, wy = widget.to_window(widget.x, widget.y)
            return wy < y0 - 1 or wy + widget.height > y0 + w.height + 1
        w = w.parent
    return False


def reveal(widget) -> None:
    """Scroll the enclosing ScrollView so ``widget`` is in view (yield a frame before tapping)."""
    from kivy.uix.scrollview import ScrollView

    w = widget.parent
    while w is not None and w is not w.parent:
        if isinstance(w, ScrollView):
            w.scroll_to(widget, padding=20, animate=False)
            return
        w = w.parent


def press(text: str, root=None, pace: tuple[float, float, float] = (0.15, 0.15, 0.2)):
    """Scenario step (``yield from press("下一步")``): find a button anywhere on
    screen, popups included, scroll it into view and tap it. ``pace``: the waits
    before looking, between scrolling and the tap, and after it (0: one frame)."""
    from kivy.core.window import Window

    from kivy.uix.modalview import ModalView

    yield pace[0]
    if root is None:
        # An open popup covers the screen: look there first.
        popups = [w for w in Window.children if isinstance(w, ModalView)]
        root = popups[0] if popups and any(l.text.split("\n", 1)[0] == text or
                                            (text[-1] in ".．" and l.text.startswith(text))
                                            for l in labels(popups[0])) else Window
    button = find_button(root, text)
    reveal(button)
    yield pace[1]
    tap(button)
    yield pace[2]


def flow_step(app, kind: str):
    """A wait condition: the flow screen shows a step of ``kind`` and nothing is loading."""
    from kivy.core.window import Window

    from kiosk.screens.flow import BusyPopup

    def ready() -> bool:
        screen = app.sm.get_screen("flow")
        busy = any(isinstance(w, BusyPopup) for w in Window.children)
        return not busy and screen.step is not None and screen.step.kind == kind

    ready.__name__ = f"flow step {kind}"
    return ready


def printed(app):
    def done() -> bool:
        return app.last_print is not None and app.last_print.done

    return done


def platform_submissions(app) -> list[dict]:
    import httpx

    from kiosk.platform.simulator.launcher import admin_headers

    url = app.cfg["platform"]["url"].rstrip("/")
    return httpx.get(url + "/admin/submissions", timeout=5, headers=admin_headers(url)).json()["submissions"]


def last_job_lines(app) -> list[str]:
    from kiosk.hardware.escpos_render import decode, decoded_lines

    return decoded_lines(decode(app.last_print.job))


class TouchCounter:
    """Counts touch-downs on the window (what a resident's finger does), plus the
    swipes ``press`` needs when a button is scrolled out of view."""

    def __init__(self) -> None:
        from kivy.core.window import Window

        self.count = 0
        self.pressed: list[str] = []
        self.on = False
        Window.bind(on_touch_down=self._down)

    def _down(self, *_args) -> None:
        if self.on:
            self.count += 1

    def start(self) -> None:
        self.count, self.pressed, self.on = 0, [], True

    def stop(self) -> dict:
        self.on = False
        return {"touches": self.count, "pressed": list(self.pressed)}

    def press(self, text: str):
        """``press`` that counts a swipe first when the button is out of view."""
        from kivy.core.window import Window
        from kivy.uix.modalview import ModalView

        yield 0.15
        popups = [w for w in Window.children if isinstance(w, ModalView)]
        try:
            target = find_button(popups[0] if popups else Window, text)
        except AssertionError:
            target = find_button(Window, text)
        if hidden_in_scroll(target):  # the resident swipes to bring it into view: one more touch
            self.count += 1
            self.pressed.append("(swipe)")
        self.pressed.append(text)
        yield from press(text)


def shot(name: str) -> None:
    """Save the window as ``<KIOSK_SNAPSHOT_DIR>/<name>.png`` when that variable is set
    (docs/snapshots are made this way); nothing otherwise."""
    import shutil

    from kivy.core.window import Window

    where = os.environ.get("KIOSK_SNAPSHOT_DIR")
    if not where:
        return
    out = Path(where) / f"{name}.png"
    written = Window.screenshot(name=str(out.with_suffix("")) + "%(counter)04d.png")
    shutil.move(written, out)


def on_screen(widget) -> bool:
    """Wholly inside the window and, in a ScrollView, inside its visible part."""
    from kivy.core.window import Window

    x, y = widget.to_window(widget.x, widget.y)
    inside = x >= -1 and y >= -1 and x + widget.width <= Window.width + 1 and y + widget.height <= Window.height + 1
    return inside and widget.height > 0 and widget.opacity > 0 and not hidden_in_scroll(widget)


def field_box(app, name: str):
    """The input box of form field ``name`` on the flow screen."""
    return next(w for w in walk(app.sm.get_screen("flow").ids.body) if getattr(w, "field_name", None) == name)


def press_field(app, name: str):
    """Scenario step: scroll the field's input box into view and tap it (opens its keypad)."""
    box = field_box(app, name)
    for _ in range(10):  # a re-render may restore the old scroll position: reveal until in view
        yield 0.15
        if on_screen(box):
            break
        reveal(box)
    tap(box)
    yield 0.2
