"""Issue 12 fault 11 in the running kiosk: a resident who does the same registration again is shown the
earlier one (receipt number, status, 打印回执) and nothing is sent twice. Real window, real ID-card
pty simulator, the kiosk's own platform simulator, the printer simulator."""

from __future__ import annotations

import json

from tests.test_ui_flows import F3, _login, _open_item, fill_item1


def _register_item1(app):
    from tests.ui_helpers import flow_step, press

    yield from _open_item(app, "我要找工作", 1)
    yield from fill_item1(app)
    yield from press("确认提交")
    yield lambda: flow_step(app, "result")() or flow_step(app, "done")()


def scenario_same_registration_twice(app):
    from tests.ui_helpers import flow_step, last_job_lines, platform_submissions, press, printed, report, shot, texts

    yield from _login(app, F3)
    yield from _register_item1(app)
    first = app.sm.get_screen("flow").step
    first_ref, first_outcome = first.reference, first.outcome
    yield from press("完成")
    yield flow_step(app, "done")
    yield from press("回到首页")
    yield lambda: app.sm.current == "menu"
    # The same resident, the same answers again (e.g. after the power came back).
    yield from _register_item1(app)
    screen = app.sm.get_screen("flow")
    step = screen.step
    shown = texts(screen.ids.body)
    shot("fault11-duplicate-standard")
    app.theme.elder = True
    yield 0.5
    screen.render(step)
    yield 0.3
    shot("fault11-duplicate-elder")
    app.theme.elder = False
    yield 0.3
    screen.render(step)
    yield from press("打印回执")
    yield printed(app)
    report("dup", {"first_ref": first_ref, "first_outcome": first_outcome, "outcome": step.outcome,
                   "reference": step.reference, "shown": shown, "lines": last_job_lines(app),
                   "stored": platform_submissions(app), "id": app.sessions.current.person.id_number})


def test_same_registration_twice_shows_the_first_and_sends_once(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_duplicates:scenario_same_registration_twice", timeout=240,
              env={"KIOSK_SNAPSHOT_DIR": str(tmp_path)})
    got = json.loads((tmp_path / "dup.json").read_text(encoding="utf-8"))
    assert got["first_outcome"] == "accepted"
    assert got["outcome"] == "duplicate" and got["reference"] == got["first_ref"]
    assert any("已提交过这项申请" in t and got["first_ref"] in t for t in got["shown"])
    mine = [s for s in got["stored"] if s["item_no"] == 1 and s["id_number"] == got["id"]]
    assert len(mine) == 1
    text = "\n".join(got["lines"])
    assert got["first_ref"] in text and got["id"] not in text
    assert (tmp_path / "fault11-duplicate-standard.png").exists() and (tmp_path / "fault11-duplicate-elder.png").exists()
