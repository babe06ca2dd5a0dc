"""The real kiosk app on the fleet: it starts its own Mosquitto (as `make run` does), shows up in
`kiosk fleet status`, and answers signed commands from `kiosk fleet cmd` end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from kiosk.fleet import bundles, signing
from tests.conftest import ROOT, free_port, write_config
from tests.fleet_support import HttpsFiles, catalog_bundle

DEV = "SX-DEMO-0001"


def scenario_fleet(app):
    """Keep the kiosk up, reporting what the resident would meet, until the test says stop."""
    from tests.ui_helpers import report

    out = Path(os.environ["KIOSK_TEST_OUT"])
    yield lambda: app.sm.current == "attract"
    deadline = time.monotonic() + 170
    while not (out / "stop").exists() and time.monotonic() < deadline:
        report("app", {"idle_timeout": app.idle.timeout, "screen": app.sm.current})
        yield 0.3


def kiosk_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def start_app(xdisplay, tmp_path, cfg) -> subprocess.Popen:
    (tmp_path / "stop").unlink(missing_ok=True)
    env = {**os.environ, "DISPLAY": xdisplay, "KIVY_HOME": str(tmp_path / "kivy"), "SDL_AUDIODRIVER": "dummy",
           "KIOSK_TEST_OUT": str(tmp_path), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "kiosk.runner", "--script", "tests.test_fleet_app:scenario_fleet",
                             "--config", str(cfg)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_online(url: str, timeout: float = 60) -> dict:
    deadline, rows = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        st = kiosk_cli("fleet", "status", "--broker", url, "--json", "--settle", "0.3")
        rows = json.loads(st.stdout) if st.returncode == 0 else []
        if any(r["device_id"] == DEV and r["online"] and "printer" in r["devices"] for r in rows):
            break
        time.sleep(0.5)
    return next(r for r in rows if r["device_id"] == DEV)


def test_the_kiosk_appears_in_fleet_status_and_answers_commands(xdisplay, tmp_path):
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    key, pub = tmp_path / "op.key", tmp_path / "op.pub"
    assert kiosk_cli("fleet", "keygen", "--out", str(key), "--pub", str(pub)).returncode == 0
    files = HttpsFiles(tmp_path)
    (files.root / "b").mkdir()
    bundle = catalog_bundle(files.root)
    (files.root / "b" / "catalog-2026-12.json").write_bytes(bundle)
    cfg = write_config(tmp_path, f'[fleet]\nbroker = "{url}"\nhealth_interval = 5\noperator_keys = "{pub}"\n'
                                 f'bundle_url = "{files.url}/b"\nca_file = "{files.ca}"\n'
                                 '[devices.sscard]\ndriver = "none"\n')
    app = start_app(xdisplay, tmp_path, cfg)
    try:
        # 1. Nothing set up by hand: the kiosk started Mosquitto and reports itself online.
        row = wait_online(url)
        assert row["online"] is True and row["county"] == "临县" and row["version"]
        assert row["catalog_version"] == "shipped"
        assert row["devices"]["printer"]["status"] == "online" and row["paper"] == "ok"
        table = kiosk_cli("fleet", "status", "--broker", url).stdout
        assert DEV in table and "online" in table

        def cmd(*args: str, wait: str = "60") -> tuple[int, dict]:
            p = kiosk_cli("fleet", "cmd", "--broker", url, "--key", str(key), "--wait", wait, DEV, *args)
            return p.returncode, json.loads(p.stdout)

        # 2. Log lines come back scrubbed.
        rc, ack = cmd("logs", "n=50")
        assert rc == 0 and ack["status"] == "ok" and ack["result"]["lines"]
        assert not any(re.search(r"\d{17}[\dXx]", ln) for ln in ack["result"]["lines"])

        # 3. A setting from the allow-list reaches the running app.
        rc, ack = cmd("set_config", "key=ui.idle_timeout", "value=90")
        assert rc == 0 and ack["result"]["value"] == 90
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            seen = json.loads((tmp_path / "app.json").read_text("utf-8"))
            if seen["idle_timeout"] == 90:
                break
            time.sleep(0.2)
        assert seen["idle_timeout"] == 90

        # 4. Self-test: the kiosk's own checks, the exit code says whether all passed.
        rc, ack = cmd("selftest", wait="120")
        names = [c["name"] for c in ack["result"]["checks"]]
        assert "printer" in names and "platform" in names
        assert (rc == 0) == (ack["status"] == "ok") == ack["result"]["ok"]

        # 5. The fault list is printed on the receipt printer.
        rc, ack = cmd("reprint_faults")
        assert rc == 0 and ack["result"]["printed"] is True
        jobs = sorted((tmp_path / "var").rglob("*.bin"), key=lambda p: p.stat().st_mtime)
        assert jobs and "故障报告清单".encode("gb18030") in jobs[-1].read_bytes()

        # 6. A signed catalog bundle: verified, then the app restarts by itself, nobody being at the kiosk.
        manifest = bundles.make_manifest(signing.load_private(key), "catalog", "2026-12", "catalog-2026-12.json",
                                         bundle)
        rc, ack = cmd("update_catalog", *[f"{k}={json.dumps(v)}" for k, v in manifest.items()])
        assert rc == 0 and ack["result"]["version"] == "2026-12"
        assert app.wait(30) == 75
        app.communicate(timeout=10)

        # 7. systemd starts it again: the new catalog is in use, and a restart command works.
        app = start_app(xdisplay, tmp_path, cfg)
        deadline = time.monotonic() + 60
        while wait_online(url)["catalog_version"] != "2026-12" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert wait_online(url)["catalog_version"] == "2026-12"
        rc, ack = cmd("restart")
        assert rc == 0 and ack["result"]["restarting"] is True
        assert app.wait(30) == 75
    finally:
        files.stop()
        (tmp_path / "stop").write_text("")
        if app.poll() is None:
            app.kill()
        out = app.communicate(timeout=10)[0]
    assert "Traceback" not in out, out[-3000:]
