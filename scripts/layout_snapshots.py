"""Render key screens for docs/snapshots (before/after issue 17 layout fixes).

Run (a config per panel: [ui] width, height, diagonal_inches; the runner starts an Xvfb of that size):
  env -u DISPLAY KIOSK_SHOT_DIR=docs/snapshots/layout KIOSK_SHOT_TAG=after-1280x800 PYTHONPATH=.:scripts \
      .venv/bin/python -m kiosk.runner --script layout_snapshots:shoot --config CFG
Each mode renders attract, a long-titled guide, a choice-heavy form,
and the pinyin keypad.
"""
import os
import shutil


def shoot(app):
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    from kiosk.flows.step import Step
    from kiosk.flows.fields import field_state
    from kiosk.screens.keyboards import open_keyboard

    out, tag = os.environ["KIOSK_SHOT_DIR"], os.environ["KIOSK_SHOT_TAG"]

    def snap(name):
        from kiosk.screens.layout_audit import settle

        yield from settle(app)  # until text fitting and wrapping stop moving
        f = Window.screenshot(name=os.path.join(out, "tmp%(counter)04d.png"))
        shutil.move(f, os.path.join(out, f"{tag}-{'elder' if app.theme.elder else 'standard'}-{name}.png"))

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    yield 4.0  # the pinyin dictionary loads on a worker thread a few seconds after start
    for elder in (False, True):
        if app.theme.elder != elder:
            app.toggle_elder()
        app.go_attract()
        yield 0.5
        yield from snap("attract")
        app.go("guide", item_no=30)
        yield from snap("guide30")
        app.go("flow")
        flow = app.sm.get_screen("flow")
        item = app.catalog.by_no(11)
        flow.render(Step(kind="form", title_zh=f"{item.no}. {item.name}", message_zh="请填写以下内容，填好后点“下一步”。",
                         fields=[field_state(f) for f in item.fields]))
        yield from snap("form11")
        open_keyboard("pinyin", "期望工作地点", "临县", lambda _v: None, "")
        yield from snap("pinyin")
        for w in list(Window.children):
            if isinstance(w, ModalView):
                w.dismiss(animation=False)
        app.go_home()
        yield 0.3
