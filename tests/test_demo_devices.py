"""The device demo launcher (kiosk.demo_devices): the hub is handed the simulators, never imports them.

Printer only (a real TCP simulator); the other devices are off so nothing needs pcscd.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.core.config import load
from kiosk.demo_devices import DemoDevices, demo_hub, print_dir
from kiosk.devices import DeviceHub
from kiosk.hardware.escpos_render import decode, decoded_lines
from kiosk.selftest import run_selftest


def _cfg(tmp_path: Path, sim_out: str = "printer-jobs"):
    f = tmp_path / "kiosk.toml"
    f.write_text(f'[devices.idcard]\ndriver = "none"\n[devices.sscard]\ndriver = "none"\n'
                 f'[devices.camera]\ndriver = "none"\n[devices.printer]\ndriver = "sim"\nsim_out = "{sim_out}"\n'
                 f'[storage]\ndir = "{tmp_path / "var"}"\n', encoding="utf-8")
    return load(f, env={})


def test_print_jobs_are_saved_in_one_place(tmp_path):
    cfg = _cfg(tmp_path)
    assert print_dir(cfg.settings) == tmp_path / "var" / "printer-jobs"  # relative: under the storage dir
    assert print_dir(_cfg(tmp_path, str(tmp_path / "elsewhere")).settings) == tmp_path / "elsewhere"


def test_hub_prints_on_the_simulator_and_shows_the_newest_jobs(tmp_path):
    cfg = _cfg(tmp_path)
    hub = demo_hub(cfg)
    try:
        hub.start()
        assert hub.wait_started(30) and hub.status()["printer"].status == "online"
        got = run_selftest(cfg, hub, only=["printer"], test_page=True)
        assert got[0].ok, got[0].detail_en
        assert hub.sims is not None and hub.sims.printer_sim.wait_for_jobs(1)
        jobs = hub.recent_print_jobs()
        # this session's job (printer memory), then the file the simulator saved in print_dir
        assert [name for name, _ in jobs] == ["selftest", "job-0001.bin"]
        assert (tmp_path / "var" / "printer-jobs" / "job-0001.bin").read_bytes() == jobs[1][1]
        assert "自检测试页" in "\n".join(decoded_lines(decode(jobs[1][1])))
    finally:
        hub.close()


def test_a_sim_device_without_simulators_is_offline_not_a_crash(tmp_path):
    hub = DeviceHub(_cfg(tmp_path))  # no simulators handed in
    try:
        hub.start()
        assert hub.wait_started(30)
        state = hub.status()["printer"]
        assert state.status == "offline" and "kiosk.demo_devices" in state.detail
        assert hub.recent_print_jobs() == []
    finally:
        hub.close()


def test_stand_alone_selftest_is_served_by_the_simulators_it_is_handed(tmp_path):
    cfg = _cfg(tmp_path)
    with DemoDevices(cfg) as sims:
        got = run_selftest(cfg, sims=sims, only=["printer"], test_page=True)[0]
        assert got.ok and "已打印测试页" in got.detail_zh
        assert sims.printer_sim is not None and sims.printer_sim.wait_for_jobs(1)
        assert "自检测试页" in "\n".join(decoded_lines(decode(sims.printer_sim.jobs[-1])))
    bare = run_selftest(cfg, only=["printer"])[0]  # none handed in: a failed check saying so, no simulator
    assert not bare.ok and bare.detail_zh.startswith("模拟设备未启动")
