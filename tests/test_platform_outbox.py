"""The outbox: durable before acknowledged, delivered exactly once through outages and lost answers."""

from __future__ import annotations

import os

import pytest

from kiosk.platform.adapter import Refused, Unreachable
from kiosk.platform.outbox import OFFLINE_HEADLINE_ZH, Outbox
from tests.platform_support import admin, client, free_port, sample, start, submissions


def test_outage_queues_then_delivers_each_exactly_once(tmp_path):
    port = free_port()
    state = str(tmp_path / "platform.jsonl")
    sim = start(port, state)
    people = sample(sim.url, 40, qualifies=1)
    sim.stop()  # the village network is down
    platform = client(sim.url, max_attempts=1)
    results = []
    box = Outbox(tmp_path / "outbox.json", platform, on_result=results.append, backoff_base=0.05, backoff_cap=0.2)
    try:
        with pytest.raises(Unreachable) as exc:  # enquiries are not queued: they fail with a clear message
            platform.enquiry(39, people[0]["id_number"])
        assert "无法连接服务平台" in exc.value.message_zh
        first = box.submit(1, people[0]["id_number"], {"desired_job": "司机"}, wait=5)
        assert first.state == "pending" and first.headline_zh == OFFLINE_HEADLINE_ZH
        assert first.receipt_lines_zh == ["已暂存，网络恢复后自动提交", f"本机暂存编号：{first.ref}"]
        refs = [first.ref] + [box.enqueue(1, p["id_number"], {"desired_job": "电工"}).ref for p in people[1:30]]
        st = box.status()
        assert st.pending == 30 and st.reachable is False and st.queue[0].masked_id.count("*") == 11
        sim = start(port, state)  # the network is back
        try:
            box.kick()
            assert box.drain(30)
            outcomes = [box.get(r) for r in refs]
            assert [o.state for o in outcomes] == ["delivered"] * 30, [o.refusal_zh for o in outcomes]
            stored = submissions(sim.url)
            keys = [s["idempotency_key"] for s in stored]
            assert len(keys) == len(set(keys)) == 30
            by_no = {s["acceptance_no"]: s for s in stored}
            for o in outcomes:  # the receipt number is the number the platform recorded
                assert o.acceptance.acceptance_no in by_no and o.receipt_lines_zh[0] == "已受理"
            assert len(results) == 30 and {r.ref for r in results} == set(refs)
        finally:
            sim.stop()
    finally:
        box.close()
        platform.close()


def test_lost_answers_and_5xx_never_duplicate(tmp_path):
    sim = start()
    platform = client(sim.url, max_attempts=2)
    box = Outbox(tmp_path / "outbox.json", platform, backoff_base=0.02, backoff_cap=0.1)
    try:
        people = sample(sim.url, 40, qualifies=1)
        admin(sim.url, "POST", "/admin/fault-injection", json={"drop_rate": 0.4, "error_rate": 0.2})
        refs = [box.enqueue(1, p["id_number"], {"desired_job": "普工"}).ref for p in people]
        assert box.drain(40)
        stats = admin(sim.url, "GET", "/admin/stats")
        assert stats["dropped"] > 0 and stats["injected_errors"] > 0  # faults really happened
        stored = submissions(sim.url)
        assert len(stored) == len({s["idempotency_key"] for s in stored}) == 40
        numbers = {box.get(r).acceptance.acceptance_no for r in refs}
        assert numbers == {s["acceptance_no"] for s in stored}
    finally:
        box.close()
        platform.close()
        sim.stop()


def test_photo_kept_until_acknowledged_then_deleted_and_refusals_reported(tmp_path):
    sim = start()
    platform = client(sim.url)
    box = Outbox(tmp_path / "outbox.json", platform, autostart=False)
    try:
        p = sample(sim.url, 1, qualifies=21)[0]
        ref = box.enqueue(21, p["id_number"], {}, photo=b"\xff\xd8\xff\xe0 photo bytes")
        assert len(os.listdir(box.photo_dir)) == 1  # on disk, fsynced, before anyone sent it
        box.start()
        out = box.wait(ref.ref, 10)
        assert out.state == "delivered" and os.listdir(box.photo_dir) == []
        assert [s for s in submissions(sim.url) if s["acceptance_no"] == out.acceptance.acceptance_no][0]["photo_id"]
        child = sample(sim.url, 50)
        kid = next(x for x in child if x["age"] < 16)
        refused = box.submit(28, kid["id_number"], {}, wait=10)
        assert refused.state == "refused" and "年满16周岁" in refused.refusal_zh
        assert refused.receipt_lines_zh[0] == "未能受理"
        rec = box._table.get(lambda r: r["ref"] == refused.ref)
        assert rec["id_number"].count("*") == 11  # personal data leaves once the platform answered
        with pytest.raises(Refused) as exc:
            box.enqueue(1, "110105194912310021", {})  # bad check character: never stored
        assert exc.value.code == "invalid_id_number"
        broken = box.submit(1, kid["id_number"], {"x": [1, 2]}, wait=10)  # breaks the contract: the platform says 400
        assert broken.state == "failed" and box.status().failed == 1
        assert broken.receipt_lines_zh[1] == "提交未成功，请联系工作人员处理。"
        assert box.requeue(broken.ref) and box.wait(broken.ref, 10).state in ("pending", "failed")
    finally:
        box.close()
        platform.close()
        sim.stop()


def test_pending_records_survive_a_restart_with_their_keys(tmp_path):
    port = free_port()
    sim = start(port)
    person = sample(sim.url, 1, qualifies=1)[0]
    sim.stop()
    platform = client(sim.url, max_attempts=1)
    box = Outbox(tmp_path / "outbox.json", platform, backoff_base=5)
    ref = box.enqueue(1, person["id_number"], {"desired_job": "中文字段"})
    box.close()  # the kiosk stops (or loses power) with the record pending
    platform.close()
    sim = start(port)
    platform = client(sim.url)
    box = Outbox(tmp_path / "outbox.json", platform)
    try:
        out = box.wait(ref.ref, 10)
        assert out.state == "delivered"
        stored = submissions(sim.url)
        assert [s["idempotency_key"] for s in stored] == [ref.idempotency_key]
        assert stored[0]["fields"] == {"desired_job": "中文字段"}
    finally:
        box.close()
        platform.close()
        sim.stop()
