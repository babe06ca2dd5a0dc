"""Whole journeys by touches in the real window, as a villager alone at the machine makes them.

Each scenario runs in a fresh kiosk process (conftest.run_kiosk): real window
under Xvfb, the ID-card reader on its pty simulator, the platform simulator on
loopback, the printer simulator. After each step the scenario records what is
on screen; touches (and swipes a scrolled-away button needs) are counted by
tests.ui_helpers.TouchCounter. Set KIOSK_SNAPSHOT_DIR to keep screenshots.
"""

from __future__ import annotations

import json

from tests.test_ui_shell import _press

F1, F2, F3, F4, F5 = 282, 283, 284, 285, 286


def _login(app, key):
    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    _press(key)
    yield lambda: app.sm.current == "menu"
    yield 0.3


def _read(tmp_path, name):
    return json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- search (point 1)

def _search_results_seen(app) -> dict:
    from tests.ui_helpers import on_screen

    screen = app.sm.get_screen("search")
    buttons = list(reversed(screen.ids.results.children))
    keys = [k for row in screen.ids.keypad.children for k in row.children]
    visible = [b for b in buttons if on_screen(b)]

    def overlaps(a, b) -> bool:
        ax, ay = a.to_window(a.x, a.y)
        bx, by = b.to_window(b.x, b.y)
        return ax < bx + b.width and bx < ax + a.width and ay < by + b.height and by < ay + a.height

    covered = [b.text for b in visible for k in keys if overlaps(b, k)]
    return {"hint": screen.hint, "results": len(buttons), "visible": [b.text for b in visible],
            "min_height": min((b.height for b in visible), default=0), "covered": covered}


def _search_scenario(app, elder: bool):
    from tests.ui_helpers import TouchCounter, report, shot

    c = TouchCounter()
    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    c.start()
    if elder:
        yield from c.press("长辈模式（大字）")
    _press(F1)  # the ID card laid on the reader
    yield lambda: app.sm.current == "menu"
    yield 0.3
    yield from c.press("查找业务（拼音）")
    yield lambda: app.sm.current == "search"
    for ch in "YL":
        yield from c.press(ch)
    yield 0.4
    seen = _search_results_seen(app)
    shot("search-yl" + ("-elder" if elder else ""))
    yield from c.press("26.")
    yield lambda: app.sm.current == "guide"
    yield from c.press("开始办理")
    yield lambda: app.sm.current == "flow" and app.sm.get_screen("flow").step is not None \
        and app.sm.get_screen("flow").step.kind == "result"
    seen.update(c.stop(), guide=app.sm.get_screen("guide").item_title,
                step=app.sm.get_screen("flow").step.kind)
    report("search", seen)


def scenario_search_elder(app):
    yield from _search_scenario(app, elder=True)


def scenario_search_standard(app):
    yield from _search_scenario(app, elder=False)


def test_elder_search_shows_results_as_large_buttons_then_item(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys:scenario_search_elder")
    got = _read(tmp_path, "search")
    assert got["results"] == 12, got
    assert len(got["visible"]) >= 2, got  # was 0: "找到 12 项，请点选" and nothing under it
    assert got["min_height"] >= 96 and got["covered"] == []
    assert got["guide"].startswith("26. ") and got["step"] == "result"
    # elder toggle, 查找, Y, L, a swipe (26 is the third hit), 26., 开始办理
    assert got["touches"] <= 7, got["pressed"]


def test_standard_search_fills_the_space_under_the_query(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys:scenario_search_standard")
    got = _read(tmp_path, "search")
    assert len(got["visible"]) >= 3, got  # was 1: a one-row band
    assert got["covered"] == [] and got["touches"] == 5, got["pressed"]
