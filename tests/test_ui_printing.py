"""Out of paper at the kiosk: the resident is told, sees the receipt on screen,
and gets it printed once paper is loaded; paper near end alerts the technician."""

from __future__ import annotations

import json

from tests.test_ui_flows import F1, _login, _open_item


def scenario_paper_out_then_reprint(app):
    from kivy.core.window import Window
    from kivy.uix.image import Image

    from tests.ui_helpers import flow_step, last_job_lines, press, printed, report, walk

    yield from _login(app, F1)
    yield from _open_item(app, "我要办社保", 26)
    yield from press("开始办理")
    yield flow_step(app, "result")
    app.devices.sims.printer_sim.set_state("paper_out")
    yield from press("打印回执")
    yield printed(app)
    out_msg = app.last_print.message
    jobs_while_out = len(app.devices.sims.printer_sim.jobs)
    yield from press("在屏幕上查看")
    yield 0.3
    preview = [w for w in walk(Window) if isinstance(w, Image) and w.texture is not None]
    preview_size = list(preview[0].texture.size) if preview else None
    preview[0].parent.parent.dismiss(animation=False)  # the resident closes the picture
    yield 0.2
    app.devices.sims.printer_sim.set_state("near_end")  # paper loaded, but the roll is short
    yield from press("重新打印")
    yield printed(app)
    report("paper", {"out_msg": out_msg, "jobs_while_out": jobs_while_out, "preview": preview_size,
                     "after": app.last_print.message, "jobs": len(app.devices.sims.printer_sim.jobs),
                     "lines": last_job_lines(app), "printer_state": app.devices.status()["printer"].status})


def test_paper_out_shows_receipt_on_screen_and_reprints_once_loaded(run_kiosk, tmp_path):
    run_kiosk("tests.test_ui_printing:scenario_paper_out_then_reprint")
    got = json.loads((tmp_path / "paper.json").read_text(encoding="utf-8"))
    assert got["out_msg"].startswith("打印机缺纸") and "屏幕上查看" in got["out_msg"]
    assert got["jobs_while_out"] == 0, "nothing may print while the printer reports no paper"
    assert got["preview"] and got["preview"][0] in (384, 576)
    assert got["after"] == "打印完成，请取走回执"
    assert got["jobs"] == 1
    assert "企业职工基本养老保险待遇发放记录查询" in "\n".join(got["lines"])
    assert got["printer_state"] == "paper_near_end"
