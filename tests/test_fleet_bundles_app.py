"""The real kiosk app takes a disclosure and a voice bundle from the fleet: `kiosk fleet sign-bundle`
and `kiosk fleet cmd ... update_bundle` as processes, a real Mosquitto, a real HTTPS server; the
app restarts by itself with nobody at the kiosk, and the next start shows and speaks the new data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from kiosk.fleet.broker import start_broker
from kiosk.fleet.link import parse_url
from kiosk.fleet.status import collect
from tests.conftest import ROOT, write_config
from tests.fleet_support import HttpsFiles
from tests.test_fleet_bundles import disclosure_bundle, voice_bundle

DEV = "SX-DEMO-0001"


def scenario_bundles(app):
    """Open the first disclosure item as a resident would; report its title and the spoken welcome."""
    from kiosk import voice
    from kiosk.flows.disclosure import load_disclosure
    from tests.ui_helpers import report

    out = Path(os.environ["KIOSK_TEST_OUT"])
    yield lambda: app.sm.current == "attract"
    first = load_disclosure(app.cfg["site"]["county"]).items[0].no
    app.go("disclosure_item", item_no=first)
    yield lambda: app.sm.current == "disclosure_item"
    report("bundles", {"title": app.disclosure_title, "caption": app.voice.text("welcome"),
                       "welcome_wav": str(voice.prompt_path("welcome"))})
    app.go_attract()  # the resident leaves: the kiosk may restart for a bundle now
    deadline = time.monotonic() + 170
    while not (out / "stop").exists() and time.monotonic() < deadline:
        yield 0.3


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


def start_app(xdisplay: str, tmp_path: Path, cfg: Path) -> subprocess.Popen:
    (tmp_path / "stop").unlink(missing_ok=True)
    (tmp_path / "bundles.json").unlink(missing_ok=True)
    env = {**os.environ, "DISPLAY": xdisplay, "KIVY_HOME": str(tmp_path / "kivy"), "SDL_AUDIODRIVER": "dummy",
           "KIOSK_TEST_OUT": str(tmp_path), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "kiosk.runner", "--script",
                             "tests.test_fleet_bundles_app:scenario_bundles", "--config", str(cfg)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_state(url: str, want: dict, timeout: float = 60) -> dict:
    deadline, row = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        rows = {r["device_id"]: r for r in collect(parse_url(url), settle=0.3).rows()}
        row = rows.get(DEV, {})
        if row.get("online") and all(row.get(k) == v for k, v in want.items()):
            return row
        time.sleep(0.5)
    raise AssertionError(f"state never showed {want}: {row}")


def seen(tmp_path: Path, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return json.loads((tmp_path / "bundles.json").read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            time.sleep(0.3)
    raise AssertionError("the app reported nothing")


def test_the_app_takes_disclosure_and_voice_bundles_between_visits(xdisplay, tmp_path):
    broker = start_broker(workdir=tmp_path / "mosquitto")  # the county's broker: it outlives app restarts
    files = HttpsFiles(tmp_path)
    (files.root / "b").mkdir()
    key, pub = tmp_path / "op.key", tmp_path / "op.pub"
    assert cli("fleet", "keygen", "--out", str(key), "--pub", str(pub)).returncode == 0
    cfg = write_config(tmp_path, f'[fleet]\nbroker = "{broker.url}"\nstart_broker = false\nhealth_interval = 5\n'
                                 f'operator_keys = "{pub}"\nbundle_url = "{files.url}/b"\nca_file = "{files.ca}"\n'
                                 '[devices.sscard]\ndriver = "none"\n')

    def send(path: Path, kind: str, version: str) -> dict:
        signed = cli("fleet", "sign-bundle", str(path), "--kind", kind, "--version", version, "--key", str(key))
        assert signed.returncode == 0, signed.stderr
        (tmp_path / "m.json").write_text(signed.stdout, encoding="utf-8")
        p = cli("fleet", "cmd", "--broker", broker.url, "--key", str(key), "--wait", "60", DEV, "update_bundle",
                "--manifest", str(tmp_path / "m.json"))
        assert p.returncode == 0, p.stdout + p.stderr
        return json.loads(p.stdout)

    app = start_app(xdisplay, tmp_path, cfg)
    outputs = []
    try:
        wait_state(broker.url, {"disclosure_version": "shipped", "voice_version": "shipped"})
        before = seen(tmp_path)
        assert "（新版）" not in before["title"]
        ack = send(disclosure_bundle(files, "linxian-d1.json", "（新版）"), "disclosure", "d1")
        assert ack["result"]["kind"] == "disclosure"
        assert app.wait(30) == 75  # nobody at the kiosk: it restarts at once to take the bundle
        outputs.append(app.communicate(timeout=10)[0])

        app = start_app(xdisplay, tmp_path, cfg)
        wait_state(broker.url, {"disclosure_version": "d1"})
        assert seen(tmp_path)["title"].endswith("（新版）")  # what the resident reads on the item screen
        send(voice_bundle(files, "voice-v1.tar.gz", welcome="您好，新版语音"), "voice", "v1")
        assert app.wait(30) == 75
        outputs.append(app.communicate(timeout=10)[0])

        app = start_app(xdisplay, tmp_path, cfg)
        wait_state(broker.url, {"disclosure_version": "d1", "voice_version": "v1"})
        now = seen(tmp_path)
        assert now["caption"] == "您好，新版语音" and now["title"].endswith("（新版）")
        assert Path(now["welcome_wav"]).parent == tmp_path / "var" / "bundles" / "voice-v1"
    finally:
        (tmp_path / "stop").write_text("")
        if app.poll() is None:
            app.terminate()
            try:
                app.wait(20)
            except subprocess.TimeoutExpired:
                app.kill()
        outputs.append(app.communicate(timeout=10)[0])
        files.stop()
        broker.cleanup()
    for out in outputs:
        assert "Traceback" not in out, out[-3000:]
