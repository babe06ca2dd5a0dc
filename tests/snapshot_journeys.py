"""Screenshots of the screens issue 17 points 1-4, 7, 8 and 10 are about, in one kiosk run.

    KIOSK_SNAPSHOT_DIR=docs/snapshots [KIOSK_SNAPSHOT_SUFFIX=-before] [KIOSK_SNAPSHOT_ELDER=1] \\
        python -m kiosk.runner --script tests.snapshot_journeys:scenario

Only plain touches by caption and public app methods, so the same script also runs on
an older tree (the "before" pictures). Names: <screen>[-elder]<suffix>.png.
"""

from __future__ import annotations

import os


def _shot(app, name: str) -> None:
    from tests.ui_helpers import shot

    shot(name + ("-elder" if app.theme.elder else "") + os.environ.get("KIOSK_SNAPSHOT_SUFFIX", ""))


def _key(key: int) -> None:
    from kivy.core.window import Window

    Window.dispatch("on_key_down", key, 0, None, [])


def _flow_kind(app, *kinds):
    def ready():
        s = app.sm.get_screen("flow").step
        from kivy.core.window import Window

        from kiosk.screens.flow import BusyPopup

        busy = any(isinstance(w, BusyPopup) for w in Window.children)
        return app.sm.current == "flow" and s is not None and s.kind in kinds and not busy

    return ready


def _home(app):
    app.go_home()
    yield 0.3


def scenario(app):
    from tests.ui_helpers import press

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.camera is not None
    if os.environ.get("KIOSK_SNAPSHOT_ELDER"):
        app.toggle_elder()
    yield 0.5
    # anonymous menu (point 7)
    yield from press("先看看办事指南")
    yield lambda: app.sm.current == "menu"
    yield 0.5
    _shot(app, "menu-anonymous")
    app.go_attract()
    yield 0.3
    _key(284)  # F3: the job seeker
    yield lambda: app.sm.current == "menu"
    yield 0.3
    # search (point 1)
    yield from press("查找业务（拼音）")
    yield lambda: app.sm.current == "search"
    for ch in "YL":
        yield from press(ch)
    yield 0.6
    _shot(app, "search-yl")
    # item list and guide of item 21 (point 2)
    yield from _home(app)
    yield from press("我要办社保")
    yield lambda: app.sm.current == "items"
    app.sm.current_screen.ids.scroll.scroll_y = 0.55
    yield 0.6
    _shot(app, "items-insurance")
    app.go("guide", item_no=21)
    yield 0.6
    _shot(app, "guide-21")
    # refusal (point 3): item 3 for a job seeker not registered yet
    yield from _home(app)
    app.start_service(3)
    yield _flow_kind(app, "refused", "result")
    yield 0.4
    _shot(app, "flow-item3-refused")
    main = "我知道了" if app.sm.get_screen("flow").step.kind == "refused" and \
        any(getattr(b, "text", "") == "我知道了" for b in app.sm.get_screen("flow").ids.actions.children) else "完成"
    yield from press(main)
    yield _flow_kind(app, "done")
    yield 0.4
    _shot(app, "flow-item3-done")
    # form (point 4): errors, then a choice lower down
    yield from _home(app)
    app.start_service(1)
    yield _flow_kind(app, "form")
    yield from press("下一步")
    yield _flow_kind(app, "form")
    yield 0.6
    _shot(app, "flow-item1-errors")
    yield from press("初中")
    yield 0.6
    _shot(app, "flow-item1-choice")
    # results and money (point 8): item 26 as the pensioner
    app.logout("snapshot")
    yield lambda: app.sm.current == "attract"
    _key(287)  # F6: the ID card away
    yield 1.0
    if os.environ.get("KIOSK_SNAPSHOT_ELDER") and not app.theme.elder:
        app.toggle_elder()
    _key(282)  # F1: the pensioner
    yield lambda: app.sm.current == "menu"
    yield 0.3
    app.start_service(26)
    yield _flow_kind(app, "result")
    yield 0.6
    _shot(app, "flow-item26-result")
    # photo (point 10)
    from kiosk import ROOT

    app.devices.camera.show(ROOT / "images/sim/camera/photo/pass.jpg")
    yield from _home(app)
    app.start_service(21)
    yield lambda: app.sm.current == "photo"
    photo = app.sm.get_screen("photo")
    yield lambda: photo.view.snapshot() is not None
    yield 0.5
    yield from press("拍照")
    yield lambda: photo.accepted == 1 or (photo.captured and photo.verdict != "")
    yield 0.6
    _shot(app, "photo-accepted")
    app.logout("snapshot done")
    yield 0.3
