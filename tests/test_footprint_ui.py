"""What the kiosk keeps out of its memory until needed (issue 16): the platform
simulator's web stack, the pinyin dictionaries and the technician screens; and what
it keeps out of the time before its first frame."""

from __future__ import annotations

import json
import sys

HEAVY = ("fastapi", "pydantic", "uvicorn", "starlette", "pypinyin", "jieba")
# Technician mode's modules: imported when it is first entered, not on the attract screen.
TECH_MODULES = ("kiosk.screens.technician.controller", "kiosk.screens.technician.login",
                "kiosk.flows.tech_mode", "kiosk.flows.staff_auth")
# Not needed for the attract screen's first frame: imported after it (docs/benchmarks.md, issue 16).
NOT_BEFORE_FIRST_FRAME = ("httpx", "httpcore", "cryptography", "paho", "cv2", "numpy")
KIOSK_NOT_BEFORE_FIRST_FRAME = ("kiosk.backend", "kiosk.platform.http_client", "kiosk.platform.outbox",
                                "kiosk.fleet.agent", "kiosk.fleet.client", "kiosk.fleet.signing",
                                "kiosk.screens.flow", "kiosk.screens.disclosure", "kiosk.screens.search",
                                "kiosk.flows.engine", "kiosk.flows.submission", *TECH_MODULES)


def scenario_attract_is_lean(app):
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    from tests.ui_helpers import report

    def _tap_at(x: float, y: float) -> None:  # (tests.test_ui_technician's would import staff_auth here)
        t = UnitTestTouch(x, y)
        t.touch_down()
        t.touch_up()

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.backend.ready.is_set()
    attract = app.sm.get_screen("attract")
    yield lambda: getattr(attract, "qr_preview", None) is not None and attract.qr_preview.running
    yield 1.0
    got = {"heavy": sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY)),
           "tech_modules": sorted(set(sys.modules) & set(TECH_MODULES)),
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
    assert got["tech_modules"] == []
    assert got["tech_known"] and not got["tech_built_at_start"]
    assert got["tech_built_after_gesture"]
    # The staff QR login is attached to the technician login screen built late, and the
    # camera stays open for it when the attract screen's QR login stops (it used to close it).
    assert got["qr_on_tech_login"]


def scenario_first_frame(app):
    """What the kiosk has done when its first frame is on glass, and what follows it.

    Not a generator: kiosk.runner calls it before the app runs, so it can watch the
    window's first ``on_flip`` (the script's own steps start later).
    """
    import threading

    from kivy.core.window import Window

    from tests.ui_helpers import report

    first: dict = {}

    def flipped(*_a) -> None:
        Window.unbind(on_flip=flipped)
        attract = app.sm.get_screen("attract")
        first.update(
            screen=app.sm.current,
            # the QR login's preview (empty until the camera starts) and caption are on it already
            qr_slot=[type(w).__name__ for w in attract.ids.qr_slot.children],
            screens_built=sorted(s.name for s in app.sm.screens),
            modules=sorted({m.split(".")[0] for m in sys.modules} & set(NOT_BEFORE_FIRST_FRAME))
            + sorted(set(sys.modules) & set(KIOSK_NOT_BEFORE_FIRST_FRAME)),
            threads=sorted(t.name for t in threading.enumerate()),
            backend_made=app.backend is not None,
        )

    Window.bind(on_flip=flipped)

    def steps():
        yield lambda: bool(first)
        # Then, with no touch: devices, platform link and fleet start, and the screens a
        # visit needs next are built (warm), the technician screens are not.
        yield lambda: app.devices.wait_started(0) and app.backend is not None and app.backend.ready.is_set()
        yield lambda: all(app.sm.is_built(n) for n in ("menu", "items", "guide", "flow", "search", "disclosure"))
        later = {"fleet": app.fleet is not None,
                 "tech_built": app.sm.is_built("tech_login"),
                 "first_frame_at": getattr(app, "first_frame_at", None)}
        report("first_frame", {"first": first, "later": later})

    return steps()


def test_the_first_frame_has_only_the_attract_screen_and_nothing_started_behind_it(run_kiosk, tmp_path):
    """Cold start (issue 16): before its first frame the kiosk builds the attract screen and
    nothing else. Devices, the platform link (httpx), the fleet (MQTT, signatures), the other
    screens and technician mode came before it and held the GIL while it was being drawn."""
    run_kiosk("tests.test_footprint_ui:scenario_first_frame", '[devices.sscard]\ndriver = "none"\n')
    got = json.loads((tmp_path / "first_frame.json").read_text())
    first, later = got["first"], got["later"]
    assert first["screen"] == "attract"
    assert sorted(first["qr_slot"]) == ["CameraView", "Label"]
    assert first["screens_built"] == ["attract"]
    assert first["modules"] == []
    assert first["threads"] == ["MainThread"]
    assert not first["backend_made"]
    # ... and all of it follows the first frame by itself (the scenario waited for the devices,
    # the platform link and the warm screens; the fleet is on in the demo config).
    assert later["fleet"] and later["first_frame_at"] is not None
    assert not later["tech_built"]


def scenario_services_fail(app):
    """The backend cannot be made (say, its storage is gone), after the first frame."""

    def broken():
        raise OSError("storage unreadable (injected)")

    app._services = broken

    def steps():
        yield 30  # the kiosk stops before this ends

    return steps()


def test_a_start_that_fails_after_the_first_frame_stops_the_kiosk(run_kiosk):
    """Made before the first frame, a failing backend stopped the start; made after it, it
    must not leave a kiosk on its attract screen without devices or platform."""
    proc = run_kiosk("tests.test_footprint_ui:scenario_services_fail", '[devices.sscard]\ndriver = "none"\n',
                     expect_exit=1)
    assert "the start after the first frame failed: stopping" in proc.stderr
    assert "storage unreadable (injected)" in proc.stderr
    assert "attract screen up" not in proc.stderr  # the devices were never started


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
