"""The real kiosk app takes a software update: the signed ``update`` command is verified while the
attract screen stays up, ``current`` switches between visits and the app exits for systemd; the next
start's health check (attract screen drawn, devices up, platform reachable) keeps the new version."""

from __future__ import annotations

import json
import time

from kiosk.fleet import update
from tests.conftest import free_port, write_config
from tests.fleet_support import HttpsFiles, archive, release_tree
from tests.test_fleet_app import DEV, kiosk_cli, start_app, wait_online


def test_the_app_switches_between_visits_restarts_and_keeps_a_healthy_release(xdisplay, tmp_path):
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    key, pub = tmp_path / "op.key", tmp_path / "op.pub"
    assert kiosk_cli("fleet", "keygen", "--out", str(key), "--pub", str(pub)).returncode == 0
    base = tmp_path / "opt"
    update.install(base, "1.0", release_tree(tmp_path, "1.0"))
    update.mark_good(base)
    files = HttpsFiles(tmp_path)
    data = archive(release_tree(tmp_path, "2.0"))
    (files.root / "kiosk-2.0.tar.gz").write_bytes(data)
    # A grace time no test waits for: only the real signals (devices, platform) can keep the version.
    cfg = write_config(tmp_path, f'[fleet]\nbroker = "{url}"\nhealth_interval = 5\noperator_keys = "{pub}"\n'
                                 f'ca_file = "{files.ca}"\nreleases_dir = "{base}"\nhealth_grace = 3600\n'
                                 '[devices.sscard]\ndriver = "none"\n')
    app = start_app(xdisplay, tmp_path, cfg)
    try:
        wait_online(url)
        # The technician's two steps: sign the archive's manifest, send it with the command.
        signed = kiosk_cli("fleet", "sign-release", str(files.root / "kiosk-2.0.tar.gz"), "--version", "2.0",
                           "--url", files.url + "/kiosk-2.0.tar.gz", "--key", str(key))
        assert signed.returncode == 0, signed.stderr
        (tmp_path / "manifest.json").write_text(signed.stdout, encoding="utf-8")
        p = kiosk_cli("fleet", "cmd", "--broker", url, "--key", str(key), "--wait", "60", DEV, "update",
                      "--manifest", str(tmp_path / "manifest.json"))
        ack = json.loads(p.stdout)
        assert p.returncode == 0 and ack["result"] == {"version": "2.0", "switch": "between visits"}, p.stdout
        # Nobody at the kiosk: switched, and the app exits for systemd to start the new release.
        assert app.wait(30) == 75
        app.communicate(timeout=10)
        assert update.current_version(base) == "2.0" and update.pending(base) == "2.0"
        app = start_app(xdisplay, tmp_path, cfg)
        deadline = time.monotonic() + 60
        while update.pending(base) is not None and time.monotonic() < deadline:
            time.sleep(0.3)
        assert update.pending(base) is None and update.current_version(base) == "2.0"
    finally:
        files.stop()
        (tmp_path / "stop").write_text("")
        if app.poll() is None:
            app.wait(30)
        out = app.communicate(timeout=10)[0]
    assert "Traceback" not in out, out[-3000:]
    assert "version 2.0 passed its health check (devices and platform up): kept" in out, out[-3000:]
