"""Services end to end in the running kiosk, by touches: login to printed receipt.

Real window, real ID-card driver on its pty simulator, real platform
simulator on loopback, real printer simulator on TCP; the assertions are on
what the resident sees, what the platform stored and what was printed.
"""

from __future__ import annotations

import json

from tests.test_ui_shell import _press

F1, F2, F3, F4 = 282, 283, 284, 285


def _login(app, key):
    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    _press(key)
    yield lambda: app.sm.current == "menu"


def _open_item(app, category: str, no: int):
    from tests.ui_helpers import press

    yield from press(category)
    yield lambda: app.sm.current == "items"
    yield from press(f"{no}.")
    yield lambda: app.sm.current == "guide"


def scenario_item26_query(app):
    from tests.ui_helpers import flow_step, last_job_lines, press, printed, report, texts

    yield from _login(app, F1)  # an enterprise pensioner
    yield from _open_item(app, "我要办社保", 26)
    yield from press("开始办理")
    yield flow_step(app, "result")
    screen = app.sm.get_screen("flow")
    shown = texts(screen.ids.body)
    rows = len(screen.step.table.rows)
    yield from press("打印回执")
    yield printed(app)
    report("item26", {"shown": shown, "rows": rows, "total": screen.step.table.total,
                      "print": app.last_print.message, "lines": last_job_lines(app),
                      "id": app.sessions.current.person.id_number})


def fill_item1(app):
    """Item 1's form by touches (pinyin, candidates, keypad, a choice), up to the confirm step."""
    from tests.ui_helpers import flow_step, press, press_field

    yield from press("开始办理")
    yield flow_step(app, "form")
    # 求职工种: whole-word pinyin, picked from the candidate bar.
    yield from press_field(app, "job_type")
    for ch in "DIANGONG":
        yield from press(ch)
    yield from press("电工")
    yield from press("确定")
    # 期望工作地点: character by character works too.
    yield from press_field(app, "work_place")
    for letters, char in (("LIN", "临"), ("XIAN", "县")):
        for ch in letters:
            yield from press(ch)
        yield from press(char)
    yield from press("确定")
    yield from press("点此输入")  # 期望月薪
    for ch in "3500":
        yield from press(ch)
    yield from press("确定")
    yield from press("初中")
    yield from press("下一步")
    yield flow_step(app, "confirm")


def scenario_item1_registration(app):

    from tests.ui_helpers import flow_step, last_job_lines, platform_submissions, press, printed, report

    yield from _login(app, F3)  # an unemployed job seeker
    yield from _open_item(app, "我要找工作", 1)
    yield from fill_item1(app)
    summary = list(app.sm.get_screen("flow").step.summary)
    yield from press("确认提交")
    yield lambda: flow_step(app, "result")() or flow_step(app, "done")()
    step = app.sm.get_screen("flow").step
    yield from press("打印回执")
    yield printed(app)
    report("item1", {"summary": summary, "outcome": step.outcome, "reference": step.reference,
                     "stored": platform_submissions(app), "lines": last_job_lines(app),
                     "id": app.sessions.current.person.id_number})


def scenario_counter_item29(app):
    from tests.ui_helpers import flow_step, last_job_lines, press, printed, report, texts

    yield from _login(app, F4)  # a young farmer, not yet in any pension scheme
    yield from _open_item(app, "我要办社保", 29)
    yield from press("打印材料清单（一次性告知）")
    yield lambda: app.sm.get_screen("flow").step is not None and app.sm.get_screen("flow").step.kind in (
        "form", "counter", "refused")
    screen = app.sm.get_screen("flow")
    if screen.step.kind == "form":
        yield from press("下一步")
        yield flow_step(app, "counter")
    shown = texts(screen.ids.body)
    yield from press("打印回执")
    yield printed(app)
    report("item29", {"kind": screen.step.kind, "shown": shown, "lines": last_job_lines(app)})


def scenario_item21_certification(app):
    from tests.ui_helpers import flow_step, last_job_lines, platform_submissions, press, printed, report
    from kiosk import ROOT

    yield from _login(app, F1)  # receives a pension: must certify eligibility
    yield from _open_item(app, "我要办社保", 21)
    yield from press("开始办理")
    yield lambda: app.sm.current == "photo"
    # First a dark frame: the gate must refuse it with its own message.
    app.devices.camera.show(ROOT / "images/sim/camera/photo/fail_too_dark.jpg")
    yield 0.5
    yield from press("拍照")
    yield lambda: app.sm.get_screen("photo").verdict != ""
    refused = app.sm.get_screen("photo").verdict
    app.devices.camera.show(ROOT / "images/sim/camera/photo/pass.jpg")
    yield 0.5
    yield from press("重拍")
    yield lambda: app.sm.get_screen("photo").accepted == 1 or (
        app.sm.get_screen("photo").verdict not in ("", refused))
    verdict = app.sm.get_screen("photo").verdict
    yield from press("使用这张")
    yield lambda: app.sm.current == "flow" and (flow_step(app, "form")() or flow_step(app, "confirm")())
    if app.sm.get_screen("flow").step.kind == "form":
        yield from press("下一步")
        yield flow_step(app, "confirm")
    yield from press("确认提交")
    yield lambda: flow_step(app, "result")() or flow_step(app, "done")()
    step = app.sm.get_screen("flow").step
    yield from press("打印回执")
    yield printed(app)
    report("item21", {"refused": refused, "verdict": verdict, "outcome": step.outcome, "reference": step.reference,
                      "stored": platform_submissions(app), "lines": last_job_lines(app)})


def scenario_qr_login(app):
    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.camera is not None
    yield 0.5
    _press(291)  # F10: a forged code
    yield lambda: app.sm.get_screen("attract").message != ""
    forged = app.sm.get_screen("attract").message
    _press(290)  # F9: resident 1's fresh e-SSC code
    yield lambda: app.sm.current == "menu"
    yield 0.5
    person = app.sessions.current.person
    report("qr", {"forged": forged, "source": person.source, "who": app.who_text,
                  "camera_open_in_menu": app.devices.camera.is_open})


def _read(tmp_path, name):
    return json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))


def _masked(id_number: str) -> str:
    return id_number[:3] + "*" * 11 + id_number[-4:]


def test_item26_pension_records_from_login_to_receipt(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_flows:scenario_item26_query")
    got = _read(tmp_path, "item26")
    assert got["rows"] > 0 and any("第1/" in t for t in got["shown"])
    text = "\n".join(got["lines"])
    assert "企业职工基本养老保险待遇发放记录查询" in text
    assert _masked(got["id"]) in text and got["id"] not in text
    assert got["print"] == "打印完成，请取走回执"


def test_item1_job_seeker_registration_with_pinyin_and_keypad(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_flows:scenario_item1_registration")
    got = _read(tmp_path, "item1")
    values = dict((k, v) for k, v in got["summary"])
    assert "电工" in values.values() and "临县" in values.values() and "初中" in values.values()
    assert got["outcome"] == "accepted"
    mine = [s for s in got["stored"] if s.get("acceptance_no") == got["reference"]]
    assert len(mine) == 1 and mine[0]["item_no"] == 1
    assert "电工" in json.dumps(mine[0], ensure_ascii=False)
    text = "\n".join(got["lines"])
    # Item 1 is completed at once (即时办结): the receipt says 已办结, as the platform does.
    assert got["reference"] in text and "办理状态：已办结" in text and got["id"] not in text


def test_counter_only_item_prints_checklist(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_flows:scenario_counter_item29")
    got = _read(tmp_path, "item29")
    assert got["kind"] == "counter"
    text = "\n".join(got["lines"])
    assert "城乡居民补充养老保险参保登记" in text
    assert "身份证" in text  # the materials to bring


def test_item21_certification_photo_gates_then_submission(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_flows:scenario_item21_certification")
    got = _read(tmp_path, "item21")
    assert "暗" in got["refused"] or "光线" in got["refused"]
    assert got["verdict"] == "照片清晰，可以使用。"
    assert got["outcome"] == "accepted"
    mine = [s for s in got["stored"] if s.get("acceptance_no") == got["reference"]]
    assert len(mine) == 1 and mine[0]["item_no"] == 21 and mine[0].get("photo_id")
    assert got["reference"] in "\n".join(got["lines"])


def test_qr_login_forged_refused_then_valid_code_logs_in(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_flows:scenario_qr_login")
    got = _read(tmp_path, "qr")
    assert "二维码" in got["forged"]
    assert got["source"] == "qr" and got["who"].startswith("您好，")
    assert got["camera_open_in_menu"] is False


def scenario_photo_forgotten_at_logout(app):
    from kiosk import ROOT
    from tests.ui_helpers import press, report

    yield from _login(app, F1)
    yield from _open_item(app, "我要办社保", 21)
    yield from press("开始办理")
    yield lambda: app.sm.current == "photo"
    app.devices.camera.show(ROOT / "images/sim/camera/photo/pass.jpg")
    yield 0.5
    yield from press("拍照")
    yield lambda: app.sm.get_screen("photo").accepted == 1
    app.logout("test: resident walked away")
    yield lambda: app.sm.current == "attract"
    photo = app.sm.get_screen("photo")
    report("photo_wipe", {"jpeg": photo.jpeg is None, "frame": photo.view.snapshot() is None,
                          "holds": app.sessions.current.holds_personal_data()})


def test_certification_photo_is_forgotten_at_logout(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_flows:scenario_photo_forgotten_at_logout")
    assert _read(tmp_path, "photo_wipe") == {"jpeg": True, "frame": True, "holds": False}
