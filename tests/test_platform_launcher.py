"""The launcher starts the simulator only for the local default URL when nothing answers; the CLI helpers."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest

from kiosk.cli import main
from kiosk.platform.simulator.launcher import answers, ensure_simulator, is_local_default
from tests.platform_support import free_port


def test_only_local_plain_http_urls_are_ours():
    assert is_local_default("http://127.0.0.1:8765")
    assert is_local_default("http://localhost:9000/")
    assert not is_local_default("https://127.0.0.1:8765")
    assert not is_local_default("http://platform.sx.gov.cn:8765")


def test_ensure_starts_once_and_stops(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    assert not answers(url)
    handle = ensure_simulator(url, seed=7)
    try:
        assert handle is not None and handle.url == url and answers(url)
        assert ensure_simulator(url, seed=7) is None  # something already answers: leave it alone
    finally:
        handle.stop()
    assert not handle.running() and not answers(url)
    handle.stop()  # idempotent
    assert ensure_simulator("https://platform.example.gov.cn", 1) is None


def run_cli(*argv: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(list(argv)) == 0
    return buf.getvalue()


def test_residents_sample_json_tells_who_qualifies():
    rows = json.loads(run_cli("platform-sim", "residents", "--sample", "3", "--json", "--today", "2026-06-15"))
    assert len(rows) == 3
    for r in rows:
        assert len(r["id_number"]) == 18 and isinstance(r["age"], int) and isinstance(r["qualifies"], list)
    again = json.loads(run_cli("platform-sim", "residents", "--sample", "3", "--json", "--today", "2026-06-15"))
    assert again == rows  # deterministic for a seed
    old = json.loads(run_cli("platform-sim", "residents", "--sample", "2", "--json", "--qualifies", "34", "--today", "2026-06-15"))
    assert all(r["age"] >= 60 and r["resident_pension"]["years"] >= 15 and 34 in r["qualifies"] for r in old)
    no = json.loads(run_cli("platform-sim", "residents", "--sample", "2", "--json", "--not-qualifies", "34", "--today", "2026-06-15"))
    assert all(34 not in r["qualifies"] for r in no)


def test_issue_qr_prints_a_code():
    text = run_cli("platform-sim", "issue-qr", "--staff", "technician05", "--today", "2026-06-15").strip()
    assert text.startswith("ESSC1.") and text.count(".") == 2


def test_simulator_dies_with_the_process_that_started_it(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    code = ("import sys, time; from kiosk.platform.simulator.launcher import start_simulator\n"
            "h = start_simulator(port=0, seed=1); print(h.pid, h.url, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        pid, url = parent.stdout.readline().split()
        assert answers(url)
        parent.send_signal(signal.SIGKILL)  # the kiosk dies hard
        parent.wait()
        for _ in range(100):
            if not answers(url, timeout=0.2):
                break
            time.sleep(0.05)
        assert not answers(url)
    finally:
        parent.kill()
        parent.wait()


def test_production_modules_run_without_the_sim_extra():
    """FastAPI and uvicorn are the `sim` extra: the kiosk's own modules (and `kiosk --help`)
    must not import them; only starting the simulator does."""
    code = (
        "import sys\n"
        "from kiosk.cli import build_parser; build_parser()\n"
        "import kiosk.backend, kiosk.devices, kiosk.selftest, kiosk.platform.http_client, kiosk.platform.outbox\n"
        "import kiosk.platform.simulator.launcher\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_missing_sim_extra_is_a_named_error_not_a_crash(monkeypatch, tmp_path):
    from kiosk.backend import Backend
    from kiosk.core import config
    from kiosk.core.errors import PlatformError
    from kiosk.platform.simulator import launcher

    monkeypatch.setattr(launcher, "SIM_EXTRA_MODULES", ("fastapi", "kiosk_no_such_module"))
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PlatformError, match=r"needs kiosk_no_such_module: install the 'sim' extra"):
        ensure_simulator(url)
    # The backend's worker logs it and goes on (submissions wait in the outbox).
    cfg = config.load(config.DEFAULT_PATH, env={"KIOSK__PLATFORM__URL": url,
                                                 "KIOSK__STORAGE__DIR": str(tmp_path)})
    backend = Backend(cfg).start()
    try:
        assert backend.ready.wait(10) and backend.simulator is None
    finally:
        backend.close()
