"""What the kiosk keeps out of its memory until needed (issue 16): the platform
simulator's web stack, the pinyin dictionaries and the technician screens."""

from __future__ import annotations

import json
import sys

HEAVY = ("fastapi", "pydantic", "uvicorn", "starlette", "pypinyin", "jieba")


def scenario_attract_is_lean(app):
    from kivy.core.window import Window

    from tests.test_ui_technician import _tap_at
    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.backend.ready.is_set()
    attract = app.sm.get_screen("attract")
    yield lambda: getattr(attract, "qr_preview", None) is not None and attract.qr_preview.running
    yield 1.0
    got = {"heavy": sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY)),
           "tech_built_at_start": app.sm.is_built("tech_login"),
           "tech_known": app.sm.has_screen("tech_login")}
    for _ in range(5):  # the technician's hidden gesture: 5 taps in the top-left corner
        _tap_at(40, Window.height - 40)
    yield lambda: app.sm.current == "tech_login"
    yield 1.0
    got["tech_built_after_gesture"] = app.sm.is_built("tech_home")
    got["qr_on_tech_login"] = app.devices.camera is not None and app.devices.camera.is_open
    report("lean", got)


def test_attract_screen_holds_no_simulator_web_stack_dictionaries_or_technician_screens(run_kiosk, tmp_path):
    run_kiosk("tests.test_footprint_ui:scenario_attract_is_lean", '[devices.sscard]\ndriver = "none"\n')
    got = json.loads((tmp_path / "lean.json").read_text())
    assert got["heavy"] == []
    assert got["tech_known"] and not got["tech_built_at_start"]
    assert got["tech_built_after_gesture"]
    # The staff QR login is attached to the technician login screen built late, and the
    # camera stays open for it when the attract screen's QR login stops (it used to close it).
    assert got["qr_on_tech_login"]


def scenario_cheap_redraw(app):
    from kivy.core.window import Window
    from kivy.graphics import StencilPush
    from kivy.graphics.opengl import GL_SAMPLES, glGetIntegerv

    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    yield 0.5

    def stencils(canvas) -> int:  # a canvas's before/after groups are among its children
        return sum(isinstance(i, StencilPush) + stencils(i) for i in getattr(canvas, "children", None) or [])

    samples = glGetIntegerv(GL_SAMPLES)
    report("redraw", {"samples": int(samples[0] if hasattr(samples, "__len__") else samples),
                      "stencils": stencils(Window.canvas)})


def test_a_redraw_of_the_attract_screen_has_no_multisampling_and_no_stencil_pass(run_kiosk, tmp_path):
    """Every camera change redraws the whole window; on software GL multisampling made
    that ~3x dearer and the screen manager's stencil clip added two full-window passes."""
    run_kiosk("tests.test_footprint_ui:scenario_cheap_redraw", '[devices.sscard]\ndriver = "none"\n')
    got = json.loads((tmp_path / "redraw.json").read_text())
    assert got == {"samples": 0, "stencils": 0}
