"""Disclosure and voice bundles end to end: signed manifest (made by the real CLI), real Mosquitto,
real HTTPS server on loopback, real files; activation at the next start, rollback, refusals."""

from __future__ import annotations

import io
import json
import math
import struct
import subprocess
import sys
import tarfile
import time
import wave
from pathlib import Path

import pytest

from kiosk import voice
from kiosk.fleet import bundle_kinds, signing
from kiosk.fleet.agent import FleetAgent
from kiosk.fleet.link import parse_url
from kiosk.fleet.operator import build_command, send
from kiosk.fleet.status import collect
from kiosk.flows import disclosure
from tests.fleet_support import HttpsFiles, kiosk_cfg, make_keys
from tests.test_fleet import broker  # noqa: F401 - fixture

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
COUNTY, DEV = "临县", "SX-T-0001"


@pytest.fixture
def files(tmp_path):
    server = HttpsFiles(tmp_path)
    (server.root / "b").mkdir()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _restore_module_dirs(monkeypatch):
    # activate_all points these at the bundles, as a kiosk start does; undo it for the other tests.
    monkeypatch.setattr(disclosure, "DISCLOSURE_DIR", disclosure.DISCLOSURE_DIR)
    monkeypatch.setattr(voice, "VOICE_DIR", voice.VOICE_DIR)
    monkeypatch.setattr(voice, "PROMPTS_PATH", voice.PROMPTS_PATH)


def sign_with_cli(tmp_path: Path, key: signing.OperatorKey, file: Path, kind: str, version: str) -> dict:
    """`kiosk fleet sign-bundle`, the operator's tool, run as a process."""
    key_file = tmp_path / "op.key"
    if not key_file.exists():
        signing.save_private(key, key_file)
    out = subprocess.run([sys.executable, "-m", "kiosk", "fleet", "sign-bundle", str(file), "--kind", kind,
                          "--version", version, "--key", str(key_file)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT, env={"PYTHONPATH": str(ROOT),
                                                                                    "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def disclosure_bundle(files: HttpsFiles, name: str, suffix: str) -> Path:
    doc = json.loads((ROOT / "config" / "disclosure" / "linxian.json").read_text("utf-8"))
    doc["items"][0]["name"] += suffix
    path = files.root / "b" / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def wav_bytes(freq: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * n / 22050)))
                               for n in range(2205)))
    return buf.getvalue()


def voice_bundle(files: HttpsFiles, name: str, *, skip: str = "", welcome: str = "欢迎使用新版语音") -> Path:
    """A tar.gz of a prompt table (every shipped key) and one short WAV per prompt."""
    table = voice.load_prompts(ROOT / "config" / "voice_prompts.toml")
    prompts = {**table.prompts, "welcome": welcome}
    toml = "[voice]\nvoices = [\"cmn\"]\n\n[prompts]\n" + "".join(f'{k} = "{v}"\n' for k, v in prompts.items())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        members = [("voice_prompts.toml", toml.encode())] + [
            (f"{k}.wav", wav_bytes(440 + 10 * i)) for i, k in enumerate(prompts) if k != skip]
        for member, data in members:
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = files.root / "b" / name
    path.write_bytes(buf.getvalue())
    return path


def row_of(port: int, want: dict, timeout: float = 15) -> dict:
    deadline, row = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        row = {r["device_id"]: r for r in collect(parse_url(f"mqtt://127.0.0.1:{port}"), settle=0.2).rows()}.get(
            DEV, {})
        if row.get("online") and all(row.get(k) == v for k, v in want.items()):
            return row
        time.sleep(0.2)
    raise AssertionError(f"state never showed {want}; last row {row}")


def start(cfg) -> FleetAgent:
    """What a kiosk start does: activate the bundles, then the fleet agent reports their versions."""
    _catalog, versions = bundle_kinds.activate_all(cfg)
    agent = FleetAgent(cfg)
    agent.bundle_versions = versions
    return agent.start()


@pytest.fixture
def setup(broker, tmp_path, files):  # noqa: F811 - broker is the imported fixture
    """(operator key, kiosk config, broker link) for a kiosk whose bundles come from ``files``."""
    key, pub = make_keys(tmp_path)
    cfg = kiosk_cfg(tmp_path, broker.port, pub, bundle_url=files.url + "/b", ca_file=str(files.ca))
    return key, cfg, parse_url(broker.url)


def test_disclosure_bundle_end_to_end_with_refusals_and_rollback(broker, setup, tmp_path, files):  # noqa: F811
    key, cfg, link = setup
    agent = start(cfg)
    try:
        row_of(broker.port, {"disclosure_version": "shipped", "voice_version": "shipped",
                             "catalog_version": "shipped"})

        def update(manifest: dict) -> dict:
            return send(link, COUNTY, build_command(key, DEV, "update_bundle", manifest), wait=20)

        d1 = disclosure_bundle(files, "linxian-d1.json", "（第一版）")
        ack = update(sign_with_cli(tmp_path, key, d1, "disclosure", "d1"))
        assert ack["status"] == "ok" and ack["result"] == {"kind": "disclosure", "version": "d1",
                                                          "in_use": "after the next visit"}
    finally:
        agent.close()
    # The next start ("between visits") takes it into use and says so in state.
    agent = start(cfg)
    try:
        row_of(broker.port, {"disclosure_version": "d1"})
        assert disclosure.load_disclosure(COUNTY).items[0].name.endswith("（第一版）")
        d2 = disclosure_bundle(files, "linxian-d2.json", "（第二版）")
        good = sign_with_cli(tmp_path, key, d2, "disclosure", "d2")
        # Refused, each with its reason, and d1 stays active:
        unsigned = {k: v for k, v in good.items() if k != "sig"}
        assert update_ack(link, key, unsigned)["reason"] == "bundle_unsigned"
        tampered = {**good, "version": "d9"}
        assert update_ack(link, key, tampered)["reason"] == "bundle_bad_signature"
        d2.write_text(d2.read_text("utf-8").replace("第二版", "第三版"), encoding="utf-8")  # changed on the server
        assert update_ack(link, key, good)["reason"] == "hash_mismatch"
        corrupt = files.root / "b" / "corrupt.json"
        corrupt.write_bytes(b'{"schema": 1, "slug": "linxian", "items": [{"no": ')
        ack = update_ack(link, key, sign_with_cli(tmp_path, key, corrupt, "disclosure", "bad"))
        assert ack["status"] == "failed" and ack["reason"] == "invalid_bundle" and "not JSON" in ack["detail"]
        other = json.loads((ROOT / "config" / "disclosure" / "yunzhou.json").read_text("utf-8"))
        (files.root / "b" / "yunzhou.json").write_text(json.dumps(other, ensure_ascii=False), encoding="utf-8")
        ack = update_ack(link, key, sign_with_cli(tmp_path, key, files.root / "b" / "yunzhou.json",
                                                 "disclosure", "y1"))
        assert ack["reason"] == "wrong_county"
        active = json.loads((tmp_path / "var" / "bundles" / "active.json").read_text("utf-8"))
        assert active["disclosure"]["version"] == "d1"
        # A good d2 after all that.
        d2 = disclosure_bundle(files, "linxian-d2.json", "（第二版）")
        assert update_ack(link, key, sign_with_cli(tmp_path, key, d2, "disclosure", "d2"))["status"] == "ok"
    finally:
        agent.close()
    # d2 is damaged on disk before the next start: that start rolls back to d1 and reports it.
    bundles_dir = tmp_path / "var" / "bundles"
    (bundles_dir / "disclosure-d2" / "linxian.json").write_text("{torn", encoding="utf-8")
    agent = start(cfg)
    try:
        row_of(broker.port, {"disclosure_version": "d1"})
        assert disclosure.load_disclosure(COUNTY).items[0].name.endswith("（第一版）")
    finally:
        agent.close()
    assert sorted(p.name for p in bundles_dir.iterdir() if p.name.startswith("disclosure")) == [
        "disclosure-d1", "disclosure-d2"]  # nothing older than the rollback target is kept; no temp left


def update_ack(link, key, manifest: dict) -> dict:
    return send(link, COUNTY, build_command(key, DEV, "update_bundle", manifest), wait=20)


def test_voice_bundle_end_to_end_and_a_bad_one_is_refused(broker, setup, tmp_path, files):  # noqa: F811
    key, cfg, link = setup
    agent = start(cfg)
    try:
        row_of(broker.port, {"voice_version": "shipped"})
        # A prompt's WAV missing from the archive: refused, nothing activated.
        holey = voice_bundle(files, "voice-holey.tar.gz", skip="insert_card")
        ack = update_ack(link, key, sign_with_cli(tmp_path, key, holey, "voice", "v0"))
        assert ack["reason"] == "invalid_bundle" and "insert_card" in ack["detail"]
        # Not a voice bundle at all (no prompt table).
        junk = files.root / "b" / "junk.tar.gz"
        junk.write_bytes(b"\x1f\x8b not really gzip")
        assert update_ack(link, key, sign_with_cli(tmp_path, key, junk, "voice", "v0"))["reason"] == "invalid_bundle"
        # Signed by a key the kiosk does not know.
        good = voice_bundle(files, "voice-v1.tar.gz")
        ack = update_ack(link, key, sign_with_cli(tmp_path / "other", signing.generate(), good, "voice", "v1"))
        assert ack["reason"] == "bundle_unknown_key"
        assert not (tmp_path / "var" / "bundles" / "active.json").exists()
        ack = update_ack(link, key, sign_with_cli(tmp_path, key, good, "voice", "v1"))
        assert ack["status"] == "ok" and ack["result"]["version"] == "v1"
    finally:
        agent.close()
    shipped_wav = voice.prompt_path("welcome")
    agent = start(cfg)
    try:
        row_of(broker.port, {"voice_version": "v1"})
        path = voice.prompt_path("welcome")
        assert path is not None and path.parent == tmp_path / "var" / "bundles" / "voice-v1"
        assert path != shipped_wav and path.read_bytes() == wav_bytes(440)  # the bundle's own recording
        assert voice.prompt_text("welcome") == "欢迎使用新版语音"
    finally:
        agent.close()
