"""Issue 12 fault 3: the platform simulator's admin routes need the token its launcher made, and its
own journal keeps no full ID number, no personal form field, and stays bounded.
Real parts: simulator subprocesses on 127.0.0.1, the journal file on disk."""

from __future__ import annotations

import json
import os

import httpx
import pytest

from kiosk.core.idnumber import mask_id
from kiosk.platform.simulator import state as simstate
from kiosk.platform.simulator.launcher import ADMIN_TOKEN_ENV

from platform_support import admin, client, sample, sim, start  # noqa: F401 - sim: fixture

ADMIN_ROUTES = [("GET", "/admin/submissions", None), ("GET", "/admin/staff", None),
                ("GET", "/admin/residents/sample", None), ("GET", "/admin/stats", None),
                ("POST", "/admin/essc/issue", {"username": "technician05"}),
                ("POST", "/admin/fault-injection", {"outage": True}), ("POST", "/admin/clock", {"offset_days": 9})]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
def test_admin_routes_refuse_requests_without_the_token(sim, headers):
    for method, path, body in ADMIN_ROUTES:
        r = httpx.request(method, sim.url + path, json=body, headers=headers, timeout=5)
        assert r.status_code == 401, (path, r.text)
        assert r.json()["error"]["code"] == "admin_token_required"
    # nothing happened: the platform is up, the clock unchanged
    assert admin(sim.url, "GET", "/admin/fault-injection")["outage"] is False
    assert httpx.get(sim.url + "/v1/health", timeout=5).status_code == 200


def test_the_launcher_token_opens_them_and_never_shows_on_the_command_line(sim):
    assert sim.admin_token and len(sim.admin_token) >= 32
    qr = admin(sim.url, "POST", "/admin/essc/issue", json={"username": "technician05"})["qr_text"]
    assert qr
    with open(f"/proc/{sim.process.pid}/cmdline", "rb") as f:
        assert sim.admin_token.encode() not in f.read()


def test_hand_started_simulator_writes_its_token_to_a_private_file(tmp_path):
    import subprocess
    import sys

    from kiosk.platform.simulator.launcher import READY_PREFIX

    token_file = tmp_path / "token"
    env = {k: v for k, v in os.environ.items() if k != ADMIN_TOKEN_ENV}
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.platform.simulator.server", "--port", "0",
                             "--admin-token-file", str(token_file)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith(READY_PREFIX)
        url = line[len(READY_PREFIX):].strip()
        assert token_file.stat().st_mode & 0o777 == 0o600
        token = token_file.read_text().strip()
        assert httpx.get(url + "/admin/stats", timeout=5).status_code == 401
        ok = httpx.get(url + "/admin/stats", timeout=5, headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_journal_is_masked_and_still_replays(tmp_path):
    state = tmp_path / "sim.jsonl"
    h = start(state_path=str(state))
    try:
        person = sample(h.url, 1, qualifies=4)[0]
        rid = person["id_number"]
        p = client(h.url)
        acc = p.submit(4, rid, {"phone": "13912345678", "job_type": "红枣采摘", "work_place": "本县",
                                "expected_pay": 150, "available_time": "随时"}, "k" * 16)
        p.close()
    finally:
        h.stop()
    text = state.read_text(encoding="utf-8")
    assert rid not in text and "13912345678" not in text and "红枣采摘" not in text
    assert mask_id(rid) in text
    assert state.stat().st_mode & 0o777 == 0o600
    h = start(state_path=str(state))  # a restart replays the masked journal
    try:
        subs = {s["acceptance_no"]: s for s in admin(h.url, "GET", "/admin/submissions")["submissions"]}
        assert subs[acc.acceptance_no]["id_number"] == rid  # mapped back to the synthetic resident
    finally:
        h.stop()


def test_journal_from_before_the_fix_is_masked_at_start_and_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(simstate, "JOURNAL_MAX", 50)
    monkeypatch.setattr(simstate, "JOURNAL_KEEP", 20)
    state = simstate.SimState(42, None, None, "s", n_residents=50)
    rid = next(iter(state.world.residents))
    path = tmp_path / "old.jsonl"
    lines = [json.dumps({"t": "sub", "acceptance_no": f"A{i}", "item_no": 4, "id_number": rid,
                         "fields": {"phone": "13912345678"}, "accepted_at": "2026-06-15T10:00:00+08:00",
                         "status": "accepted", "expected_completion": "2026-06-15"}) for i in range(80)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    st = simstate.SimState(42, None, path, "s", n_residents=50)
    text = path.read_text(encoding="utf-8")
    assert rid not in text and "13912345678" not in text
    assert len(text.splitlines()) == 20
    for i in range(100):
        st._record({"t": "idem", "key": f"k{i}", "digest": "d", "status": 201, "body": {}})
    st.close()
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 50
