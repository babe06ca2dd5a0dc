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


def reveal(widget) -> None:
    """Scroll the enclosing ScrollView so ``widget`` is in view (yield a frame before tapping)."""
    from kivy.uix.scrollview import ScrollView

    w = widget.parent
    while w is not None and w is not w.parent:
        if isinstance(w, ScrollView):
            w.scroll_to(widget, padding=20, animate=False)
            return
        w = w.parent


def press(text: str, root=None):
    """Scenario step (``yield from press("下一步")``): find a button anywhere on
    screen, popups included, scroll it into view and tap it."""
    from kivy.core.window import Window

    from kivy.uix.modalview import ModalView

    yield 0.15
    if root is None:
        # An open popup covers the screen: look there first.
        popups = [w for w in Window.children if isinstance(w, ModalView)]
        root = popups[0] if popups and any(l.text.split("\n", 1)[0] == text or
                                            (text[-1] in ".．" and l.text.startswith(text))
                                            for l in labels(popups[0])) else Window
    button = find_button(root, text)
    reveal(button)
    yield 0.15
    tap(button)
    yield 0.2


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

    url = app.cfg["platform"]["url"].rstrip("/") + "/admin/submissions"
    return httpx.get(url, timeout=5).json()["submissions"]


def last_job_lines(app) -> list[str]:
    from kiosk.hardware.escpos_render import decode, decoded_lines

    return decoded_lines(decode(app.last_print.job))
