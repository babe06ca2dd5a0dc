"""Every screen stays readable: font sizes, contrast and button count, both modes.

Standard mode: body >= 32 px, contrast >= 4.5:1. Elder mode (适老化): body >=
48 px, contrast >= 7:1, at most 6 buttons on screen at once.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from tests.test_ui_shell import _press

SCREENS = [("attract", {}), ("menu", {}), ("items", {"category_id": "jobs"}), ("items", {"category_id": "skills"}),
           ("items", {"category_id": "insurance"}), ("items", {"category_id": "card"}),
           ("guide", {"item_no": 3}), ("guide", {"item_no": 21}), ("guide", {"item_no": 26}), ("guide", {"item_no": 40})]


def scenario_measure(app):
    from kiosk.screens.legibility import label_facts
    from kiosk.screens.widgets import IdleWarning
    from tests.ui_helpers import report

    results = []
    yield lambda: app.sm.current == "attract"
    _press(282)
    yield lambda: app.sm.current == "menu"
    for elder in (False, True):
        if app.theme.elder != elder:
            app.theme.elder = elder
        for name, params in SCREENS:
            if name == "attract":
                app.sm.current = "attract"
            else:
                app.go(name, **params)
            yield 0.15
            facts = label_facts(app.sm.current_screen, app.theme)
            results.append({"screen": f"{name}{params}", "elder": elder, "labels": [asdict(f) for f in facts]})
        popup = IdleWarning()
        popup.open(animation=False)
        yield 0.15
        results.append({"screen": "idle-warning", "elder": elder,
                        "labels": [asdict(f) for f in label_facts(popup, app.theme)]})
        popup.dismiss(animation=False)
    report("legibility", results)


def test_every_screen_is_legible_in_both_modes(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_legibility:scenario_measure")
    results = json.loads((tmp_path / "legibility.json").read_text(encoding="utf-8"))
    assert len(results) == 2 * (len(SCREENS) + 1)
    assert all(r["labels"] for r in results), "a screen shows no text"
    assert _problems(results) == []


NAVIGATION = {"退出", "回到首页", "回到开始页面", "返回上一步", "返回", "再听一遍", "标准模式", "长辈模式（大字）"}


def _problems(results: list[dict]) -> list[str]:
    """Every label under the mode's minimum size or contrast; elder screens with > 6 large buttons."""
    problems = []
    for r in results:
        min_size, min_contrast = (48, 7.0) if r["elder"] else (32, 4.5)
        for lab in r["labels"]:
            if lab["font_size"] < min_size:
                problems.append(f"{r['screen']} elder={r['elder']}: {lab['text'][:20]!r} is {lab['font_size']}px")
            if lab["contrast"] < min_contrast:
                problems.append(f"{r['screen']} elder={r['elder']}: {lab['text'][:20]!r} contrast {lab['contrast']:.2f}")
        # The limit is on choices; the navigation every screen carries in the same places
        # (leave, back, home, hear again, switch mode) is not a choice to weigh.
        buttons = sum(1 for lab in r["labels"] if lab["is_button"] and lab["text"] not in NAVIGATION)
        if r["elder"] and buttons > 6:
            problems.append(f"{r['screen']} elder mode shows {buttons} buttons")
    return problems


def test_contrast_ratio_matches_wcag_examples():
    from kiosk.screens.legibility import contrast_ratio

    assert round(contrast_ratio((0, 0, 0, 1), (1, 1, 1, 1)), 1) == 21.0
    assert round(contrast_ratio((1, 1, 1, 1), (1, 1, 1, 1)), 1) == 1.0
    # #767676 on white is the classic 4.54:1 boundary colour.
    g = 0x76 / 255
    assert 4.5 < contrast_ratio((g, g, g, 1), (1, 1, 1, 1)) < 4.6


def scenario_measure_flows(app):
    """Flow steps, keyboards, the photo screen and the print popup, in both modes."""
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    from kiosk.screens.legibility import label_facts
    from tests.test_ui_flows import F3, _login
    from tests.ui_helpers import flow_step, press, press_field, printed, report

    results = []

    def measure(name, root):
        facts = label_facts(root, app.theme)
        results.append({"screen": name, "elder": app.theme.elder, "labels": [asdict(f) for f in facts]})

    yield from _login(app, F3)
    for elder in (False, True):
        app.theme.elder = elder
        app.start_service(1)
        yield flow_step(app, "form")
        yield 0.2
        measure("flow form", app.sm.current_screen)
        yield from press_field(app, "job_type")
        yield lambda: any(isinstance(w, ModalView) for w in Window.children)
        measure("pinyin keyboard", [w for w in Window.children if isinstance(w, ModalView)][0])
        yield from press("取消")
        app.start_service(27)
        yield lambda: app.sm.get_screen("flow").step is not None and app.sm.get_screen("flow").step.kind in (
            "result", "refused")
        yield 0.2
        measure(f"flow {app.sm.get_screen('flow').step.kind}", app.sm.current_screen)
        yield from press("打印回执") if app.sm.get_screen("flow").step.can_print else iter(())
        if app.last_print is not None:
            yield printed(app)
            measure("print popup", [w for w in Window.children if isinstance(w, ModalView)][0])
            app.last_print.dismiss(animation=False)
            app.last_print = None
        app.go("photo", flow_screen=app.sm.get_screen("flow"))
        yield 0.3
        measure("photo", app.sm.current_screen)
        app.go_home()
        yield 0.2
    report("legibility_flows", results)


def test_flow_screens_keyboards_and_popups_are_legible(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_legibility:scenario_measure_flows")
    results = json.loads((tmp_path / "legibility_flows.json").read_text(encoding="utf-8"))
    assert {r["screen"] for r in results} >= {"flow form", "pinyin keyboard", "photo"}
    assert _problems(results) == []
