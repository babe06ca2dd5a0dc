"""Fault reports reach the platform simulator, land in the ledger, carry no personal data."""

from __future__ import annotations

import json
import logging

import pytest

from kiosk import logbuffer
from kiosk.flows.fault_report import CATEGORIES, FaultLedger, compose_description, scrub_line
from kiosk.selftest import CheckResult
from tests.platform_support import DEVICE, admin, client, free_port, start

ID = "141124195203120013"  # shaped like a citizen ID number
NAME = "张德明"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    journal = tmp_path_factory.mktemp("sim") / "journal.jsonl"
    handle = start(state_path=str(journal))
    handle.journal = journal
    yield handle
    handle.stop()


def stored_tickets(sim) -> dict[str, dict]:
    """The simulator's own record of every fault ticket (its journal)."""
    out = {}
    for line in sim.journal.read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        if e.get("t") == "ticket":
            out[e["fault_no"]] = e
    return out


def results() -> list[CheckResult]:
    return [CheckResult("idcard", True, "ok", "阅读器正常", "SAM ok", 0.1),
            CheckResult("printer", False, "fail", "打印机缺纸", "printer sim 127.0.0.1:9: status 121272 paper out", 0.2)]


def log_lines() -> list[str]:
    buf = logbuffer.LogBuffer(50)
    lg = logging.getLogger("kiosk.test.faults")
    lg.addHandler(buf)
    lg.setLevel(logging.INFO)
    try:
        lg.info("read card %s of %s", ID, NAME)
        lg.info("phone 13812345678 name=李秀英")
        lg.warning("printer status: 缺纸")
    finally:
        lg.removeHandler(buf)
    return buf.lines()


def test_log_buffer_scrubs_and_is_bounded():
    buf = logbuffer.LogBuffer(3)
    lg = logging.getLogger("kiosk.test.ring")
    lg.addHandler(buf)
    lg.setLevel(logging.INFO)
    try:
        for i in range(5):
            lg.info("line %d id %s", i, ID)
    finally:
        lg.removeHandler(buf)
    lines = buf.lines()
    assert len(lines) == 3 and lines[-1].endswith("line 4 id 141***********0013")
    assert all(ID not in ln for ln in lines)
    assert buf.lines(1) == lines[-1:]


def test_scrub_line_masks_ids_names_phones():
    out = scrub_line(f"card of {NAME} {ID} phone 13812345678 name=李秀英; status 缺纸", names=[NAME])
    assert ID not in out and NAME not in out and "13812345678" not in out and "李秀英" not in out
    assert "张**" in out and "138****5678" in out and "缺纸" in out


@pytest.mark.parametrize("category,routed", [("system", "省工作专班"), ("function", "省工作专班"), ("guidance", "县人社部门")])
def test_report_reaches_platform_and_ledger(tmp_path, sim, category, routed):
    platform = client(sim.url)
    ledger = FaultLedger(tmp_path / "faults.json", platform, device_id=DEVICE, site="示范村便民服务站（临县）", fsync=False)
    try:
        rec = ledger.report(category, ["打印机不出纸或缺纸"], f"{NAME}办理时卡纸", "请更换故障部件",
                            reporter="technician05 王**", selftest=results(), log_lines=log_lines(), names=[NAME])
        assert rec.state == "sent" and rec.fault_no.startswith("GZ")
        assert rec.routed_to_zh == routed == CATEGORIES[category].routed_to_zh
        assert rec.reply_due and rec.reply_due_zh.endswith("前反馈")
        ticket = stored_tickets(sim)[rec.fault_no]
        assert ticket["category"] == category and ticket["device_id"] == DEVICE
        desc = ticket["description"]
        for part in ("【问题描述】打印机不出纸或缺纸", "【解决建议】请更换故障部件", DEVICE, "示范村便民服务站",
                     "打印机：故障", "paper out", "【近期日志】", "printer status: 缺纸"):
            assert part in desc, part
        assert ID not in desc and NAME not in desc and "13812345678" not in desc and "李秀英" not in desc
        assert "141***********0013" in desc
        # the ledger (re-opened from disk) holds the same
        ledger.close()
        ledger = FaultLedger(tmp_path / "faults.json", platform, device_id=DEVICE, site="x", fsync=False)
        (again,) = ledger.records()
        assert again.fault_no == rec.fault_no and again.state == "sent" and again.description == desc
        # replies and deadlines from the platform
        admin(sim.url, "POST", f"/admin/faults/{rec.fault_no}/reply", json={"text_zh": "已远程处理，请重新自检。"})
        assert ledger.refresh_replies() == 2  # the acknowledgement and the answer
        (done,) = ledger.records()
        assert done.state == "replied" and done.replies[-1].text_zh == "已远程处理，请重新自检。"
        assert done.replies[-1].by_zh == routed
        assert ledger.refresh_replies() == 0
    finally:
        ledger.close()
        platform.close()


def test_platform_down_keeps_report_pending_then_sends_once(tmp_path):
    port = free_port()
    down = client(f"http://127.0.0.1:{port}", max_attempts=1)
    ledger = FaultLedger(tmp_path / "faults.json", down, device_id=DEVICE, site="s", fsync=False)
    rec = ledger.report("system", ["连不上服务平台"], selftest=results())
    assert rec.state == "pending" and rec.last_error and rec.attempts == 1
    handle = start(port=port)
    try:
        up = client(handle.url)
        ledger.platform = up
        assert ledger.send_pending() == 1
        (sent,) = ledger.records()
        assert sent.state == "sent" and sent.idempotency_key == rec.idempotency_key
        # A resend with the same key is recorded once by the platform.
        again = up.report_fault(sent.category, sent.description, sent.idempotency_key)
        assert again.fault_no == sent.fault_no
        assert admin(handle.url, "GET", "/admin/stats")["tickets"] == 1
        up.close()
    finally:
        handle.stop()
        ledger.close()
        down.close()


def test_description_fits_the_contract_limit():
    lines = [f"2026 line {i} " + "x" * 200 for i in range(100)]
    desc = compose_description("system", ["屏幕卡住或没有反应"], "", "", device_id=DEVICE, site="s",
                               selftest=[r.to_dict() for r in results()], log_lines=lines)
    assert len(desc) <= 2000 and "line 99" in desc and "line 0 " not in desc


def test_empty_report_is_refused(tmp_path):
    from kiosk.flows.fault_report import FaultReportError

    ledger = FaultLedger(tmp_path / "f.json", None, device_id=DEVICE, site="s", fsync=False)
    try:
        with pytest.raises(FaultReportError):
            ledger.create("system", [], "  ")
        with pytest.raises(FaultReportError):
            ledger.create("hardware", ["x"])
    finally:
        ledger.close()


def test_scrub_line_keeps_everyday_words():
    for word in ("成功", "全部正常", "连接失败", "时间", "打印机缺纸"):
        assert scrub_line(f"status {word}") == f"status {word}"
    assert scrub_line("holder 马建国 read") == "holder 马** read"
