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
    """The visible Label-derived widget whose text starts with ``startswith``."""
    hits = [w for w in labels(root) if w.text.startswith(startswith) and not w.disabled and w.opacity > 0]
    assert hits, f"no button starting with {startswith!r} on screen; texts: {[w.text for w in labels(root)][:40]}"
    return hits[0]


def texts(root) -> list[str]:
    return [w.text for w in labels(root) if w.text]


def report(name: str, data) -> None:
    """Write facts for the pytest side to assert on (outside the app process)."""
    out = Path(os.environ["KIOSK_TEST_OUT"]) / f"{name}.json"
    out.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
