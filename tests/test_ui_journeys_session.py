"""Journeys by touches (issue 17): card events mid-form, idle timeout mid-form, and a clean
attract screen for every visitor.

Real window under Xvfb, the real ID-card driver on its pty simulator, the real
PC/SC driver on a virtual card through pcscd + vpcd (run under
``flock /tmp/kiosk-pcsc.lock``). Each step reports what the screen shows; the
pytest side asserts on it and on the number of touches each journey took.
"""

from __future__ import annotations

import json

from tests.test_ui_shell import _press
from tests.test_ui_technician import platform_sim  # noqa: F401 - fixture

F1, F2, F3, F6, F7, F8, F10 = 282, 283, 284, 287, 288, 289, 291


class Touches:
    """Counts the resident's touches (``press``) through a journey."""

    def __init__(self) -> None:
        self.n = 0

    def press(self, text: str):
        from tests.ui_helpers import press

        self.n += 1
        yield from press(text)


def _popup_texts():
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    from tests.ui_helpers import texts

    return [t for w in Window.children if isinstance(w, ModalView) for t in texts(w)]


def _attract(app) -> dict:
    a = app.sm.get_screen("attract")
    return {"screen": app.sm.current, "message": a.message, "error": a.message_is_error}


def _to_item1_form(app, t: Touches):
    from tests.ui_helpers import flow_step

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.sscard is not None
    _press(F3)  # an unemployed job seeker lays the ID card on the reader
    yield lambda: app.sm.current == "menu"
    yield from t.press("我要找工作")
    yield lambda: app.sm.current == "items"
    yield from t.press("1.")
    yield lambda: app.sm.current == "guide"
    yield from t.press("开始办理")
    yield flow_step(app, "form")
    yield from t.press("初中")  # one answer given: the form is half-filled


def scenario_card_swap_and_removal(app):
    from tests.ui_helpers import report

    t = Touches()
    steps = {}
    yield from _to_item1_form(app, t)
    flow = app.sm.get_screen("flow")
    first = app.sessions.current.person
    answers = dict(flow.flow.answers)
    steps["form"] = {"screen": app.sm.current, "who": app.who_text, "answers": answers}
    # Another resident's social-security card goes into the slot mid-form.
    _press(F7)
    yield lambda: app._switch_popup is not None
    yield 0.3
    steps["asked"] = {"popup": _popup_texts(), "screen": app.sm.current, "voice": app.voice.last_key,
                      "who": app.who_text}
    yield from t.press("继续当前办理")
    yield lambda: app._switch_popup is None
    steps["kept"] = {"screen": app.sm.current, "who": app.who_text, "same_person":
                     app.sessions.current.person.id_number == first.id_number,
                     "answers": dict(flow.flow.answers) if flow.flow else None, "popup": _popup_texts()}
    # The other resident takes their card back: the current visit is not touched.
    _press(F8)
    yield 2.0
    steps["other_card_out"] = {"screen": app.sm.current, "logged_in": app.logged_in}
    # This time they choose to end the visit and start the new person's.
    _press(F7)
    yield lambda: app._switch_popup is not None
    yield from t.press("结束，换新的人")
    yield lambda: app.sm.current == "menu" and app.logged_in
    yield 0.3
    second = app.sessions.current.person
    steps["switched"] = {"screen": app.sm.current, "who": app.who_text, "source": second.source,
                         "other": second.id_number != first.id_number, "flow_left": flow.flow is not None}
    # The social-security card comes out: the visit ends, with a word.
    _press(F8)
    yield lambda: app.sm.current == "attract"
    yield 0.3
    steps["removed"] = dict(_attract(app), voice=app.voice.last_key, logged_in=app.logged_in)
    report("swap", {"steps": steps, "touches": t.n, "first_id": first.id_number})


def scenario_idle_timeout_mid_form(app):
    from tests.ui_helpers import report, texts

    t = Touches()
    yield from _to_item1_form(app, t)
    person = app.sessions.current.person
    yield lambda: app._idle_popup is not None
    countdown = app._idle_popup.ids.text.text
    yield lambda: app.sm.current == "attract"
    yield 0.3
    leaked = [s for scr in app.sm.screens for s in texts(scr) if person.id_number in s or person.name in s]
    ended = dict(_attract(app), voice=app.voice.last_key, leaked=leaked,
                 holds=app.sessions.current.holds_personal_data(), flow=app.sm.get_screen("flow").flow is not None)
    _press(F6)  # the resident takes the ID card
    # The notice is for the person who left; the next visitor finds a clean screen.
    yield lambda: app.sm.get_screen("attract").message == ""
    report("idle", {"countdown": countdown, "ended": ended, "later": _attract(app), "touches": t.n})


def scenario_clean_attract(app):
    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.camera is not None
    yield 0.5
    _press(F10)  # a forged e-SSC code is refused: a red line for that person
    yield lambda: app.sm.get_screen("attract").message != ""
    refused = _attract(app)
    yield lambda: app.sm.get_screen("attract").message == ""  # they walk away; it goes
    gone = _attract(app)
    _press(F10)
    yield lambda: app.sm.get_screen("attract").message != ""
    # The next visitor lays an ID card straight away: the old error is not there at the end of their visit.
    _press(F2)
    yield lambda: app.sm.current == "menu"
    app.devices.sim_hide_qr()  # the person with the forged code has walked away
    yield from Touches().press("退出")
    yield lambda: app.sm.current == "attract"
    yield 0.2
    after_logout = dict(_attract(app), voice=app.voice.last_key)
    report("clean", {"refused": refused, "gone": gone, "after_logout": after_logout})


def _read(tmp_path, name):
    return json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))


def test_another_card_asks_before_ending_the_visit_and_removal_says_so(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys_session:scenario_card_swap_and_removal", timeout=240)
    got = _read(tmp_path, "swap")
    s = got["steps"]
    assert s["form"]["screen"] == "flow" and s["form"]["answers"]
    # Asked, not switched: the form and the person are still there under the popup.
    assert s["asked"]["screen"] == "flow" and s["asked"]["who"] == s["form"]["who"]
    assert "检测到另一位居民的证件" in s["asked"]["popup"]
    assert "继续当前办理" in s["asked"]["popup"] and "结束，换新的人" in s["asked"]["popup"]
    assert s["asked"]["voice"] == "other_card"
    assert s["kept"] == {"screen": "flow", "who": s["form"]["who"], "same_person": True,
                         "answers": s["form"]["answers"], "popup": []}
    assert s["other_card_out"] == {"screen": "flow", "logged_in": True}
    assert s["switched"]["screen"] == "menu" and s["switched"]["other"] and s["switched"]["source"] == "sscard"
    assert s["switched"]["who"] != s["form"]["who"] and not s["switched"]["flow_left"]
    # Removal ends the visit with a spoken and written word, and the ID card of the first
    # resident, still on the reader, is asked for.
    removed = s["removed"]
    assert removed["screen"] == "attract" and not removed["logged_in"]
    assert "社保卡已取出" in removed["message"] and "请取走感应区上的身份证" in removed["message"]
    assert removed["error"] is False and removed["voice"] == "take_id_card"
    assert got["touches"] == 6


def test_idle_timeout_mid_form_says_so_and_reminds_of_the_id_card(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys_session:scenario_idle_timeout_mid_form",
              "[ui]\nidle_timeout = 8\nidle_warning = 3\nnotice_seconds = 3\n", timeout=240)
    got = _read(tmp_path, "idle")
    assert "秒后将自动退出" in got["countdown"]
    e = got["ended"]
    assert e["screen"] == "attract" and not e["holds"] and not e["flow"] and e["leaked"] == []
    assert "长时间没有操作，已自动退出" in e["message"] and "请取走感应区上的身份证" in e["message"]
    assert e["voice"] == "take_id_card"
    assert got["later"] == {"screen": "attract", "message": "", "error": False}
    assert got["touches"] == 4


def test_every_visit_starts_from_a_clean_attract_screen(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys_session:scenario_clean_attract", "[ui]\nnotice_seconds = 3\n", timeout=240)
    got = _read(tmp_path, "clean")
    assert got["refused"]["message"] and got["refused"]["error"] is True
    assert got["gone"]["message"] == ""
    after = got["after_logout"]
    assert after["message"].startswith("已安全退出") and after["error"] is False
    assert after["voice"] in ("logged_out", "take_id_card")


def scenario_elder_offer(app):
    from tests.ui_helpers import report, texts

    t = Touches()
    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)
    _press(F2)  # a resident aged 60+
    yield lambda: app.sm.current == "menu"
    yield 0.3
    menu = app.sm.get_screen("menu")
    offered = {"texts": texts(menu), "voice": app.voice.last_key, "elder": app.theme.elder}
    yield from t.press("换成长辈模式")
    yield 0.3
    switched = {"elder": app.theme.elder, "offer_shown": menu.ids.elder_offer.opacity > 0, "texts": texts(menu)}
    yield from t.press("标准模式")  # the toggle stays reachable after login
    back = {"elder": app.theme.elder}
    yield from t.press("退出")
    yield lambda: app.sm.current == "attract"
    _press(F6)  # the first resident takes the ID card
    yield lambda: not app.devices.idcard_present()
    _press(F3)  # aged 49
    yield lambda: app.sm.current == "menu"
    yield 0.3
    younger = {"offer_shown": menu.ids.elder_offer.opacity > 0, "toggle": "长辈模式（大字）" in texts(menu)}
    report("elder", {"offered": offered, "switched": switched, "back": back, "younger": younger, "touches": t.n})


def test_resident_aged_60_is_offered_elder_mode_and_the_toggle_stays_after_login(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_journeys_session:scenario_elder_offer", timeout=240)
    got = _read(tmp_path, "elder")
    assert "您已年满60岁，可以换成字更大、时间更长的长辈模式。" in got["offered"]["texts"]
    assert got["offered"]["voice"] == "elder_offer" and got["offered"]["elder"] is False
    assert got["switched"]["elder"] is True and got["switched"]["offer_shown"] is False
    assert "标准模式" in got["switched"]["texts"]
    assert got["back"] == {"elder": False}
    assert got["younger"] == {"offer_shown": False, "toggle": True}
    assert got["touches"] == 3


# ---------------------------------------------------------------- technician by touches

def _open_tech_login(app):
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0) and app.devices.camera is not None
    yield 0.5
    for _ in range(5):  # the hidden gesture: 5 taps in the top-left corner
        t = UnitTestTouch(40, Window.height - 40)
        t.touch_down()
        t.touch_up()
    yield lambda: app.sm.current == "tech_login"


def _box(w):
    x, y = w.to_window(*w.pos)
    return [x, y, x + w.width, y + w.height]


def _fleet_events(app):
    """Scenario step: a subscriber to this kiosk's fleet events on the broker the kiosk started."""
    import time
    from urllib.parse import urlsplit

    from tests.fleet_support import Listener

    port = urlsplit(app.cfg["fleet"]["broker"]).port
    deadline = time.monotonic() + 30
    while True:  # the kiosk starts its broker on its fleet thread, a moment after the attract screen
        try:
            return Listener(port, "kiosk/v1/+/+/event")
        except (OSError, AssertionError):
            if time.monotonic() > deadline:
                raise
            yield 0.5


def _drain(listener, into: list) -> None:
    """Move what the listener received into ``into`` (never blocks the UI thread)."""
    import queue

    while True:
        try:
            into.append(listener.messages.get_nowait())
        except queue.Empty:
            return


def scenario_technician_by_touches(app):
    from kivy.core.window import Window

    from tests.test_ui_technician import PIN
    from tests.ui_helpers import find_button, report, tap

    t = Touches()
    events = yield from _fleet_events(app)
    yield from _open_tech_login(app)
    app.devices.sims.printer_sim.set_state("paper_out")  # the fault the technician will find and report
    yield 0.5
    login = app.sm.current_screen
    camera_open = bool(app.devices.camera.is_open)
    tap(login.ids.account)  # no physical keyboard: touching the field opens the on-screen one
    t.n += 1
    yield 0.3
    for key in "T0012":
        yield from t.press(key)
    yield from t.press("确定")
    account = login.ids.account.text
    for digit in "135790":  # a wrong PIN
        yield from t.press(digit)
    yield from t.press("登录")
    yield lambda: "不正确" in login.pin_message
    yield 0.3
    wrong = {"text": login.pin_message, "msg": _box(login.ids.pin_message), "keypad": _box(login.ids.keypad),
             "login": _box(login.ids.pin_login), "qr_message": login.message}
    for digit in PIN:
        yield from t.press(digit)
    yield from t.press("登录")
    yield lambda: app.sm.current == "tech_home"
    # The county sees the technician login on the fleet link: the account, nothing personal.
    logins: list = []
    yield lambda: _drain(events, logins) or any(topic.endswith("/event") and doc.get("kind") == "technician_login"
                                                 for topic, doc, _r in logins)
    login_event = next(doc for topic, doc, _r in logins if topic.endswith("/event")
                       and doc.get("kind") == "technician_login")
    events.close()
    yield from t.press("设备自检")
    yield lambda: app.sm.current == "tech_selftest"
    st = app.sm.current_screen
    yield lambda: not st.running and len(st.rows) == 9
    yield from t.press("反映问题")
    yield lambda: app.sm.current == "tech_fault"
    yield 0.3
    form = app.sm.current_screen
    yield from t.press("打印机不出纸或缺纸")
    yield from t.press("请更换故障部件")
    yield 0.3
    choices = list(form.phrase_buttons.values()) + list(form.sugg_buttons.values()) + list(form.cat_buttons.values())
    spill = [b.text for b in choices if b.texture_size[1] > b.height or b.texture_size[0] > b.width]
    submit = find_button(form, "提交问题")
    lowest_choice = min(_box(b)[1] for b in choices)
    order = {"submit_top": _box(submit)[3], "lowest_choice_bottom": lowest_choice}
    shot = Window.screenshot(name=str(__import__("pathlib").Path(__import__("os").environ["KIOSK_TEST_OUT"])
                                      / "fault%(counter)04d.png"))
    yield from t.press("提交问题")
    yield lambda: form.msg.text.startswith("已提交")
    report("tech_touch", {"login_event": login_event, "camera_open": camera_open, "account": account,
                          "wrong": wrong, "spill": spill,
                          "order": order, "done": form.msg.text, "touches": t.n, "shot": shot})


def scenario_technician_qr_on_login_screen(app):
    import httpx

    from kiosk.hardware.qr_render import phone_scene
    from tests.ui_helpers import report

    from kiosk.core import clock
    from kiosk.flows.staff_auth import is_dormant

    yield from _open_tech_login(app)
    yield lambda: app.backend is not None and app.backend.platform is not None
    yield 1.0
    url = app.cfg["platform"]["url"].rstrip("/")
    from kiosk.platform.simulator.launcher import admin_headers

    staff = httpx.get(url + "/admin/staff", timeout=5, headers=admin_headers(url)).json()["staff"]
    tech = next(s for s in staff if "technician" in s["roles"] and not s["locked"]
                and not is_dormant(__import__("datetime").date.fromisoformat(s["last_login"]), clock.today()))
    code = httpx.post(url + "/admin/essc/issue", json={"username": tech["username"]}, timeout=5,
                      headers=admin_headers(url)).json()["qr_text"]
    camera_open = bool(app.devices.camera.is_open)
    app.devices.camera.show(phone_scene(code))  # the technician holds the phone up to the camera
    yield lambda: app.sm.current == "tech_home"
    report("tech_qr", {"camera_open": camera_open, "screen": app.sm.current, "who": app.plugins_tech.who})


def test_technician_logs_in_by_on_screen_keys_then_selftest_and_fault_report(run_kiosk, tmp_path, platform_sim):
    from tests.test_ui_technician import _technician_kiosk

    run_kiosk("tests.test_ui_journeys_session:scenario_technician_by_touches",
              _technician_kiosk(tmp_path, platform_sim), timeout=240)
    got = _read(tmp_path, "tech_touch")
    assert got["account"] == "T0012"
    ev = got["login_event"]
    assert ev["kind"] == "technician_login" and ev["account"] == "T0012" and ev["method"] == "offline_pin"
    assert not any(k in json.dumps(ev, ensure_ascii=False) for k in ("张三", "name", "id_number"))
    w = got["wrong"]
    assert "不正确" in w["text"] and "还可以再试 4 次" in w["text"] and w["qr_message"] == ""
    # The answer sits right under the keypad, beside 登录 (not in the far column).
    assert w["keypad"][1] - 40 <= w["msg"][3] <= w["keypad"][1] + 1
    assert w["msg"][0] >= w["keypad"][0] - 1 and w["msg"][2] <= w["login"][0] + 1
    assert got["spill"] == []
    assert got["order"]["submit_top"] <= got["order"]["lowest_choice_bottom"]  # 提交问题 below the choices
    assert got["done"].startswith("已提交，问题编号 GZ")
    assert got["touches"] == 26


def test_technician_login_screen_reads_the_staff_qr_code(run_kiosk, tmp_path):
    # The kiosk's own platform simulator (live clock), so staff accounts are not dormant.
    run_kiosk("tests.test_ui_journeys_session:scenario_technician_qr_on_login_screen", timeout=240)
    got = _read(tmp_path, "tech_qr")
    assert got["camera_open"] is True and got["screen"] == "tech_home"
