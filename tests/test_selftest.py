"""Self-test against the simulators, one simulated fault at a time.

Each fault is made the way it happens on a machine: the printer simulator
reports paper out over its real TCP status protocol, the ID-card simulator's
pty disappears (unplugged), the camera is a device path that does not exist,
the platform is a URL nothing listens on. The check that should fail fails
with the message a technician needs; the others keep passing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kiosk.core import config
from kiosk.demo_devices import demo_hub
from kiosk.selftest import CHECK_NAMES, QR_TEST_IMAGE, run_selftest
from tests.conftest import ROOT
from tests.platform_support import free_port, start


@pytest.fixture(scope="module")
def platform_sim():
    handle = start()
    yield handle
    handle.stop()


def make_cfg(tmp_path, platform_url: str, **env: str):
    e = {"KIOSK__PLATFORM__URL": platform_url, "KIOSK__PLATFORM__DEVICE_SECRET": "test-secret-123",
         "KIOSK__PLATFORM__START_SIMULATOR": "false", "KIOSK__SITE__DEVICE_ID": "SX-TEST-0001",
         "KIOSK__STORAGE__DIR": str(tmp_path / "var"), "KIOSK__DEVICES__PRINTER__SIM_OUT": str(tmp_path / "jobs"),
         "KIOSK__PLATFORM__CONNECT_TIMEOUT": "1.0", "KIOSK__PLATFORM__READ_TIMEOUT": "3.0", **env}
    return config.load(None, env=e)


@pytest.fixture
def hub(tmp_path, platform_sim):
    cfg = make_cfg(tmp_path, platform_sim.url)
    h = demo_hub(cfg)
    h.start()
    assert h.wait_started(30)
    yield cfg, h
    h.close()


def by_name(results):
    return {r.name: r for r in results}


def test_all_checks_pass_on_healthy_simulators(hub):
    cfg, h = hub
    results = run_selftest(cfg, h)
    assert [r.name for r in results] == list(CHECK_NAMES)
    bad = {r.name: r.detail_en for r in results if not r.ok}
    assert bad == {}
    got = by_name(results)
    assert got["idcard"].facts["sam_id"].startswith("05.01-")
    assert got["camera"].facts["width"] >= 640 and 15 < got["camera"].facts["brightness"] < 240
    assert got["printer"].detail_zh.startswith("打印机正常")
    assert "连接正常" in got["platform"].detail_zh
    assert got["clock"].facts["skew_s"] == pytest.approx(0, abs=5)
    assert QR_TEST_IMAGE.exists() and got["qr"].status == "ok"


def test_printer_out_of_paper(hub):
    cfg, h = hub
    h.sims.printer_sim.set_state("paper_out")
    got = by_name(run_selftest(cfg, h, only=["printer", "idcard"]))
    assert not got["printer"].ok and got["printer"].status == "fail"
    assert "缺纸" in got["printer"].detail_zh and "纸卷" in got["printer"].detail_zh
    assert "paper out" in got["printer"].detail_en
    assert got["idcard"].ok


def test_printer_near_end_is_a_warning_that_passes(hub):
    cfg, h = hub
    h.sims.printer_sim.set_state("near_end")
    got = by_name(run_selftest(cfg, h, only=["printer"]))
    assert got["printer"].ok and got["printer"].status == "warn" and "即将用完" in got["printer"].detail_zh


def test_printer_that_stops_answering_fails_within_its_timeout(hub):
    cfg, h = hub
    h.sims.printer_sim.set_state("silent")
    got = by_name(run_selftest(cfg, h, only=["printer"]))
    assert not got["printer"].ok
    assert "未连接或未开机" in got["printer"].detail_zh


def test_test_page_reaches_the_printer(hub):
    from kiosk.hardware.escpos_render import decode, decoded_lines

    cfg, h = hub
    before = len(h.sims.printer_sim.jobs)
    got = by_name(run_selftest(cfg, h, only=["printer"], test_page=True))
    assert got["printer"].ok and "测试页" in got["printer"].detail_zh
    assert h.sims.printer_sim.wait_for_jobs(before + 1)
    text = "\n".join(decoded_lines(decode(h.sims.printer_sim.jobs[-1])))
    assert "自检测试页" in text and "SX-TEST-0001" in text


def test_id_card_reader_unplugged(hub):
    cfg, h = hub
    h.sims.idcard_sim.unplug()
    got = by_name(run_selftest(cfg, h, only=["idcard", "printer"]))
    assert not got["idcard"].ok and got["idcard"].status == "fail"
    assert "身份证阅读器无响应" in got["idcard"].detail_zh and "插好" in got["idcard"].detail_zh
    assert got["printer"].ok


def test_id_card_read_when_a_card_lies_on_the_reader(hub):
    cfg, h = hub
    rec = h.sims.idcard_sim.insert(0)
    got = by_name(run_selftest(cfg, h, only=["idcard"]))["idcard"]
    assert got.ok and "读卡成功" in got.detail_zh
    assert rec.id_number not in got.detail_zh + got.detail_en  # masked
    assert got.facts["card"].startswith(rec.id_number[:3]) and got.facts["card"].endswith(rec.id_number[-4:])


def test_camera_missing(tmp_path, platform_sim):
    cfg = make_cfg(tmp_path, platform_sim.url, KIOSK__DEVICES__CAMERA__DRIVER="opencv",
                   KIOSK__DEVICES__CAMERA__DEVICE="/dev/kiosk-camera-missing")
    got = by_name(run_selftest(cfg, only=["camera", "qr"]))
    assert not got["camera"].ok and got["camera"].status == "fail"
    assert "摄像头无法打开" in got["camera"].detail_zh and "/dev/kiosk-camera-missing" in got["camera"].detail_zh
    assert "cannot open camera" in got["camera"].detail_en
    assert got["qr"].ok  # decoding the shipped image does not need the camera


def test_platform_down(tmp_path):
    cfg = make_cfg(tmp_path, f"http://127.0.0.1:{free_port()}")
    got = by_name(run_selftest(cfg, only=["platform", "clock", "disk"]))
    assert not got["platform"].ok and "无法连接服务平台" in got["platform"].detail_zh
    assert "unreachable" in got["platform"].detail_en
    assert got["clock"].ok and "无法核对" in got["clock"].detail_zh
    assert got["disk"].ok


def test_hung_check_is_abandoned_at_its_timeout(tmp_path, platform_sim, monkeypatch):
    import threading

    from kiosk import selftest

    release = threading.Event()
    monkeypatch.setitem(selftest.CHECKS, "qr", lambda ctx: release.wait(30))
    try:
        got = by_name(run_selftest(make_cfg(tmp_path, platform_sim.url), only=["qr", "disk"], timeouts={"qr": 0.5}))
    finally:
        release.set()
    assert got["qr"].status == "timeout" and not got["qr"].ok and "没有响应" in got["qr"].detail_zh
    assert got["disk"].ok


def test_outbox_pending_and_failed_records(tmp_path, platform_sim):
    cfg = make_cfg(tmp_path, platform_sim.url)
    (tmp_path / "var").mkdir()
    recs = {"1": {"ref": "L1", "state": "pending", "created_mono": 0, "item_no": 1},
            "2": {"ref": "L2", "state": "failed", "created_mono": 0, "item_no": 23}}
    (tmp_path / "var" / "outbox.json").write_text(json.dumps({"outbox": recs}), encoding="utf-8")
    got = by_name(run_selftest(cfg, only=["outbox"]))["outbox"]
    assert not got.ok and "1 笔业务提交被平台拒收" in got.detail_zh
    assert got.facts["pending"] == 1 and got.facts["failed"] == 1


def _cli(tmp_path, env: dict[str, str]) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e.update(env)
    e["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "kiosk", "selftest", "--json"], cwd=ROOT, env=e,
                          capture_output=True, text=True, timeout=90)


def test_cli_json_exit_codes(tmp_path, platform_sim):
    base = {"KIOSK__PLATFORM__URL": platform_sim.url, "KIOSK__PLATFORM__DEVICE_SECRET": "test-secret-123",
            "KIOSK__SITE__DEVICE_ID": "SX-TEST-0001", "KIOSK__STORAGE__DIR": str(tmp_path / "var"),
            "KIOSK__DEVICES__PRINTER__SIM_OUT": str(tmp_path / "jobs"), "KIOSK__PLATFORM__START_SIMULATOR": "false"}
    good = _cli(tmp_path, base)
    data = json.loads(good.stdout)
    assert good.returncode == 0, good.stdout + good.stderr
    assert data["ok"] is True and [c["name"] for c in data["checks"]] == list(CHECK_NAMES)

    bad = _cli(tmp_path, {**base, "KIOSK__PLATFORM__URL": f"http://127.0.0.1:{free_port()}",
                          "KIOSK__DEVICES__CAMERA__DRIVER": "opencv", "KIOSK__DEVICES__CAMERA__DEVICE": "/dev/nope-video9"})
    data = json.loads(bad.stdout)
    assert bad.returncode == 1
    failed = {c["name"] for c in data["checks"] if not c["ok"]}
    assert failed == {"platform", "camera"}
    cam = next(c for c in data["checks"] if c["name"] == "camera")
    assert cam["title_zh"] == "摄像头" and "摄像头无法打开" in cam["detail_zh"]


def test_selftest_and_fault_modules_import_no_kivy():
    code = ("import sys, kiosk.selftest, kiosk.logbuffer, kiosk.flows.fault_report, kiosk.flows.tech_mode, "
            "kiosk.commands.selftest; bad = [m for m in sys.modules if m.split('.')[0] == 'kivy']; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
