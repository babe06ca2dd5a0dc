"""Pinyin search and the public-disclosure browser in the running kiosk."""

from __future__ import annotations

import json

from tests.test_ui_shell import _press


def scenario_search(app):
    from tests.ui_helpers import find_button, report, reveal, tap

    yield lambda: app.sm.current == "attract"
    _press(282)
    yield lambda: app.sm.current == "menu"
    yield 0.2
    tap(find_button(app.sm.current_screen, "查找业务（拼音）"))
    yield lambda: app.sm.current == "search"
    yield 0.2
    screen = app.sm.current_screen
    for ch in "YL":
        tap(find_button(screen, ch))
        yield 0.05
    results = [w.text for w in reversed(screen.ids.results.children)]  # top to bottom
    query = screen.query
    button26 = find_button(screen, "26.")
    reveal(button26)
    yield 0.2
    tap(button26)
    yield lambda: app.sm.current == "guide"
    report("search", {"query": query, "results": results, "guide": app.sm.current_screen.item_title,
                      "voice": app.voice.history})


def scenario_disclosure(app):
    from tests.ui_helpers import find_button, report, reveal, tap, texts

    yield lambda: app.sm.current == "attract"
    yield 0.2
    tap(find_button(app.sm.current_screen, "政务公开"))
    yield lambda: app.sm.current == "disclosure"
    yield 0.2
    groups = [w.text for w in reversed(app.sm.current_screen.body.children)]  # top to bottom
    # Drill down until items appear, always taking the first entry.
    for _ in range(3):
        first = app.sm.current_screen.body.children[-1]
        reveal(first)
        yield 0.1
        tap(first)
        yield 0.3
        if app.sm.current == "disclosure_item":
            break
    screen = app.sm.current_screen
    rows = screen.rows
    shown = texts(screen.body)
    tap(find_button(screen, "打印本事项"))
    yield lambda: app.last_print is not None and app.last_print.done
    report("disclosure", {"groups": groups, "screen": app.sm.current, "title": app.disclosure_title,
                          "rows": rows, "shown": shown, "print": app.last_print.message,
                          "item_no": screen.item.no})


def test_pinyin_initials_find_pension_items_and_open_guide(run_kiosk, tmp_path):
    from kiosk.flows.catalog import load_catalog
    from kiosk.flows.search import search

    run_kiosk("tests.test_ui_disclosure_search:scenario_search")
    got = json.loads((tmp_path / "search.json").read_text(encoding="utf-8"))
    assert got["query"] == "yl"
    expected = [m.no for m in search(load_catalog(), "yl", limit=12)]
    shown_nos = [int(t.split(".")[0]) for t in got["results"]]
    assert shown_nos == expected and 26 in shown_nos
    # 养老 items lead; 21 (资格认证, "待遇领取" = y-l) ties with them and the kiosk completes it
    assert sum("养老" in t for t in got["results"][:4]) >= 3
    assert got["guide"].startswith("26. ")
    assert "search_hint" in got["voice"] and "choose_service" in got["voice"]


def test_disclosure_browse_show_and_print(run_kiosk, tmp_path):
    from kiosk.flows.disclosure import load_disclosure
    from kiosk.hardware.escpos_render import decode, decoded_lines

    run_kiosk("tests.test_ui_disclosure_search:scenario_disclosure")
    got = json.loads((tmp_path / "disclosure.json").read_text(encoding="utf-8"))
    cat = load_disclosure("临县")
    assert got["screen"] == "disclosure_item"
    assert [g.split("（")[0] for g in got["groups"]] == [g for g in cat.children() if g]
    item = cat.item(got["item_no"])
    assert [tuple(r) for r in got["rows"]] == item.element_rows()
    for label, text in item.element_rows():
        assert label in got["shown"] and text in got["shown"]
    assert got["print"] == "打印完成，请取走回执"
    jobs = sorted((tmp_path / "var").rglob("job-*.bin")) if (tmp_path / "var").exists() else []
    assert jobs, "the simulated printer stored no job"
    lines = "\n".join(decoded_lines(decode(jobs[-1].read_bytes())))
    assert item.name[:10] in lines.replace("\n", "")
