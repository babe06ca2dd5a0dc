"""Software updates end to end: the signed ``update`` command against a real Mosquitto and a real
HTTPS server, the unit's own ExecStartPre (boot/rollback), and the health check that keeps a version.

The release archives hold this repository's real ``kiosk`` package, so the ExecStartPre line
taken from systemd/kiosk.service runs the code of the release it is started in.
"""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from kiosk.fleet import release, signing, topics, update
from kiosk.fleet.agent import FleetAgent
from kiosk.fleet.link import parse_url
from kiosk.fleet.operator import build_command, send
from kiosk.fleet.probation import Probation, Signals, devices_up, healthy
from tests.test_fleet import broker, wait_online  # noqa: F401 - broker is a fixture
from tests.fleet_support import HttpsFiles, Listener, archive, kiosk_cfg, make_keys, release_tree

ROOT = Path(__file__).resolve().parent.parent
COUNTY, DEV = "临县", "SX-T-0001"


def exec_start_pre(base: Path) -> str:
    """systemd/kiosk.service's ExecStartPre, with /opt/kiosk -> ``base`` and the venv's python -> ours."""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(ROOT / "systemd" / "kiosk.service")
    line = unit["Service"]["ExecStartPre"]
    line = line.replace("/opt/kiosk/venv/bin/python", sys.executable).replace("/opt/kiosk", str(base))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only the release's own code
    out = subprocess.run(shlex.split(line), cwd=base / "current", env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().rsplit(": ", 1)[-1]


@pytest.fixture
def kiosk(tmp_path, broker):
    """Release 1.0 running (kept), a real HTTPS file server and a started fleet agent."""
    key, pub = make_keys(tmp_path)
    base = tmp_path / "opt"
    update.install(base, "1.0", release_tree(tmp_path, "1.0"))
    update.mark_good(base)
    server = HttpsFiles(tmp_path)
    agents: list[FleetAgent] = []

    def start_agent() -> FleetAgent:
        cfg = kiosk_cfg(tmp_path, broker.port, pub, releases_dir=str(base), ca_file=str(server.ca))
        agents.append(FleetAgent(cfg).start())
        wait_online(broker.port)
        return agents[-1]
    yield {"key": key, "base": base, "www": server.root, "url": server.url, "start": start_agent}
    for a in agents:
        a.close()
    server.stop()


def command(broker, key, manifest) -> tuple[dict, list[dict]]:
    """Send ``update``; the final ack and every ack seen on the way (progress included)."""
    doc = build_command(key, DEV, "update", manifest)
    lis = Listener(broker.port, topics.ack(COUNTY, DEV, doc["id"]))
    try:
        final = send(parse_url(broker.url), COUNTY, doc, wait=30)
        time.sleep(0.3)
        seen = []
        while not lis.messages.empty():
            seen.append(lis.messages.get()[1])
    finally:
        lis.close()
    assert final is not None, "no final ack"
    return final, seen


def wait_event(lis: Listener, stage: str) -> dict:
    return lis.wait_for(lambda t, d, r: isinstance(d, dict) and d.get("kind") == "software_update"
                        and d.get("stage") == stage, timeout=20)[1]


def test_a_good_release_is_switched_and_kept_after_the_restart(broker, kiosk, tmp_path):
    base = kiosk["base"]
    data = archive(release_tree(tmp_path, "2.0"))
    (kiosk["www"] / "kiosk-2.0.tar.gz").write_bytes(data)
    agent = kiosk["start"]()
    events = Listener(broker.port, topics.topic(COUNTY, DEV, topics.EVENT))
    try:
        manifest = release.make_manifest(kiosk["key"], "2.0", kiosk["url"] + "/kiosk-2.0.tar.gz", data)
        ack, seen = command(broker, kiosk["key"], manifest)
        assert ack["status"] == "ok" and ack["result"]["version"] == "2.0", ack
        stages = [a.get("stage") for a in seen if a.get("status") == "progress"]
        assert stages[0] == "downloading" and stages[-2:] == ["verified", "staged"], seen
        wait_event(events, "switched")
        # The switch: current -> 2.0 (on probation), previous -> 1.0, the code unpacked as shipped.
        assert update.current_version(base) == "2.0" and update.pending(base) == "2.0"
        assert (base / "previous").resolve().name == "1.0"
        assert (base / "current" / "VERSION.txt").read_text() == "2.0\n"
        assert (base / "current" / "kiosk" / "fleet" / "update.py").read_bytes() == \
            (ROOT / "kiosk" / "fleet" / "update.py").read_bytes()
        assert not [p for p in (base / "releases").iterdir() if p.name.startswith(".")]  # no leftovers
        # systemd restarts the kiosk: ExecStartPre counts a probation start ...
        agent.close()
        assert exec_start_pre(base) == "probation"
        # ... and the app's health check, once the attract screen is drawn and everything is up, keeps it.
        agent = kiosk["start"]()
        probation = Probation(base, 300, agent.event)
        assert not probation.check(Signals(attract_drawn=False, devices_up=True, platform_reachable=True, up_for=0))
        assert probation.check(Signals(attract_drawn=True, devices_up=True, platform_reachable=True, up_for=2))
        kept = wait_event(events, "kept")
        assert kept["ok"] is True and kept["version"] == "2.0"
    finally:
        events.close()
    assert update.pending(base) is None
    assert exec_start_pre(base) == "ok" and update.current_version(base) == "2.0"


def test_a_release_that_never_passes_its_health_check_is_rolled_back(broker, kiosk, tmp_path):
    base = kiosk["base"]
    data = archive(release_tree(tmp_path, "2.1"))
    (kiosk["www"] / "kiosk-2.1.tar.gz").write_bytes(data)
    agent = kiosk["start"]()
    manifest = release.make_manifest(kiosk["key"], "2.1", kiosk["url"] + "/kiosk-2.1.tar.gz", data)
    assert command(broker, kiosk["key"], manifest)[0]["status"] == "ok"
    deadline = time.monotonic() + 10
    while update.current_version(base) != "2.1" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert update.current_version(base) == "2.1"
    agent.close()
    # Each start the new version dies before its attract screen is drawn (no mark).
    for _ in range(update.MAX_BOOTS):
        assert exec_start_pre(base) == "probation"
        assert not Probation(base, 300, lambda *a, **k: None).check(
            Signals(attract_drawn=False, devices_up=False, platform_reachable=False, up_for=0))
    assert exec_start_pre(base) == "rolled_back"
    assert update.current_version(base) == "1.0"
    # The old version starts and tells the fleet what happened, once.
    events = Listener(broker.port, topics.topic(COUNTY, DEV, topics.EVENT))
    try:
        agent = kiosk["start"]()
        Probation(base, 300, agent.event).report_boot()
        ev = wait_event(events, "rolled_back")
        assert ev["ok"] is False and ev["version"] == "2.1" and ev["running"] == "1.0"
        assert ev["reason"] == "health_check_failed"
    finally:
        events.close()
    assert update.state(base) == {}
    assert exec_start_pre(base) == "ok" and update.current_version(base) == "1.0"


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize("case,reason", [
    ("unknown_key", "release_unknown_key"), ("tampered", "release_bad_signature"),
    ("bad_hash", "hash_mismatch"), ("traversal", "unsafe_archive"), ("absolute", "unsafe_archive"),
    ("symlink_out", "unsafe_archive"), ("device", "unsafe_archive"), ("not_https", "not_https"),
    ("not_a_release", "not_a_release"),
])
def test_a_bad_release_is_refused_with_the_reason_and_nothing_switches(broker, kiosk, tmp_path, case, reason):
    base, key = kiosk["base"], kiosk["key"]
    tree = release_tree(tmp_path, "3.0")
    extra = {"traversal": [(_member("../escaped.py"), b"x = 1\n")],
             "absolute": [(_member(str(tmp_path / "abs.py")), b"x = 1\n")],
             "symlink_out": [(_member("kiosk/passwd", tarfile.SYMTYPE, "../../../../etc/passwd"), b"")],
             "device": [(_member("kiosk/null", tarfile.CHRTYPE), b"")]}.get(case, [])
    if case == "not_a_release":
        (tree / "kiosk" / "__main__.py").unlink()
    data = archive(tree, extra)
    (kiosk["www"] / "kiosk-3.0.tar.gz").write_bytes(data)
    url = kiosk["url"] + "/kiosk-3.0.tar.gz"
    if case == "unknown_key":
        manifest = release.make_manifest(signing.generate(), "3.0", url, data)
    elif case == "tampered":
        manifest = {**release.make_manifest(key, "3.0", url, data), "url": kiosk["url"] + "/other.tar.gz"}
    elif case == "bad_hash":
        manifest = release.make_manifest(key, "3.0", url, data + b"\0")
    elif case == "not_https":
        manifest = release.make_manifest(key, "3.0", url.replace("https://", "http://"), data)
    else:
        manifest = release.make_manifest(key, "3.0", url, data)
    kiosk["start"]()
    events = Listener(broker.port, topics.topic(COUNTY, DEV, topics.EVENT))
    try:
        ack, _seen = command(broker, key, manifest)
        assert ack["status"] == "failed" and ack["reason"] == reason, ack
        ev = wait_event(events, "refused")
        assert ev["ok"] is False and ev["reason"] == reason
    finally:
        events.close()
    assert update.current_version(base) == "1.0" and update.pending(base) is None
    assert sorted(p.name for p in (base / "releases").iterdir()) == ["1.0"]  # nothing staged, nothing left
    assert not (base / "escaped.py").exists() and not (base / "releases" / "escaped.py").exists()
    assert not (tmp_path / "abs.py").exists()


def test_health_check_keeps_a_version_when_healthy_or_after_the_grace_time_with_the_attract_screen_up():
    up = Signals(attract_drawn=True, devices_up=True, platform_reachable=True, up_for=1)
    assert healthy(up, 300)
    # Platform down on update day: not the new version's fault; kept once the attract screen held 300 s.
    offline = Signals(attract_drawn=True, devices_up=True, platform_reachable=False, up_for=299)
    assert not healthy(offline, 300)
    assert healthy(Signals(True, True, False, 300), 300)
    # Never drawn: never kept, however long the process lives.
    assert not healthy(Signals(False, True, True, 10_000), 300)


def test_devices_up_needs_every_device_started_and_none_offline():
    from kiosk.devices import DeviceState

    states = {n: DeviceState(n, "sim", "online") for n in ("idcard", "printer", "camera", "sscard")}
    assert devices_up(states)
    assert devices_up({**states, "printer": DeviceState("printer", "none", "disabled")})
    assert not devices_up({**states, "camera": DeviceState("camera", "opencv", "offline", "no /dev/video0")})
    assert not devices_up({k: v for k, v in states.items() if k != "sscard"})  # still starting
