"""The layout audit over every screen, both modes, three panels, in a real window under Xvfb.

`kiosk snapshot --audit` must print no finding and exit 0 on the shipped
panel (1280x800), a desk panel (1920x1080, 21.5") and a portrait standing
panel (1080x1920, 32"). A deliberately broken screen must be reported, so the
audit can fail. Each run starts its own Xvfb at the panel's size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_config

PANELS = ["1280x800@15.6", "1920x1080@21.5", "1080x1920@32"]


def _start_audit(tmp_path: Path, size: str, mode: str = "both") -> subprocess.Popen:
    # The audit needs no social-security card (the shared pcscd stays free for the tests that do).
    cfg = write_config(tmp_path, '[devices.sscard]\ndriver = "none"\n')
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update({"KIVY_HOME": str(tmp_path / "kivy"), "SDL_AUDIODRIVER": "dummy",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
    return subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(cfg), "snapshot", "--audit",
                             "--size", size, "--mode", mode],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> tuple[int, str, list[dict]]:
    try:
        out, err = proc.communicate(timeout=900)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    findings = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return proc.returncode, err, findings


@pytest.fixture(scope="module")
def audits(tmp_path_factory):
    """The three panels' audits, started together: each is one process on its own Xvfb, so they
    share the machine's cores instead of queueing (the three are a quarter of the suite's time)."""
    procs = {size: _start_audit(tmp_path_factory.mktemp("audit"), size) for size in PANELS}
    results: dict[str, tuple[int, str, list[dict]]] = {}

    def result(size: str) -> tuple[int, str, list[dict]]:
        if size not in results:
            results[size] = _finish(procs[size])
        return results[size]

    yield result
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.ui  # its own Xvfb per panel (not the session display), so not marked by the fixtures
@pytest.mark.parametrize("size", PANELS)
def test_every_screen_passes_the_layout_audit(audits, size):
    returncode, stderr, findings = audits(size)
    summary = [line for line in stderr.splitlines() if line.startswith("layout audit:")]
    assert summary, f"the audit did not finish:\n{stderr[-4000:]}"
    screens = int(summary[-1].split(":")[1].split()[0])
    assert screens >= 228, summary  # both modes, technician pages included: 114 screen states each
    assert findings == [], "\n".join(json.dumps(f, ensure_ascii=False) for f in findings[:40])
    assert returncode == 0


def scenario_broken(app):
    """A screen broken on purpose: the audit must report each fault."""
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    from kiosk.screens.layout_audit import audit
    from kiosk.screens.widgets import KButton
    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    app.toggle_elder()
    screen = app.sm.current_screen
    # a button on top of the three attract buttons' row, one with a caption too long for it,
    # a glyph the font lacks, a tiny button, and a label half off the window.
    over = KButton(text="确定", size_hint=(None, None), size=(400, 130), pos=(40, 30))
    # a plain button of fixed height (not a KButton, whose height grows with its text)
    wrap = Button(text="先看看办事指南先看看办事指南", font_size=52, text_size=(180, None), size_hint=(None, None),
                  size=(200, 130), pos=(600, 400))
    mark = Label(text="✔ 初中", font_size=48, size_hint=(None, None), size=(300, 80), pos=(300, 300))
    tiny = Button(text="", size_hint=(None, None), size=(30, 30), pos=(1000, 500))
    away = Label(text="二维码对准这里", font_size=48, size_hint=(None, None), size=(400, 80), pos=(1100, 300))
    for w in (over, wrap, mark, tiny, away):
        screen.add_widget(w)
    yield 0.5
    found = audit(app, "broken attract")
    report("broken", [{"check": f.check, "text": f.text, "detail": f.detail} for f in found])


def test_a_broken_layout_is_reported(run_kiosk, tmp_path):
    run_kiosk("tests.test_layout_audit:scenario_broken", '[devices.sscard]\ndriver = "none"\n')
    found = json.loads((tmp_path / "broken.json").read_text(encoding="utf-8"))
    kinds = {(f["check"], f["text"]) for f in found}
    assert ("touch-overlap", "确定") in kinds or any(k == "touch-overlap" and "确定" in t for k, t in kinds)
    assert ("text-overflow", "先看看办事指南先看看办事指南") in kinds
    assert ("missing-glyph", "✔ 初中") in kinds
    assert ("touch-too-small", "") in kinds
    assert ("off-screen", "二维码对准这里") in kinds


def scenario_keypad_rows(app):
    """Key heights of the pinyin keypad in both modes, and whether its bottom buttons cover keys."""
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    from kiosk.screens.keyboards import open_keyboard
    from kiosk.screens.layout_audit import audit, settle
    from tests.ui_helpers import report

    out = {}
    yield lambda: app.sm.current == "attract"
    for elder in (False, True):
        if app.theme.elder != elder:
            app.toggle_elder()
        pad = open_keyboard("pinyin", "期望工作地点", "临县", lambda _v: None)
        yield from settle(app)
        keys = [w for w in pad.walk() if type(w).__name__ == "KKey" and len(w.text) == 1]
        out["elder" if elder else "standard"] = {
            "key_height": min(k.height for k in keys),
            "findings": [f.check for f in audit(app, "pinyin")]}
        for w in list(Window.children):
            if isinstance(w, ModalView):
                w.dismiss(animation=False)
        yield 0.2
    report("keypad", out)


def test_elder_pinyin_keys_are_not_shorter_than_standard_and_not_covered(run_kiosk, tmp_path):
    run_kiosk("tests.test_layout_audit:scenario_keypad_rows", '[devices.sscard]\ndriver = "none"\n')
    got = json.loads((tmp_path / "keypad.json").read_text(encoding="utf-8"))
    assert got["elder"]["findings"] == [] and got["standard"]["findings"] == []
    assert got["elder"]["key_height"] >= got["standard"]["key_height"], got


def scenario_text_size(app):
    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    report("text_size", {"body": app.theme.body, "button": app.theme.button, "window": list(app.root_window.size)})


@pytest.mark.parametrize("panel,body", [("width = 1280\nheight = 800\ndiagonal_inches = 15.6", 32),
                                        ("width = 1920\nheight = 1080\ndiagonal_inches = 15.6", 43),
                                        ("width = 1080\nheight = 1920\ndiagonal_inches = 43", 24)])
def test_text_is_sized_from_the_panel(run_kiosk, tmp_path, panel, body):
    run_kiosk("tests.test_layout_audit:scenario_text_size", f'[ui]\n{panel}\n[devices.sscard]\ndriver = "none"\n',
              env={"DISPLAY": ""})
    got = json.loads((tmp_path / "text_size.json").read_text(encoding="utf-8"))
    assert got["body"] == body


def scenario_headers(app):
    """Every guide's header on this panel: the title shown and the room it has."""
    from kiosk.screens.layout_audit import settle
    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    out = []
    for elder in (False, True):
        if app.theme.elder != elder:
            app.toggle_elder()
        for item in app.catalog.items:
            app.go("guide", item_no=item.no)
            yield from settle(app)
            header = app.sm.current_screen.ids.header
            label = header.ids.title
            out.append({"no": item.no, "name": item.name, "shown": label.text, "elder": elder,
                        "needed": label.texture_size[1], "room": label.height})
    report("headers", out)


@pytest.mark.parametrize("panel", ["width = 1080\nheight = 1920\ndiagonal_inches = 32",
                                   "width = 1280\nheight = 800\ndiagonal_inches = 15.6"])
def test_item_titles_show_whole_in_the_header(run_kiosk, tmp_path, panel):
    run_kiosk("tests.test_layout_audit:scenario_headers", f'[ui]\n{panel}\n[devices.sscard]\ndriver = "none"\n',
              env={"DISPLAY": ""}, timeout=300)
    got = json.loads((tmp_path / "headers.json").read_text(encoding="utf-8"))
    assert len(got) == 80
    for h in got:
        lines = h["shown"].split("\n")
        assert "".join(lines) == f"{h['no']}.\u00a0{h['name']}", h  # the whole title, number and name together
        assert h["needed"] <= h["room"] + 2, h                     # never cut at top or bottom
        if len(lines) == 2:  # broken near the middle: no character left alone on the second line
            assert len(lines[1]) >= len(lines[0]) // 2, h
