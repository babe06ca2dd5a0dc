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


# ---------------------------------------------------------------- helpers for flows

def _flow(app):
    return app.sm.get_screen("flow")


def _step_is(app, *kinds):
    from tests.ui_helpers import flow_step

    def ready():
        return app.sm.current == "flow" and any(flow_step(app, k)() for k in kinds)

    ready.__name__ = f"flow step {'/'.join(kinds)}"
    return ready


def _open_item(app, c, category: str, no: int):
    """Category › item › 开始办理, by counted touches."""
    yield from c.press(category)
    yield lambda: app.sm.current == "items"
    yield from c.press(f"{no}.")
    yield lambda: app.sm.current == "guide"
    yield from c.press("开始办理")


def _tap_widget(c, widget):
    """Tap ``widget`` as a resident would: a swipe first (counted) when it is scrolled away."""
    from tests.ui_helpers import hidden_in_scroll, reveal, tap

    yield 0.15
    if hidden_in_scroll(widget):
        c.count += 1
        c.pressed.append("(swipe)")
        reveal(widget)
        yield 0.15
    c.pressed.append(getattr(widget, "field_name", widget.text))
    c.offset_at_tap = widget_screen_offset(widget)
    tap(widget)
    yield 0.25


def widget_screen_offset(widget) -> float:
    from kivy.app import App

    return App.get_running_app().sm.get_screen("flow")._scroll_offset()


def _font_lacks(text: str) -> list[str]:
    """Characters of ``text`` the CJK face the kiosk draws with has no glyph for."""
    from fontTools.ttLib import TTFont

    from kiosk.fonts import cjk_font

    cmap = TTFont(str(cjk_font("regular")), lazy=True).getBestCmap()
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in cmap})


# ---------------------------------------------------------------- item 1 with the pinyin keypad (point 4)

def scenario_item1_journey(app):
    from tests.ui_helpers import (TouchCounter, field_box, find_button, last_job_lines, platform_submissions, printed, report,
                                  shot, texts)

    c = TouchCounter()
    seen = {}
    yield from _login(app, F3)  # an unemployed job seeker
    c.start()
    yield from _open_item(app, c, "我要找工作", 1)
    yield _step_is(app, "form")
    flow = _flow(app)
    seen["form_actions"] = [b.text for b in reversed(flow.ids.actions.children)]
    shot("flow-item1-form" + ("-elder" if app.theme.elder else ""))
    # 求职工种: one tap on a common answer; it is marked with a glyph the font has.
    flow.ids.scroll.scroll_y = 0.6  # the resident has scrolled down a little
    yield 0.2
    chip = find_button(flow.ids.body, "电工")
    yield from _tap_widget(c, chip)
    before = c.offset_at_tap
    yield 0.3
    seen["offset_after_choice"] = [before, flow._scroll_offset()]
    chosen = [t for t in texts(flow.ids.body) if t.endswith("电工") and t != "电工"]
    seen["chosen"] = chosen
    seen["missing_glyphs"] = _font_lacks("".join(texts(flow.ids.body)))
    # 期望工作地点 on the pinyin keypad, character by character from the candidate bar.
    box = field_box(app, "work_place")
    yield from _tap_widget(c, box)
    before = c.offset_at_tap
    for letters, char in (("LIN", "临"), ("XIAN", "县")):
        for ch in letters:
            yield from c.press(ch)
        yield from c.press(char)
    yield from c.press("确定")
    yield 0.3
    seen["offset_after_keypad"] = [before, flow._scroll_offset()]
    yield from _tap_widget(c, field_box(app, "expected_pay"))
    for ch in "3500":
        yield from c.press(ch)
    yield from c.press("确定")
    yield 0.3
    yield from c.press("初中")
    shot("flow-item1-chosen" + ("-elder" if app.theme.elder else ""))
    yield from c.press("下一步")
    yield _step_is(app, "confirm")
    seen["summary"] = [list(x) for x in flow.step.summary]
    yield from c.press("确认提交")
    yield _step_is(app, "result")
    seen["result"] = flow.step.outcome
    yield from c.press("打印回执")
    yield printed(app)
    seen["receipt"] = last_job_lines(app)
    yield from c.press("关闭")
    yield from c.press("完成")
    yield _step_is(app, "done")
    seen["done"] = texts(flow.ids.body)
    yield from c.press("退出")
    yield lambda: app.sm.current == "attract"
    seen.update(c.stop())
    seen["stored"] = [s for s in platform_submissions(app) if s.get("item_no") == 1]
    report("item1", seen)


def test_item1_registration_by_touch_keeps_scroll_marks_choice_and_counts_touches(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys:scenario_item1_journey", timeout=240)
    got = _read(tmp_path, "item1")
    assert got["form_actions"][0] == "返回上一步" and got["form_actions"][-1] == "退出"
    a, b = got["offset_after_choice"]
    assert a > 50 and abs(a - b) < 60, got["offset_after_choice"]  # was: back to the top (0)
    a, b = got["offset_after_keypad"]
    assert abs(a - b) < 60, got["offset_after_keypad"]
    assert got["chosen"] == ["✓ 电工"] and got["missing_glyphs"] == []
    summary = dict(got["summary"])
    assert summary["求职工种"] == "电工" and summary["期望工作地点"] == "临县" and summary["期望月薪"] == "3500元"
    assert got["result"] == "accepted" and any("电工" in json.dumps(s, ensure_ascii=False) for s in got["stored"])
    assert not any("（元）：" in line and "元" in line.split("：", 1)[1] for line in got["receipt"])
    assert "办理完成。" in got["done"]
    # was 39 (pinyin for both words, 3 swipes back down the form); 电工 is one tap now
    assert got["touches"] <= 32, got["pressed"]  # incl. 关闭, 完成, 退出 and the swipes down the form


def scenario_form_errors(app):
    from tests.ui_helpers import on_screen, report, shot, texts

    yield from _login(app, F3)
    yield from _press_all(app, ["我要找工作"], "items")
    yield from _press_all(app, ["1."], "guide")
    from tests.ui_helpers import press

    yield from press("开始办理")
    yield _step_is(app, "form")
    yield from press("下一步")
    yield lambda: _flow(app).step.kind == "form" and any(f.error_zh for f in _flow(app).step.fields)
    yield 0.4
    flow = _flow(app)
    msg = flow.ids.banner
    first_bad = next(f for f in flow.step.fields if f.error_zh)
    shot("flow-item1-errors" + ("-elder" if app.theme.elder else ""))
    report("errors", {"message": msg.text, "color": list(msg.color), "accent": list(app.theme.accent),
                      "errors": [f.error_zh for f in flow.step.fields if f.error_zh],
                      "first_visible": on_screen(flow._field_widgets[first_bad.name]),
                      "summary_visible": on_screen(msg),
                      "texts": texts(flow.ids.body)})


def _press_all(app, captions, screen):
    from tests.ui_helpers import press

    for caption in captions:
        yield from press(caption)
    yield lambda: app.sm.current == screen


def test_form_errors_are_red_say_what_to_do_and_scroll_to_the_first(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys:scenario_form_errors")
    got = _read(tmp_path, "errors")
    assert got["color"] == got["accent"], got  # was black
    assert got["message"].startswith("还有") and "改正" not in " ".join(got["texts"])
    assert "请选择文化程度。" in got["errors"] and "请填写求职工种。" in got["errors"]
    assert got["first_visible"] is True and got["summary_visible"] is True


# ---------------------------------------------------------------- ID card → item 26 → receipt → logout (points 7, 8)

def _button_at(root, caption):
    """Window position of the (possibly greyed) button ``caption``."""
    from tests.ui_helpers import labels

    b = next(w for w in labels(root) if w.text == caption)
    return [round(v) for v in b.to_window(b.x, b.y)] + [round(b.width), b.disabled]


def scenario_item26_journey(app):
    from kivy.core.window import Window

    from tests.ui_helpers import TouchCounter, last_job_lines, printed, report, shot, texts

    c = TouchCounter()
    seen = {}
    yield from _login(app, F1)  # an enterprise pensioner: more than one page of monthly payments
    c.start()
    yield from _open_item(app, c, "我要办社保", 26)
    yield _step_is(app, "result")
    flow = _flow(app)
    seen["actions"] = [b.text for b in reversed(flow.ids.actions.children)]
    seen["pages"] = [flow.step.table.page, flow.step.table.pages, flow.step.table.total]
    seen["page1"] = {k: _button_at(Window, k) for k in ("上一页", "下一页")} if flow.step.table.pages > 1 else {}
    seen["shown"] = texts(flow.ids.body)
    shot("flow-item26-result" + ("-elder" if app.theme.elder else ""))
    if flow.step.table.pages > 1:
        yield from c.press("下一页")
        yield lambda: _step_is(app, "result")() and flow.step.table.page == 2
        yield 0.3
        seen["page2"] = {k: _button_at(Window, k) for k in ("上一页", "下一页")}
        flow.ids.scroll.scroll_y = 1
        yield 0.2
    yield from c.press("打印回执")
    yield printed(app)
    seen["receipt"] = last_job_lines(app)
    yield from c.press("关闭")
    yield from c.press("退出")
    yield lambda: app.sm.current == "attract"
    seen.update(c.stop())
    report("item26", seen)


def test_item26_by_touch_prints_all_records_and_logs_out(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys:scenario_item26_journey", timeout=180)
    got = _read(tmp_path, "item26")
    assert got["actions"] == ["返回上一步", "打印回执", "完成", "退出"], got["actions"]
    page, pages, total = got["pages"]
    assert pages > 1, got["pages"]
    # Paging keys in the same places on page 1 and page 2 (上一页 greyed on page 1, not removed).
    p1, p2 = got["page1"], got["page2"]
    assert [p1["上一页"][0], p1["下一页"][0]] == [p2["上一页"][0], p2["下一页"][0]]
    assert any(t.endswith("元") and t[0].isdigit() for t in got["shown"])  # amounts carry 元 on screen
    assert not any("（元）" in t for t in got["shown"])
    text = "\n".join(got["receipt"])
    assert f"共{total}条，全部列在下面" in text and "查询期间" in text  # was: the page on screen only
    # category, swipe, 26., 开始办理, swipe down to the pager, 下一页, 打印回执, 关闭, 退出
    assert got["touches"] <= 9, got["pressed"]


# ---------------------------------------------------------------- e-SSC QR → item 21 with photo (points 2, 10)

def scenario_qr_item21_journey(app):
    from kiosk import ROOT
    from kiosk.flows.photo_quality import check_photo
    from tests.ui_helpers import TouchCounter, find_button, printed, report, shot, texts

    c = TouchCounter()
    seen = {}
    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.camera is not None
    yield 0.5
    _press(290)  # F9: resident 1 shows a fresh e-SSC QR code to the camera
    yield lambda: app.sm.current == "menu"
    yield 0.3
    c.start()
    yield from c.press("我要办社保")
    yield lambda: app.sm.current == "items"
    seen["list21"] = find_button(app.sm.current_screen, "21.").text
    yield from c.press("21.")
    yield lambda: app.sm.current == "guide"
    seen["guide"] = texts(app.sm.get_screen("guide").ids.body)
    app.devices.camera.show(ROOT / "images/sim/camera/photo/pass.jpg")
    yield from c.press("开始办理")
    yield lambda: app.sm.current == "photo"
    photo = app.sm.get_screen("photo")
    yield lambda: photo.view.snapshot() is not None
    yield 0.5
    seen["instruction"] = photo.instruction
    # Where the detector finds the face, in the mirrored preview, against the face guide.
    frame = photo.view.snapshot()
    fh, fw = frame.shape[:2]
    x, y, w, h = check_photo(frame).faces[0]
    px, py, pw, ph = photo.view.picture
    centre = (px + pw * (1 - (x + w / 2) / fw), py + ph * (1 - (y + h / 2) / fh))
    (ex, ey, ew, eh), _card = photo.guide_boxes()
    seen["face_in_guide"] = ((centre[0] - ex - ew / 2) / (ew / 2)) ** 2 + ((centre[1] - ey - eh / 2) / (eh / 2)) ** 2
    yield from c.press("拍照")
    yield lambda: photo.accepted == 1 or (photo.verdict != "" and not photo.accepted and photo.captured)
    yield 0.2
    seen["verdict"] = [photo.verdict, list(photo.ids.verdict.color), list(app.theme.ok)]
    shot("photo-accepted" + ("-elder" if app.theme.elder else ""))
    yield from c.press("使用这张")
    yield _step_is(app, "form", "confirm")
    if _flow(app).step.kind == "form":
        yield from c.press("下一步")
        yield _step_is(app, "confirm")
    yield from c.press("确认提交")
    yield _step_is(app, "result")
    seen["outcome"] = _flow(app).step.outcome
    yield from c.press("打印回执")
    yield printed(app)
    yield from c.press("关闭")
    yield from c.press("完成")
    yield _step_is(app, "done")
    seen["done"] = texts(_flow(app).ids.body)
    yield from c.press("退出")
    yield lambda: app.sm.current == "attract"
    seen.update(c.stop())
    report("item21", seen)


def test_qr_login_item21_photo_by_touch(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys:scenario_qr_item21_journey", timeout=180)
    got = _read(tmp_path, "item21")
    assert got["list21"].endswith("[自助机可办]") and "本业务可在自助机上办理。" in got["guide"]  # was 需到柜台办理
    assert not any("本业务需到柜台办理" in t for t in got["guide"])
    assert "身份证" in got["instruction"] and "今天的报纸" in got["instruction"]
    assert got["face_in_guide"] <= 1.0, got["face_in_guide"]  # the face lands inside the face guide
    verdict, colour, ok = got["verdict"]
    assert verdict == "照片清晰，可以使用。" and colour == ok  # was red like an error
    assert got["outcome"] == "accepted" and "办理完成。" in got["done"]
    # 我要办社保, 21., 开始办理, 拍照, 使用这张, 下一步, 确认提交, 打印回执, 关闭, 完成, 退出
    assert got["touches"] <= 11, got["pressed"]


# ---------------------------------------------------------------- dead ends without a card (point 7)

def scenario_anonymous(app):
    from tests.ui_helpers import press, report

    seen = {}
    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    yield from press("政务公开")
    yield lambda: app.sm.current == "disclosure"
    yield from press("回到首页")
    yield lambda: app.sm.current == "menu"
    yield from press("回到开始页面")  # was: no way back from the anonymous menu
    yield lambda: app.sm.current == "attract"
    seen["back_to_start"] = True
    yield from press("先看看办事指南")
    yield lambda: app.sm.current == "menu"
    yield from press("我要办社保")
    yield lambda: app.sm.current == "items"
    yield from press("26.")
    yield lambda: app.sm.current == "guide"
    yield from press("开始办理")
    yield lambda: app.sm.current == "attract"
    seen["attract_message"] = app.sm.get_screen("attract").message
    _press(F1)  # now the card
    yield _step_is(app, "result")  # straight into item 26, not the menu
    seen["item"] = _flow(app).flow.item.no
    yield from press("返回上一步")
    yield lambda: app.sm.current in ("guide", "menu")
    seen["after_back"] = app.sm.current
    report("anon", seen)


def test_anonymous_menu_leads_back_and_the_chosen_item_survives_login(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys:scenario_anonymous")
    got = _read(tmp_path, "anon")
    assert got["back_to_start"] and "企业职工基本养老保险待遇发放记录查询" in got["attract_message"]
    assert got["item"] == 26 and got["after_back"] == "menu"


def scenario_leave_half_filled_form(app):
    from kivy.core.window import Window

    from kiosk.screens.flow import LeavePopup
    from tests.ui_helpers import press, report

    seen = {}
    yield from _login(app, F3)
    yield from press("我要找工作")
    yield from press("1.")
    yield from press("开始办理")
    yield _step_is(app, "form")
    yield from press("电工")
    yield from press("返回上一步")
    yield 0.3
    seen["asked"] = any(isinstance(w, LeavePopup) for w in Window.children)
    yield from press("继续填写")
    yield 0.3
    seen["kept"] = app.sm.current == "flow" and _flow(app).step.fields[1].value == "电工"
    yield from press("返回上一步")
    yield from press("不保存，离开")
    yield lambda: app.sm.current == "guide"
    seen["left"] = True
    report("leave", seen)


def test_leaving_a_half_filled_form_asks_first(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys:scenario_leave_half_filled_form")
    assert _read(tmp_path, "leave") == {"asked": True, "kept": True, "left": True}


# ---------------------------------------------------------------- a refusal (point 3)

def scenario_refusal(app):
    from tests.ui_helpers import press, report, texts

    yield from _login(app, F3)  # the job seeker is not registered yet: item 3 is refused
    yield from press("我要找工作")
    yield from press("3.")
    yield from press("开始办理")
    yield _step_is(app, "refused")
    actions = [b.text for b in reversed(_flow(app).ids.actions.children)]
    yield from press("我知道了")
    yield _step_is(app, "done")
    report("refusal", {"actions": actions, "done": texts(_flow(app).ids.body)})


def test_refusal_never_says_done_and_says_what_next(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys:scenario_refusal")
    got = _read(tmp_path, "refusal")
    assert "完成" not in got["actions"] and "我知道了" in got["actions"]
    assert any(t.startswith("本次没有办成。") for t in got["done"]) and not any("办理完成" in t for t in got["done"])
    assert "去办理：1. 固定工求职登记" in got["done"]
