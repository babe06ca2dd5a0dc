"""The fleet web console in a real headless browser (Debian's chromium) against a real Mosquitto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.fleet.broker import start_broker
from kiosk.fleet.console import Console
from kiosk.fleet.link import parse_url
from tests.cdp import Browser
from tests.fleet_support import make_keys

ROOT = Path(__file__).resolve().parent.parent
N = 12


@pytest.fixture
def fleet(tmp_path):
    broker = start_broker(workdir=tmp_path / "mosquitto")
    key, pub = make_keys(tmp_path)
    sim = subprocess.Popen([sys.executable, "-m", "kiosk", "fleet", "simulate", "--broker", broker.url, "--count",
                            str(N), "--prefix", "WEB", "--ramp", "0", "--keys", str(pub), "--health-interval", "2"],
                           cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    assert sim.stdout.readline().startswith(f"READY {N}")
    console = Console(parse_url(broker.url), key, bucket=1).start()  # a point a second: a chart at once
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (len(console.view.rows()) == N
                                               and all(r["devices"] for r in console.view.rows())):
        time.sleep(0.1)
    browser = Browser(tmp_path / "chromium")
    yield console, browser
    browser.close()
    console.stop()
    sim.terminate()
    sim.wait(10)
    broker.cleanup()


def rows_js() -> str:
    return "JSON.stringify([...document.querySelectorAll('#rows tr')].map(tr => [...tr.cells].map(c => c.textContent)))"


def test_the_console_shows_the_fleet_filters_it_and_runs_a_command(fleet, tmp_path):
    console, browser = fleet
    expected = console.view.rows()

    browser.goto(console.url + "/")
    rows = json.loads(browser.wait_for(f"document.querySelectorAll('#rows tr').length === {N} && {rows_js()}"))
    flagged = [r[-1] != "正常" for r in rows]
    assert any(flagged) and flagged == sorted(flagged, reverse=True)  # problems first, as in `fleet status`
    assert "纸将用完" in {r[-1] for r in rows} and "身份证阅读器故障" in {r[-1] for r in rows}
    assert "在线" in {r[2] for r in rows}
    # One column for the data bundles: catalog / disclosure / voice versions, as each kiosk reports them.
    by_id = {r["device_id"]: r for r in expected}
    for r in rows:
        want = [by_id[r[0]][k] for k in ("catalog_version", "disclosure_version", "voice_version")]
        assert r[6] == " / ".join("-" if v is None else str(v) for v in want), r
    assert browser.eval("document.getElementById('summary').textContent").startswith(f"共 {N} 台")

    # Filter: only kiosks with problems.
    browser.eval("document.getElementById('problems').click()")
    rows = json.loads(browser.wait_for(f"document.querySelectorAll('#rows tr').length < {N} && {rows_js()}"))
    assert rows and all(r[-1] != "正常" for r in rows)
    # Filter by county, from the URL (a link a county head can bookmark).
    browser.goto(console.url + "/?county=兴县")
    rows = json.loads(browser.wait_for(f"document.querySelectorAll('#rows tr').length > 0 && {rows_js()}"))
    assert {r[1] for r in rows} == {"兴县"} and len(rows) == sum(r["county"] == "兴县" for r in expected)

    # A kiosk's history chart and a command button.
    dev = "WEB-00001"  # healthy and not flapping in the simulator
    browser.goto(console.url + f"/?device={dev}")
    browser.wait_for("Number(document.getElementById('chart').dataset.points) >= 2", timeout=30)
    assert browser.eval("document.querySelectorAll('#chart polyline').length") == 1
    browser.eval("document.querySelector('button[data-action=selftest]').click()")
    status = browser.wait_for("document.getElementById('result').dataset.status", timeout=60)
    text = browser.eval("document.getElementById('result').textContent")
    assert status == "ok" and text.startswith("结果：成功") and dev in text
    browser.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 1000, "deviceScaleFactor": 1,
                                                         "mobile": False}, browser.session)
    browser.screenshot(tmp_path / "console.png")
    assert (tmp_path / "console.png").stat().st_size > 10_000
