"""The fleet client against a real Mosquitto on loopback (no Kivy: the agent is UI-free)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.core import config as config_mod
from kiosk.core.errors import ConfigError
from kiosk.fleet import signing, topics
from kiosk.fleet.agent import FleetAgent
from kiosk.fleet.broker import start_broker
from kiosk.fleet.link import Backoff, parse_url
from kiosk.fleet.operator import build_command, send
from kiosk.fleet.status import collect
from tests.fleet_support import HttpsFiles, Listener, catalog_bundle, kiosk_cfg, make_keys

ROOT = Path(__file__).resolve().parent.parent
COUNTY, DEV = "临县", "SX-T-0001"


@pytest.fixture
def broker(tmp_path):
    b = start_broker(workdir=tmp_path / "mosquitto")
    yield b
    b.cleanup()


@pytest.fixture
def keys(tmp_path):
    return make_keys(tmp_path)


@pytest.fixture
def agent_factory(tmp_path, broker, keys):
    made = []

    def make(**kw) -> FleetAgent:
        cfg = kiosk_cfg(tmp_path, broker.port, keys[1], **kw)
        agent = FleetAgent(cfg).start()
        made.append(agent)
        return agent
    yield make
    for a in made:
        a.close()


def wait_online(port: int, device_id: str = DEV, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = {r["device_id"]: r for r in collect(parse_url(f"mqtt://127.0.0.1:{port}"), settle=0.2).rows()}
        if rows.get(device_id, {}).get("online"):
            return rows[device_id]
        time.sleep(0.2)
    raise AssertionError(f"{device_id} not online within {timeout}s")


def link(broker):
    return parse_url(broker.url)


# -- state, health ----------------------------------------------------------------

def test_state_and_health_are_retained_without_personal_data(broker, agent_factory):
    agent_factory()
    row = wait_online(broker.port)
    assert row["county"] == COUNTY and row["version"] and row["config_hash"]
    lis = Listener(broker.port, topics.topic(COUNTY, DEV, "health"))
    try:
        lis.wait_for(lambda t, d, r: isinstance(d, dict) and "uptime_s" in d)
    finally:
        lis.close()
    late = Listener(broker.port, topics.topic(COUNTY, DEV, "health"))  # a technician arriving later
    try:
        _t, health, retained = late.wait_for(lambda t, d, r: True, timeout=2)
    finally:
        late.close()
    assert retained is True
    assert health["clock_ok"] is True and health["disk"]["free_mb"] > 0 and health["fleet_queue"]["depth"] >= 0
    text = json.dumps(health, ensure_ascii=False)
    assert "id_number" not in text and "name" not in text.replace("device_id", "")


# -- commands --------------------------------------------------------------------

def test_selftest_without_app_is_refused_as_unavailable_but_set_config_round_trips(broker, agent_factory, keys, tmp_path):
    agent = agent_factory()
    before = wait_online(broker.port)["config_hash"]
    key = keys[0]
    ack = send(link(broker), COUNTY, build_command(key, DEV, "set_config", {"key": "ui.idle_timeout", "value": 95}),
               wait=15)
    assert ack["status"] == "ok" and ack["result"]["value"] == 95
    assert agent.cfg["ui"]["idle_timeout"] == 95
    saved = json.loads((tmp_path / "var" / "fleet" / "settings.json").read_text("utf-8"))
    assert saved == {"ui.idle_timeout": 95}
    assert wait_online(broker.port)["config_hash"] != before
    # Not on the allow-list: refused with the reason, nothing applied.
    ack = send(link(broker), COUNTY, build_command(key, DEV, "set_config", {"key": "platform.url", "value": "http://x"}),
               wait=15)
    assert ack["status"] == "failed" and ack["reason"] == "not_allowed"
    ack = send(link(broker), COUNTY, build_command(key, DEV, "set_config", {"key": "ui.idle_timeout", "value": 1}),
               wait=15)
    assert ack["status"] == "failed" and "between 5 and 3600" in ack["reason"]
    assert agent.cfg["ui"]["idle_timeout"] == 95
    ack = send(link(broker), COUNTY, build_command(key, DEV, "selftest"), wait=15)
    assert ack == {**ack, "status": "failed", "reason": "unavailable"}


def test_settings_survive_a_restart(broker, agent_factory, keys, tmp_path):
    agent = agent_factory()
    wait_online(broker.port)
    send(link(broker), COUNTY, build_command(keys[0], DEV, "set_config", {"key": "ui.volume", "value": 0.3}), wait=15)
    agent.close()
    cfg = kiosk_cfg(tmp_path, broker.port, keys[1])
    assert cfg["ui"]["volume"] != 0.3
    FleetAgent(cfg)  # applies the kept settings at construction
    assert cfg["ui"]["volume"] == 0.3


@pytest.mark.parametrize("case,reason", [
    ("unsigned", "unsigned"), ("tampered", "bad_signature"), ("expired", "expired"), ("other_key", "unknown_key"),
    ("wrong_device", "wrong_device"), ("too_far", "expiry_too_far"), ("unknown_action", "unknown_action"),
    ("garbage", "malformed"),
])
def test_bad_commands_are_refused_with_the_reason(broker, agent_factory, keys, case, reason):
    agent_factory()
    wait_online(broker.port)
    key = keys[0]
    raw = None
    if case == "unsigned":
        doc = build_command(None, DEV, "set_config", {"key": "ui.volume", "value": 0.1})
    elif case == "tampered":
        doc = build_command(key, DEV, "set_config", {"key": "ui.volume", "value": 0.1})
        doc["args"]["value"] = 0.9
    elif case == "expired":
        doc = build_command(key, DEV, "logs", {"n": 5}, now=time.time() - 3600, ttl=60)
    elif case == "other_key":
        doc = build_command(signing.generate(), DEV, "logs", {"n": 5})
    elif case == "wrong_device":
        doc = build_command(key, "SX-T-0002", "logs", {"n": 5})
        doc["device_id"] = "SX-T-0002"
        raw = json.dumps(doc).encode()
        doc = {**doc, "device_id": DEV}  # publish to DEV's topic; the signed body names another kiosk
    elif case == "too_far":
        doc = build_command(key, DEV, "logs", {"n": 5}, ttl=30 * 24 * 3600)
    elif case == "unknown_action":
        doc = build_command(key, DEV, "format_disk")
    else:
        doc = build_command(key, DEV, "logs")
        raw = b"\xff not json"
    ack = send(link(broker), COUNTY, doc, wait=15, raw_payload=raw)
    assert ack is not None and ack["status"] == "refused" and ack["reason"] == reason


def test_a_replayed_command_is_refused(broker, agent_factory, keys):
    agent = agent_factory()
    wait_online(broker.port)
    doc = build_command(keys[0], DEV, "set_config", {"key": "ui.volume", "value": 0.5})
    assert send(link(broker), COUNTY, doc, wait=15)["status"] == "ok"
    agent.cfg["ui"]["volume"] = 0.9  # changed locally since; a replay must not set it back
    again = send(link(broker), COUNTY, doc, wait=15)
    assert again["status"] == "refused" and again["reason"] == "replayed"
    assert agent.cfg["ui"]["volume"] == 0.9


def test_clock_not_synced_refuses_commands_and_says_so_in_health(broker, agent_factory, keys):
    agent = agent_factory()
    wait_online(broker.port)
    agent.guard.clock = lambda: 86400.0  # 1970: an RTC that lost its battery
    ack = send(link(broker), COUNTY, build_command(keys[0], DEV, "logs", {"n": 3}), wait=15)
    assert ack["status"] == "refused" and ack["reason"] == "clock_not_synced"


# -- desired/reported config ------------------------------------------------------

def test_desired_configuration_is_applied_and_reported(broker, agent_factory, keys):
    from kiosk.fleet.operator import publish_desired

    agent = agent_factory()
    wait_online(broker.port)
    lis = Listener(broker.port, topics.topic(COUNTY, DEV, topics.CONFIG_REPORTED))
    try:
        publish_desired(link(broker), COUNTY, DEV, {"ui.idle_timeout": 120, "ui.volume": 0.4,
                                                    "platform.url": "http://evil"}, 7, keys[0])
        _t, rep, _r = lis.wait_for(lambda t, d, r: isinstance(d, dict) and d.get("rev") == 7)
        assert rep["applied"] == {"ui.idle_timeout": 120, "ui.volume": 0.4}
        assert rep["refused"] == {"platform.url": "not_allowed"}
        assert agent.cfg["ui"]["idle_timeout"] == 120 and agent.cfg["platform"]["url"] != "http://evil"
        # An unsigned desired document is refused as a whole.
        lis.publish(topics.topic(COUNTY, DEV, topics.CONFIG_DESIRED),
                    {"rev": 8, "device_id": DEV, "settings": {"ui.idle_timeout": 300}}, retain=True)
        _t, rep, _r = lis.wait_for(lambda t, d, r: isinstance(d, dict) and d.get("rev") == 8)
        assert rep["error"] == "unsigned" and agent.cfg["ui"]["idle_timeout"] == 120
    finally:
        lis.close()


# -- events, offline queue -------------------------------------------------------------

def test_events_queued_while_offline_arrive_in_order_after_reconnect(tmp_path, keys):
    from kiosk.fleet.broker import free_port

    port = free_port()
    cfg = kiosk_cfg(tmp_path, port, keys[1])
    agent = FleetAgent(cfg).start()  # no broker yet: the kiosk is offline
    for n in range(5):
        agent.event("paper", level="near_end", n=n)
    qdir = tmp_path / "var" / "fleet" / "queue"
    deadline = time.monotonic() + 5
    while len(list(qdir.glob("*.json"))) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list(qdir.glob("*.json"))) == 6  # app_started + 5, on disk
    agent.close()  # the kiosk is switched off while offline

    broker = start_broker(port, workdir=tmp_path / "mosquitto")
    try:
        lis = Listener(port, topics.topic(COUNTY, DEV, topics.EVENT))
        agent2 = FleetAgent(kiosk_cfg(tmp_path, port, keys[1])).start()
        try:
            got = []
            while len([g for g in got if g.get("kind") == "paper"]) < 5:
                _t, doc, _r = lis.wait_for(lambda t, d, r: True, timeout=20)
                got.append(doc)
            assert [d["n"] for d in got if d.get("kind") == "paper"] == [0, 1, 2, 3, 4]
            assert got[0]["kind"] == "app_started"
            assert len({d["event_id"] for d in got}) == len(got)
            deadline = time.monotonic() + 5
            while list(qdir.glob("*.json")) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not list(qdir.glob("*.json"))  # removed once the broker acknowledged them
        finally:
            agent2.close()
            lis.close()
    finally:
        broker.cleanup()


# -- online/offline, Last Will ---------------------------------------------------------

def test_late_last_will_does_not_mark_a_reconnected_kiosk_offline(broker, agent_factory):
    agent = agent_factory()
    row = wait_online(broker.port)
    session = row["session"]
    lis = Listener(broker.port, topics.topic(COUNTY, DEV, topics.STATE))
    try:
        # The Will of an older connection, delivered late by the broker (retained, like a real Will).
        lis.publish(topics.topic(COUNTY, DEV, topics.STATE),
                    {"v": 1, "online": False, "session": session - 1, "device_id": DEV, "county": COUNTY}, retain=True)
        lis.wait_for(lambda t, d, r: d.get("online") is True and d.get("session") == session and not r)
    finally:
        lis.close()
    # A technician who starts `fleet status` now still sees the kiosk online.
    assert wait_online(broker.port, timeout=5)["session"] == session
    assert agent.client.connected


def test_kill_9_of_a_kiosk_shows_offline_and_a_broker_restart_brings_it_back(broker, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sim = subprocess.Popen([sys.executable, "-m", "kiosk", "fleet", "simulate", "--broker", broker.url,
                            "--count", "3", "--prefix", "KILL", "--ramp", "0", "--reconnect-max", "2"],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert sim.stdout.readline().startswith("READY 3")
        wait_online(broker.port, "KILL-00001")
        broker.restart()
        row = wait_online(broker.port, "KILL-00001", timeout=20)
        assert row["online"]
        sim.send_signal(signal.SIGKILL)
        sim.wait(5)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 20:
            rows = {r["device_id"]: r for r in collect(link(broker), settle=0.2).rows()}
            if not rows["KILL-00001"]["online"]:
                break
        assert not rows["KILL-00001"]["online"] and "offline" in rows["KILL-00001"]["problems"]
        # Problems first: every offline kiosk sorts before any healthy one.
        order = [r["online"] for r in collect(link(broker), settle=0.2).rows()]
        assert order == sorted(order)
    finally:
        if sim.poll() is None:
            sim.kill()
        sim.wait()


def test_the_client_thread_survives_an_exception_in_health(broker, tmp_path, keys):
    cfg = kiosk_cfg(tmp_path, broker.port, keys[1])
    agent = FleetAgent(cfg)
    calls = {"n": 0}
    real = agent.client.hooks.health

    def flaky() -> dict:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("health snapshot bug")
        return real()
    agent.client.hooks.health = flaky
    lis = Listener(broker.port, topics.topic(COUNTY, DEV, topics.HEALTH))
    agent.start()
    try:
        lis.wait_for(lambda t, d, r: isinstance(d, dict) and "uptime_s" in d, timeout=20)
        assert calls["n"] >= 2 and agent.loop._thread.is_alive()
    finally:
        agent.close()
        lis.close()


# -- broker ACL ------------------------------------------------------------------------

def test_a_kiosk_cannot_publish_as_another_device(tmp_path):
    acl = (ROOT / "config" / "mosquitto" / "acl.conf").read_text("utf-8")
    b = start_broker(workdir=tmp_path / "acl-broker", acl=acl,
                     passwords={"SX-A-0001": "pa", "SX-B-0002": "pb", "operator": "po"})
    try:
        watcher = Listener(b.port, "kiosk/v1/#", username="operator", password="po")
        a = Listener(b.port, "kiosk/v1/+/SX-A-0001/cmd/+", username="SX-A-0001", password="pa")
        try:
            a.publish("kiosk/v1/临县/SX-B-0002/state", {"online": False, "session": 99, "forged": True}, retain=True)
            a.publish("kiosk/v1/临县/SX-A-0001/state", {"online": True, "session": 1})
            _t, doc, _r = watcher.wait_for(lambda t, d, r: t.endswith("/state"))
            assert _t == "kiosk/v1/临县/SX-A-0001/state"
            assert not any("SX-B-0002" in t for t, _d, _r in watcher.seen)
            # A kiosk cannot read another kiosk's commands either.
            spy = Listener(b.port, "kiosk/v1/+/SX-B-0002/cmd/+", username="SX-A-0001", password="pa")
            watcher.publish("kiosk/v1/临县/SX-B-0002/cmd/x1", {"id": "x1"})
            time.sleep(0.5)
            assert spy.messages.empty()
            spy.close()
        finally:
            watcher.close()
            a.close()
    finally:
        b.cleanup()


# -- pure parts --------------------------------------------------------------------------

def test_backoff_grows_exponentially_and_jitter_spreads_it():
    import random

    plain = Backoff(base=1, cap=60, jitter=False)
    assert [plain.next_delay() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    herd = [Backoff(base=1, cap=60, jitter=True, rng=random.Random(i)) for i in range(200)]
    for b in herd:
        for _ in range(3):
            b.next_delay()
    fourth = [b.next_delay() for b in herd]
    assert all(0.05 <= d <= 8 for d in fourth)
    assert max(fourth) - min(fourth) > 5  # spread over the window, not one instant


def test_fleet_config_is_validated(tmp_path):
    bad = tmp_path / "k.toml"
    bad.write_text('[fleet]\nhealth_interval = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[fleet\] health_interval must be between 5 and 3600"):
        config_mod.load(bad, env={})
    bad.write_text('[fleet]\nbroker = "http://x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="mqtt:// or mqtts://"):
        config_mod.load(bad, env={})
    bad.write_text('[site]\ndevice_id = "A/B"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="device_id"):
        config_mod.load(bad, env={})
    cfg = config_mod.load(env={"KIOSK__FLEET__PASSWORD": "s3cret"})
    assert cfg.public_view()["fleet"]["password"] == "******"


# -- TLS with per-device client certificates -------------------------------------------------

def test_mutual_tls_with_device_certificates_and_the_acl(tmp_path, keys):
    from tests.tls_support import TestCA

    ca = TestCA(tmp_path)
    srv_crt, srv_key = ca.issue("broker", server=True)
    dev_crt, dev_key = ca.issue(DEV)
    op_crt, op_key = ca.issue("operator")
    acl = (ROOT / "config" / "mosquitto" / "acl.conf").read_text("utf-8")
    b = start_broker(workdir=tmp_path / "tls-broker", acl=acl, extra_conf=(
        f"certfile {srv_crt}\nkeyfile {srv_key}\ncafile {ca.crt}\nrequire_certificate true\n"
        "use_identity_as_username true\nallow_anonymous false\n"))
    agent = None
    try:
        cfg = kiosk_cfg(tmp_path, b.port, keys[1])
        cfg["fleet"].update(broker=f"mqtts://127.0.0.1:{b.port}", ca_file=str(ca.crt), cert_file=str(dev_crt),
                            key_file=str(dev_key))
        agent = FleetAgent(cfg).start()
        op = parse_url(f"mqtts://127.0.0.1:{b.port}", ca_file=str(ca.crt), cert_file=str(op_crt),
                       key_file=str(op_key))
        deadline, rows = time.monotonic() + 15, []
        while time.monotonic() < deadline and not any(r["online"] for r in rows):
            rows = collect(op, settle=0.3).rows()
        assert [(r["device_id"], r["online"]) for r in rows] == [(DEV, True)]
        ack = send(op, COUNTY, build_command(keys[0], DEV, "set_config", {"key": "ui.volume", "value": 0.2}), wait=15)
        assert ack["status"] == "ok"
        # Without a client certificate the broker does not let anyone in.
        with pytest.raises((OSError, ConnectionError)):
            collect(parse_url(f"mqtts://127.0.0.1:{b.port}", ca_file=str(ca.crt)), timeout=3)
    finally:
        if agent is not None:
            agent.close()
        b.cleanup()


# -- signed catalog bundles over HTTPS ----------------------------------------------------------

@pytest.fixture
def https_files(tmp_path):
    server = HttpsFiles(tmp_path)
    yield server.root, server.url + "/bundles", server.ca
    server.stop()


def test_a_signed_catalog_bundle_is_verified_activated_and_used_at_the_next_start(broker, tmp_path, keys,
                                                                                  https_files):
    from kiosk.fleet import bundles
    from kiosk.flows.catalog import load_catalog

    www, url, ca = https_files
    (www / "bundles").mkdir()
    good = catalog_bundle(www)
    (www / "bundles" / "catalog-v2.json").write_bytes(good)
    (www / "bundles" / "catalog-bad.json").write_bytes(b'{"version": 1, "items": "no"}')
    cfg = kiosk_cfg(tmp_path, broker.port, keys[1], bundle_url=url, ca_file=str(ca))
    agent = FleetAgent(cfg).start()
    try:
        wait_online(broker.port)

        def update(manifest: dict) -> dict:
            return send(link(broker), COUNTY, build_command(keys[0], DEV, "update_catalog", manifest), wait=20)

        # Tampered on the server: the hash does not match the signed manifest.
        m = bundles.make_manifest(keys[0], "catalog", "v2", "catalog-v2.json", good + b" ")
        assert update(m)["reason"] == "hash_mismatch"
        # Signed by a key the kiosk does not know.
        m = bundles.make_manifest(signing.generate(), "catalog", "v2", "catalog-v2.json", good)
        assert update(m)["reason"] == "bundle_unknown_key"
        # Signed and intact, but not a catalog the kiosk can load: nothing changes.
        bad = (www / "bundles" / "catalog-bad.json").read_bytes()
        ack = update(bundles.make_manifest(keys[0], "catalog", "bad", "catalog-bad.json", bad))
        assert ack["status"] == "failed" and ack["reason"] == "invalid_bundle"
        assert not (tmp_path / "var" / "bundles" / "active.json").exists()
        # The real thing.
        ack = update(bundles.make_manifest(keys[0], "catalog", "v2", "catalog-v2.json", good))
        assert ack["status"] == "ok" and ack["result"]["version"] == "v2"
    finally:
        agent.close()
    load_catalog.cache_clear()
    catalog, version = bundles.load_active_catalog(tmp_path / "var" / "bundles", load_catalog)
    assert version == "v2" and catalog.items[0].name.endswith("（新版）")
    # The active bundle is damaged on disk: the next start rolls back to the shipped catalog.
    (tmp_path / "var" / "bundles" / "catalog-v2.json").write_text("{torn", encoding="utf-8")
    load_catalog.cache_clear()
    catalog, version = bundles.load_active_catalog(tmp_path / "var" / "bundles", load_catalog)
    assert version == "shipped" and not catalog.items[0].name.endswith("（新版）")
