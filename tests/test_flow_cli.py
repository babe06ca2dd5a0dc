"""`kiosk flow run` / `kiosk flow list` as a technician runs them (a real subprocess, a real simulator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys


from kiosk.core.idnumber import mask_id

from platform_support import SECRET, sample, sim, submissions  # noqa: F401 - sim: fixture


def kiosk(args, tmp_path, **kw):
    env = dict(os.environ, KIOSK__PLATFORM__DEVICE_SECRET=SECRET, KIOSK__STORAGE__DIR=str(tmp_path),
               KIOSK__PLATFORM__START_SIMULATOR="false")
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), **kw)


def test_flow_list_names_all_40_items(tmp_path):
    out = kiosk(["flow", "list", "--json"], tmp_path)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["no"] for r in rows] == list(range(1, 41))
    assert {r["mode"] for r in rows} == {"enquiry", "application", "counter"}
    assert all(r["does_zh"] for r in rows)


def test_flow_run_registration_prints_steps_and_acceptance(sim, tmp_path):
    person = sample(sim.url, 1, qualifies=11)[0]
    rid = person["id_number"]
    answers = tmp_path / "a.toml"
    answers.write_text('phone = "13912345678"\nreason = "从用人单位失业"\nunemployed_since = "2026-05-02"\n', encoding="utf-8")
    out = kiosk(["flow", "run", "11", "--resident", rid, "--answers", str(answers), "--platform", sim.url,
                 "--receipt", str(tmp_path / "r.bin")], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    kinds = [x["step"]["kind"] for x in lines if "step" in x]
    assert kinds == ["form", "confirm", "result", "done"]
    final = lines[-1]
    assert final["outcome"] == "accepted" and final["resident"] == mask_id(rid)
    stored = [s for s in submissions(sim.url) if s["acceptance_no"] == final["reference"]]
    assert stored and stored[0]["fields"]["unemployed_since"] == "2026-05-02"
    assert any(final["reference"] in ln for ln in final["receipt_lines"])
    assert rid not in out.stdout and rid not in out.stderr
    assert (tmp_path / "r.bin").read_bytes().startswith(b"\x1b@")


def test_flow_run_refusal_exits_1_with_reason(sim, tmp_path):
    child = next(p for p in sample(sim.url, 200) if p["age"] < 16)
    out = kiosk(["flow", "run", "11", "--resident", child["id_number"], "--platform", sim.url], tmp_path)
    assert out.returncode == 1
    assert "需年满16周岁" in out.stderr
    last = json.loads(out.stdout.splitlines()[-1])
    assert last["outcome"] == "refused"
    assert child["id_number"] not in out.stdout


def test_flow_run_missing_answers_exits_2(sim, tmp_path):
    person = sample(sim.url, 1, qualifies=4)[0]
    out = kiosk(["flow", "run", "4", "--resident", person["id_number"], "--platform", sim.url], tmp_path)
    assert out.returncode == 2
    step = json.loads(out.stdout.splitlines()[-2])["step"]
    assert step["kind"] == "form" and any(f["error_zh"] for f in step["fields"])


def test_flow_run_bad_id_exits_2(tmp_path):
    out = kiosk(["flow", "run", "26", "--resident", "140121199304240012"], tmp_path)
    assert out.returncode == 2
    assert "身份证号码有误" in out.stdout
