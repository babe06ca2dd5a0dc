"""Shared fixtures: a virtual display, per-test kiosk configs, app runs in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The original seed documents live outside the repository (shared/seeds beside the
# clone, or $KIOSK_SEEDS_DIR). Only tests that compare the repository's derived data
# with them read this, and they skip when it is absent: the suite runs on any clone.
SEEDS = Path(os.environ.get("KIOSK_SEEDS_DIR", ROOT.parent / "shared" / "seeds"))


# Markers for a developer's fast subset (README "Tests and checkers"):
#   .venv/bin/python -m pytest -m "not ui and not slow"      (under a minute)
# `ui`: the test needs a window; set from the fixtures it uses (directly or through
# run_kiosk), so no test can forget it. `slow`: seconds each without a window; kept in
# this one list (measured with --durations=0: modules over ~2.5 s in all, tests over
# ~0.4 s) rather than spread over files that other areas edit. CI runs everything.
UI_FIXTURES = {"xdisplay", "run_kiosk"}
SLOW_MODULES = {
    # real transports, subprocess fleets, fuzzing, kill -9 runs, pcscd restarts
    "test_fault_report.py", "test_flow_cli.py", "test_flows_all_items.py", "test_hostile_input.py",
    "test_idcard_cli.py", "test_idcard_reader.py", "test_platform_client.py", "test_platform_contract.py",
    "test_platform_fuzz.py", "test_platform_kill9.py", "test_platform_launcher.py", "test_platform_outbox.py",
    "test_platform_sim.py", "test_privacy_paths.py", "test_qr_decode_cli.py", "test_sdnotify.py",
    "test_selftest.py", "test_sscard_reader.py", "test_tech_mode.py",
    # added with issues 12-16: brokers, releases, tmpfs and netns faults, fuzzing, the soak
    "test_soak.py", "test_fleet.py", "test_fleet_release.py", "test_fleet_update.py", "test_fault_vpcd.py",
    "test_motion.py", "test_fuzz_parsers.py", "test_hostile_files.py", "test_fault_duplicates.py",
    "test_fault_sim_admin.py", "test_fault_threads.py", "test_fault_retention.py", "test_fault_stores.py",
    "test_fault_settings.py", "test_fault_mode.py", "test_fault_throttle.py", "test_rule_table.py",
    "test_sim_population.py", "test_tech_cli.py",
}
SLOW_TESTS = {
    "test_audit.py::test_two_processes_append_without_breaking_the_chain",
    "test_camera.py::test_missing_source_reports_error_status",
    "test_clock.py::test_demo_residents_exist_on_the_simulators_date_whatever_the_host_zone",
    "test_camera.py::test_opencv_camera_without_a_device_reports_error",
    "test_catalog.py::test_cli_json_prints_forty_items",
    "test_catalog.py::test_cli_search_hook",
    "test_catalog.py::test_cli_table_item_and_errors",
    "test_config.py::test_cli_reports_bad_config_without_traceback",
    "test_disclosure.py::test_search_within_a_catalog",
    "test_idcard_protocol.py::test_fuzz_frames_after_noise_are_all_recovered",
    "test_idcard_protocol.py::test_fuzz_stream_decoder_never_raises",
    "test_markers.py::test_markers_select_the_fast_subset",  # collects in subprocesses
    "test_idcard_protocol.py::test_fuzz_mutated_frames_raise_only_typed_errors",
    "test_photo_quality.py::test_each_gate_fails_with_its_own_message",
    "test_pinyin_ime.py::test_whole_words_come_first_and_consume_all_letters",
    "test_printer.py::test_cli_render",
    "test_printer.py::test_status_over_the_wire",
    "test_qr_decode.py::test_decoders_accept_grey_bgra_and_blue_tinted_frames",
    "test_qr_decode.py::test_decoders_read_a_phone_frame_and_ignore_a_wall",
    "test_qr_decode.py::test_default_decoder_reads_utf8_chinese",
    "test_qr_decode.py::test_worker_decodes_submitted_frames_off_the_calling_thread",
    "test_qr_decode.py::test_worker_reads_a_code_from_the_sim_camera_once",
    "test_sscard_tlv.py::test_fuzz_records_mutated",
    "test_sscard_tlv.py::test_fuzz_tlv_random",
    "test_staff_auth.py::test_login_attempts_are_throttled_and_audited",
    "test_staff_auth.py::test_one_time_code_works_once_and_expires",
    "test_voice.py::test_cli_quiet_prints_nothing",
    "test_voice.py::test_second_run_rewrites_nothing",
    "test_voice.py::test_every_prompt_is_a_non_silent_wav_of_plausible_length",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if UI_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.ui)
        module = item.path.name
        name = getattr(item, "originalname", None) or item.name
        if module in SLOW_MODULES or f"{module}::{name}" in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)



@pytest.fixture(scope="session")
def xdisplay():
    """A real X display: the one we have, or an Xvfb started for the session."""
    from kiosk.display import start_xvfb

    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    vd = start_xvfb(1280, 800, announce=False)
    os.environ["DISPLAY"] = vd.display
    try:
        yield vd.display
    finally:
        vd.stop()
        os.environ.pop("DISPLAY", None)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(tmp_path: Path, extra: str = "") -> Path:
    """A kiosk.toml for one test: windowed, its own storage dir, plus `extra` TOML."""
    if "[ui]" in extra:
        extra = extra.replace("[ui]", "[ui]\nfullscreen = false", 1)
    else:
        extra = "[ui]\nfullscreen = false\n" + extra
    if "[platform]" not in extra:
        # Each kiosk run gets its own platform simulator on a free loopback port.
        extra += f'\n[platform]\nurl = "http://127.0.0.1:{free_port()}"\n'
    if "[fleet]" not in extra:
        # ... and its own fleet broker (Mosquitto, started by the kiosk) on another.
        extra += f'\n[fleet]\nbroker = "mqtt://127.0.0.1:{free_port()}"\n'
    if "[storage]" not in extra:
        extra += f'\n[storage]\ndir = "{tmp_path / "var"}"\n'
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(extra, encoding="utf-8")
    return cfg


@pytest.fixture
def run_kiosk(xdisplay, tmp_path):
    """Run the real app in a fresh process, driven by a script in a test module.

    Usage: ``run_kiosk("tests.test_ui_navigation:scenario", extra_toml)``.
    Returns the CompletedProcess; fails the test with the app's output if the
    script raised.
    """

    def run(script: str, extra: str = "", env: dict | None = None, timeout: float = 120, expect_exit: int = 0):
        cfg = write_config(tmp_path, extra)
        e = dict(os.environ)
        e.update({"DISPLAY": xdisplay, "KIVY_HOME": str(tmp_path / "kivy"), "SDL_AUDIODRIVER": "dummy",
                  "KIOSK_TEST_OUT": str(tmp_path),
                  "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
        e.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "kiosk.runner", "--script", script, "--config", str(cfg)],
                              cwd=ROOT, env=e, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != expect_exit:
            pytest.fail(f"kiosk scenario {script} failed (exit {proc.returncode}, expected {expect_exit}):\n"
                        f"--- stderr ---\n{proc.stderr[-6000:]}\n--- stdout ---\n{proc.stdout[-2000:]}")
        return proc

    return run
