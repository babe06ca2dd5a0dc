"""Technician mode in the real kiosk window (Xvfb): hidden gesture, offline PIN login,
self-test with a simulated paper-out printer, a fault report, and leaving wipes the session."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import pytest

from kiosk.flows import staff_auth as sa
from kiosk.core.idnumber import make_id
from tests.platform_support import DEVICE, SECRET, start

PIN = "482915"
STAFF_NAME = "王建国"


def _tap_at(x: float, y: float) -> None:
    from kivy.tests.common import UnitTestTouch

    t = UnitTestTouch(x, y)
    t.touch_down()
    t.touch_up()


def scenario_technician(app):
    from kivy.core.window import Window

    from tests.ui_helpers import find_button, report, reveal, tap, texts

    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)  # (the devices start after the first frame)
    yield 0.3
    app.devices.sims.printer_sim.set_state("paper_out")  # the fault the technician will find
    for _ in range(5):  # the hidden gesture: 5 taps in the top-left corner
        _tap_at(40, Window.height - 40)
    yield lambda: app.sm.current == "tech_login"
    yield 0.3
    login = app.sm.current_screen
    login.ids.account.text = "T0012"
    for digit in "000000":  # a wrong PIN first: refused and audited
        tap(find_button(login, digit))
    tap(find_button(login, "登录"))
    yield lambda: login.pin_message and "不正确" in login.pin_message
    wrong_message = login.pin_message
    for digit in PIN:
        tap(find_button(login, digit))
    pin_dots = login.ids.pin_dots.text
    tap(find_button(login, "登录"))
    yield lambda: app.sm.current == "tech_home"
    yield 0.3
    home = app.sm.current_screen
    home_buttons = texts(home)
    who = home.ids.header.who
    tap(find_button(home, "设备自检"))
    yield lambda: app.sm.current == "tech_selftest"
    st = app.sm.current_screen
    yield lambda: not st.running and len(st.rows) == 9
    yield 0.3
    rows = {name: {"title": card.children[-1].children[-1].text, "status": card.status_label.text,
                   "detail": card.children[0].text, "ok": card.result.ok}
            for name, card in st.rows.items()}
    summary = st.summary.text
    shot = Window.screenshot(name=str(Path(__import__("os").environ["KIOSK_TEST_OUT"]) / "selftest%(counter)04d.png"))
    # report the fault from the self-test screen
    tap(find_button(st, "反映问题"))
    yield lambda: app.sm.current == "tech_fault"
    yield 0.3
    form = app.sm.current_screen
    for text in ("打印机不出纸或缺纸", "请更换故障部件"):
        reveal(find_button(form, text))
        yield 0.2
        tap(find_button(form, text))
    chosen = (list(form.phrases), form.suggestion)
    reveal(find_button(form, "提交问题"))
    yield 0.2
    tap(find_button(form, "提交问题"))
    yield lambda: form.msg.text.startswith("已提交")
    fault_message = form.msg.text
    tap(find_button(form, "问题台账"))
    yield lambda: app.sm.current == "tech_faults"
    faults = app.sm.current_screen
    yield lambda: faults.msg.text.startswith("已更新")
    yield 0.2
    ledger_texts = texts(faults)
    tap(find_button(faults, "退出维护模式"))
    yield lambda: app.sm.current == "attract"
    yield 0.3
    leftover = []
    for name in ("tech_home", "tech_selftest", "tech_faults", "tech_fault"):
        leftover += [t for t in texts(app.sm.get_screen(name)) if "王" in t or "GZ" in t or "缺纸" in t]
    report("tech", {"chosen": chosen, "wrong": wrong_message, "pin_dots": pin_dots, "home": home_buttons, "who": who,
                    "rows": rows, "summary": summary, "shot": shot, "fault_message": fault_message,
                    "ledger": ledger_texts, "session_after": app.plugins_tech.mode.session is not None,
                    "leftover": leftover})


@pytest.fixture
def platform_sim(tmp_path):
    handle = start(state_path=str(tmp_path / "sim-journal.jsonl"))
    yield handle
    handle.stop()


def _offline_technician(tmp_path):
    """A storage dir holding one technician's offline PIN entry."""
    var = tmp_path / "var"
    var.mkdir()
    creds = sa.OfflineCredentials()
    creds.add("T0012", STAFF_NAME, make_id("141124", _dt.date(1980, 5, 6), 31), ["technician"], PIN)
    creds.save(var / "staff_offline.json")
    return var


def _technician_kiosk(tmp_path, platform_sim) -> str:
    """Config for a kiosk a technician can log in to, against the shared simulator."""
    _offline_technician(tmp_path)
    return (f'[site]\ndevice_id = "{DEVICE}"\n'
            f'[platform]\nurl = "{platform_sim.url}"\ndevice_secret = "{SECRET}"\nstart_simulator = false\n'
            f'[devices.printer]\nsim_out = "{tmp_path / "jobs"}"\n'
            '[ui]\nidle_timeout = 300\n')


def test_technician_diagnoses_paper_out_and_reports_it(run_kiosk, tmp_path, platform_sim):
    extra = _technician_kiosk(tmp_path, platform_sim)
    proc = run_kiosk("tests.test_ui_technician:scenario_technician", extra)
    got = json.loads((tmp_path / "tech.json").read_text(encoding="utf-8"))

    assert "不正确" in got["wrong"]
    assert got["pin_dots"] == "密码：" + "●" * len(PIN)
    assert got["who"] == "王**（运维技术员）"
    for text in ("设备自检", "查看日志", "待提交业务", "最近凭条", "版本与配置", "修改设置", "反映问题", "重启程序"):
        assert text in got["home"]
    rows = got["rows"]
    assert set(rows) == {"idcard", "sscard", "camera", "qr", "printer", "platform", "outbox", "disk", "clock"}
    assert rows["printer"]["status"] == "故障" and not rows["printer"]["ok"]
    assert "缺纸" in rows["printer"]["detail"] and "纸卷" in rows["printer"]["detail"]
    for name in ("idcard", "camera", "qr", "platform", "disk", "clock"):
        assert rows[name]["ok"] and rows[name]["status"] == "正常", (name, rows[name])
    assert rows["printer"]["title"] == "打印机"
    assert got["summary"].startswith("自检完成：有故障：打印机")
    assert got["chosen"] == [["打印机不出纸或缺纸"], "请更换故障部件"]
    assert got["fault_message"].startswith("已提交，问题编号 GZ") and "省工作专班" in got["fault_message"]
    assert any("反馈时限" in t for t in got["ledger"])
    assert got["session_after"] is False and got["leftover"] == []
    # the fault reached the platform simulator with the self-test result
    tickets = [json.loads(line) for line in (tmp_path / "sim-journal.jsonl").read_text(encoding="utf-8").splitlines()]
    (ticket,) = [t for t in tickets if t.get("t") == "ticket"]
    assert ticket["device_id"] == DEVICE and "打印机：故障" in ticket["description"]
    assert STAFF_NAME not in ticket["description"] and STAFF_NAME not in ticket["contact"]
    # failed and successful logins are in the audit log, without the name
    audit = [json.loads(line) for line in (tmp_path / "var" / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    logins = [(e["action"], e["outcome"]) for e in audit if e["action"] == "staff.login"]
    assert logins == [("staff.login", "denied"), ("staff.login", "ok")]
    assert [e["action"] for e in audit][-1] == "staff.logout"
    assert STAFF_NAME not in proc.stderr and PIN not in proc.stderr
    from PIL import Image

    assert Image.open(got["shot"]).size == (1280, 800)


def scenario_every_screen(app):
    """Log in as a technician and open every technician screen; print a receipt first so one shows."""
    import os

    from kivy.core.window import Window

    from kiosk.screens.technician import HOME_ITEMS
    from tests.ui_helpers import find_button, report, tap, texts

    out = os.environ["KIOSK_TEST_OUT"]
    yield lambda: app.sm.current == "attract"
    yield lambda: app.devices.wait_started(0)  # (the devices start after the first frame)
    from kiosk.receipts.samples import sample_receipt
    from kiosk.receipts.render import render_receipt

    done = []
    job = render_receipt(sample_receipt("acceptance"), paper_width=80)
    app.devices.print_job(job, "selftest-sample", done.append, label="sample")
    yield lambda: done
    app.open_technician()
    yield lambda: app.sm.current == "tech_login"
    login = app.sm.current_screen
    Window.screenshot(name=os.path.join(out, "tech_login%(counter)04d.png"))
    login.ids.account.text = "T0012"
    for d in PIN:
        login.key(d)
    login.submit_pin("T0012", login.pin)
    yield lambda: app.sm.current == "tech_home"
    yield 0.3
    Window.screenshot(name=os.path.join(out, "tech_home%(counter)04d.png"))
    seen = {}
    for _feature, text, screen in HOME_ITEMS:
        if screen == "tech_selftest":
            continue
        tap(find_button(app.sm.get_screen("tech_home"), text))
        yield lambda s=screen: app.sm.current == s
        yield 0.5
        cur = app.sm.current_screen
        seen[screen] = texts(cur)
        if screen == "tech_receipts":
            seen["receipt_images"] = getattr(cur, "images", 0)
        Window.screenshot(name=os.path.join(out, f"{screen}%(counter)04d.png"))
        tap(find_button(cur, "返回维护首页"))
        yield lambda: app.sm.current == "tech_home"
        yield 0.2
    # settings: change the idle timeout and save
    app.go("tech_settings", _push=False)
    yield 0.3
    st = app.sm.current_screen
    st.step("idle_timeout", +1)
    st.set("paper_width", 58)
    st.save()
    seen["settings_msg"] = st.msg.text
    seen["idle_now"] = app.idle.timeout
    report("screens", seen)


def test_every_technician_screen_opens(run_kiosk, tmp_path, platform_sim):
    extra = _technician_kiosk(tmp_path, platform_sim)
    run_kiosk("tests.test_ui_technician:scenario_every_screen", extra)
    got = json.loads((tmp_path / "screens.json").read_text(encoding="utf-8"))
    assert any("最近" in t and "行" in t for t in got["tech_log"])
    assert any("没有暂存的业务" in t for t in got["tech_outbox"])
    assert got["receipt_images"] >= 1
    info = "\n".join(got["tech_info"])
    assert "******" in info and SECRET not in info and "自助机软件" in info
    assert any("无操作自动退出时间" in t for t in got["tech_settings"])
    assert any("台账" in t or "GZ" in t for t in got["tech_faults"]) or got["tech_faults"]
    assert got["settings_msg"].startswith("已保存") and "打印纸宽度重启程序后生效" in got["settings_msg"]
    assert got["idle_now"] == 310
    # Saved in the state directory (the config directory is read-only under the shipped unit).
    saved = (tmp_path / "var" / "settings.toml").read_text(encoding="utf-8")
    assert "idle_timeout = 310" in saved and "paper_width = 58" in saved
    assert "idle_timeout = 310" not in (tmp_path / "kiosk.toml").read_text(encoding="utf-8")


def scenario_restart(app):
    from tests.ui_helpers import find_button, report, tap

    yield lambda: app.sm.current == "attract"
    app.open_technician()
    yield lambda: app.sm.current == "tech_login"
    login = app.sm.current_screen
    login.submit_pin("T0012", PIN)
    yield lambda: app.sm.current == "tech_home"
    yield 0.3
    home = app.sm.current_screen
    tap(find_button(home, "重启程序"))
    armed = find_button(home, "再按一次确认重启").text
    report("restart", {"armed": armed})
    tap(find_button(home, "再按一次确认重启"))
    yield 30  # the app stops itself; the runner returns


def test_restart_exits_the_app_with_the_restart_code(run_kiosk, tmp_path):
    var = _offline_technician(tmp_path)
    proc = run_kiosk("tests.test_ui_technician:scenario_restart", "[platform]\nstart_simulator = false\n",
                     expect_exit=75)  # EX_TEMPFAIL: systemd's Restart=always brings the kiosk back
    assert json.loads((tmp_path / "restart.json").read_text(encoding="utf-8"))["armed"] == "再按一次确认重启"
    assert "technician restart: app exits with 75" in proc.stderr
    audit = [json.loads(line) for line in (var / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["action"] for e in audit][-2:] == ["app.restart", "staff.logout"]
