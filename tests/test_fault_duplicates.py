"""Issue 12 fault 11: a resident who starts again (after a power cut) must not lodge a second application.

Real parts: the platform simulator on 127.0.0.1, `kiosk flow run` as a subprocess, the outbox file on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from kiosk.flows.catalog import load_catalog
from kiosk.flows.driver import drive
from kiosk.flows.site import Site
from kiosk.core.person import Person
from kiosk.platform.outbox import Outbox

from platform_support import SECRET, client, free_port, sample, sim, submissions  # noqa: F401 - sim: fixture

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Item 4 (零工求职登记): the simulator, like the province's platform, accepts it again and again;
# only the kiosk can tell that the second one is the same resident starting over.
ITEM = 4
ANSWERS = ('phone = "13912345678"\njob_type = "红枣采摘"\nwork_place = "本县"\nexpected_pay = 150\n'
           'available_time = "随时"\n')
ANSWER_DICT = {"phone": "13912345678", "job_type": "红枣采摘", "work_place": "本县", "expected_pay": 150,
               "available_time": "随时"}


def flow_run(tmp_path, url, rid, answers, **env):
    path = tmp_path / "a.toml"
    path.write_text(answers, encoding="utf-8")
    full_env = dict(os.environ, KIOSK__PLATFORM__DEVICE_SECRET=SECRET, KIOSK__STORAGE__DIR=str(tmp_path),
                    KIOSK__PLATFORM__START_SIMULATOR="false", **env)
    out = subprocess.run([sys.executable, "-m", "kiosk", "flow", "run", str(ITEM), "--resident", rid, "--answers",
                          str(path), "--platform", url, "--receipt", str(tmp_path / "r.bin")],
                         capture_output=True, text=True, env=full_env, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def mine(url, acceptance_nos):
    return [s for s in submissions(url) if s["acceptance_no"] in acceptance_nos]


def test_second_run_after_delivery_shows_the_first_application(sim, tmp_path):
    rid = sample(sim.url, 1, qualifies=ITEM, offset=7)[0]["id_number"]
    before = len(submissions(sim.url))
    first = flow_run(tmp_path, sim.url, rid, ANSWERS)
    assert first["outcome"] == "accepted"
    # The resident starts again (power cut before the receipt printed): same item, same answers.
    second = flow_run(tmp_path, sim.url, rid, ANSWERS)
    assert second["outcome"] == "duplicate"
    assert second["reference"] == first["reference"]
    assert f"受理编号{first['reference']}" in second["message_zh"] and "无需重复提交" in second["message_zh"]
    # The receipt can be printed again and carries the earlier acceptance number.
    assert any(first["reference"] in ln for ln in second["receipt_lines"])
    assert len(submissions(sim.url)) == before + 1


def test_different_answers_are_a_new_application(sim, tmp_path):
    rid = sample(sim.url, 1, qualifies=ITEM, offset=9)[0]["id_number"]
    first = flow_run(tmp_path, sim.url, rid, ANSWERS)
    other = flow_run(tmp_path, sim.url, rid, ANSWERS.replace("红枣采摘", "搬运装卸"))
    assert first["outcome"] == "accepted" and other["outcome"] == "accepted"
    assert first["reference"] != other["reference"]


def test_window_zero_turns_the_check_off(sim, tmp_path):
    rid = sample(sim.url, 1, qualifies=ITEM, offset=11)[0]["id_number"]
    first = flow_run(tmp_path, sim.url, rid, ANSWERS, KIOSK__STORAGE__DUPLICATE_WINDOW_HOURS="0")
    again = flow_run(tmp_path, sim.url, rid, ANSWERS, KIOSK__STORAGE__DUPLICATE_WINDOW_HOURS="0")
    assert again["outcome"] != "duplicate"
    assert first["reference"] != again["reference"]


def test_pending_submission_after_a_restart_is_shown_not_queued_twice(sim, tmp_path):
    """Platform down: the first try is stored; the kiosk restarts (a new Outbox on the same file);
    the resident tries again: shown the stored one; once the platform is back, one application arrives."""
    item = load_catalog().by_no(ITEM)
    rid = sample(sim.url, 1, qualifies=ITEM, offset=13)[0]["id_number"]
    answers = dict(ANSWER_DICT)
    site = Site("测试站", "SX-TEST-0001")
    path = tmp_path / "outbox.json"
    down = client(f"http://127.0.0.1:{free_port()}")
    box = Outbox(path, down, backoff_base=0.05, backoff_cap=0.2)
    try:
        flow_person = Person(rid, "", "cli")
        code, step = drive(item, flow_person, down, box, site, answers)
    finally:
        box.close()
        down.close()
    # Offline start: identification may be deferred; the submission must be stored as pending.
    assert step.outcome == "queued", step
    local_ref = step.reference
    up = client(sim.url)
    box = Outbox(path, up, backoff_base=0.05, backoff_cap=0.2, autostart=False)  # sender not yet running
    try:
        code, step = drive(item, Person(rid, "", "cli"), up, box, site, answers)
        assert step.outcome == "duplicate", step
        assert f"本机暂存编号{local_ref}" in step.message_zh
        assert step.receipt is not None
        box.start()
        assert box.drain(10)
        delivered = box.get(local_ref)
        assert delivered.state == "delivered"
        got = [s for s in submissions(sim.url) if s["acceptance_no"] == delivered.acceptance.acceptance_no]
        assert len(got) == 1
        assert len(box.status().queue) == 1  # no second record was stored
    finally:
        box.close()
        up.close()
