"""Fault 4: corrupt and wrong-shape files for every store.

Recovery keeps every intact record, reports what it could not keep (technician
alert + audit entry), keeps no full ID number in set-aside files, deletes them
after the retention period, and never stops the kiosk from starting.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time

import pytest

from kiosk.audit import AuditLog
from kiosk.core import alerts, config
from kiosk.core.idnumber import make_id
from kiosk.core.storage import sweep_set_aside
from kiosk.flows.fault_report import FaultLedger
from kiosk.flows.tech_mode import TechMode
from kiosk.platform.http_client import HttpPlatform
from kiosk.platform.outbox import Outbox
from tests.conftest import free_port

ID1 = make_id("141124", _dt.date(1962, 3, 8), 21)
ID2 = make_id("140105", _dt.date(1975, 1, 2), 33)
ID3 = make_id("140105", _dt.date(1980, 5, 6), 45)


def _offline_platform() -> HttpPlatform:
    return HttpPlatform(f"http://127.0.0.1:{free_port()}", "SX-DEMO-0001", "s", 0.2, 0.2, max_attempts=1)


def _box(path, platform) -> Outbox:
    return Outbox(path, platform, autostart=False)


def _one_stored(tmp_path, job: str):
    """An outbox file holding one pending submission: (path, platform, ref, the file as JSON)."""
    path = tmp_path / "outbox.json"
    platform = _offline_platform()
    box = _box(path, platform)
    ref = box.enqueue(1, ID1, {"desired_job": job}).ref
    box.close()
    return path, platform, ref, json.loads(path.read_text(encoding="utf-8"))


def test_wrong_shape_outbox_opens_and_reports(tmp_path):
    path = tmp_path / "outbox.json"
    path.write_text('{"outbox":[1]}', encoding="utf-8")
    platform = _offline_platform()
    box = _box(path, platform)
    try:
        assert box.status().pending == 0  # was: AttributeError, kiosk crash-looping
        assert box.recovery is not None and box.recovery.lost == 1
        ref = box.enqueue(1, ID1, {"desired_job": "司机"}).ref
        assert box.get(ref).state == "pending"
    finally:
        box.close()
        platform.close()


def test_torn_outbox_keeps_the_newest_acknowledged_record(tmp_path):
    path = tmp_path / "outbox.json"
    platform = _offline_platform()
    box = _box(path, platform)
    refs = [box.enqueue(1, i, {"desired_job": "电工"}).ref for i in (ID1, ID2, ID3)]
    newest = box._table.get(doc_id=3)
    box._finish(newest, "delivered", 1, acceptance=None)  # acknowledged: the newest state
    box._table.update({"acceptance": {"acceptance_no": "SX2026000003", "status": "accepted"}}, doc_ids=[3])
    box.close()
    text = path.read_text(encoding="utf-8")
    # Damage the file after the last record: the .bak does not hold the acknowledgement.
    path.write_text(text[:-2] + "\x00\x00garbage", encoding="utf-8")
    box = _box(path, platform)
    try:
        states = {r: box.get(r).state for r in refs}
        assert states == {refs[0]: "pending", refs[1]: "pending", refs[2]: "delivered"}
        assert box.get(refs[2]).acceptance.acceptance_no == "SX2026000003"
        assert box.recovery is not None and box.recovery.kept == 3
        aside = box.recovery.set_aside
        assert aside is not None and aside.exists()
        raw = aside.read_text(encoding="utf-8")
        assert ID1 not in raw and ID2 not in raw and ID3 not in raw  # set-aside files hold no full ID number
        assert oct(aside.stat().st_mode & 0o777) == "0o600"
    finally:
        box.close()
        platform.close()


def test_invalid_records_are_dropped_others_kept_and_nothing_full_in_set_aside(tmp_path):
    path, platform, good, data = _one_stored(tmp_path, "司机")
    data["outbox"]["2"] = {"ref": 5, "id_number": ID2, "state": "pending"}   # wrong types
    data["outbox"]["3"] = "not a record"
    data["faults"] = [1, 2]
    path.write_text(json.dumps(data), encoding="utf-8")
    box = _box(path, platform)
    try:
        st = box.status()
        assert st.pending == 1 and box.get(good).state == "pending"
        assert box.recovery.kept == 1 and box.recovery.lost == 3
        assert ID2 not in box.recovery.set_aside.read_text(encoding="utf-8")
    finally:
        box.close()
        platform.close()


def test_set_aside_files_are_deleted_after_retention(tmp_path):
    old = tmp_path / "outbox.json.corrupt-1"
    new = tmp_path / "outbox.json.corrupt-2"
    old.write_text("x")
    new.write_text("y")
    past = time.time() - 40 * 86400
    os.utime(old, (past, past))
    assert sweep_set_aside(tmp_path, 30 * 86400) == 1
    assert not old.exists() and new.exists()


def test_backend_raises_technician_alert_and_audits(tmp_path):
    from kiosk.backend import Backend

    storage = tmp_path / "var"
    storage.mkdir()
    (storage / "outbox.json").write_text('{"outbox":{"1":{"ref":1}}}', encoding="utf-8")
    env = {"KIOSK__STORAGE__DIR": str(storage), "KIOSK__PLATFORM__URL": f"http://127.0.0.1:{free_port()}",
           "KIOSK__PLATFORM__START_SIMULATOR": "false"}
    cfg = config.load(None, env=env)
    backend = Backend(cfg)
    try:
        assert any(a.key == "storage-outbox.json" and "could not keep 1" in a.text_en for a in alerts.alerts())
        events = AuditLog(storage / "audit.jsonl").events()
        assert [e.action for e in events] == ["storage.recovered"]
        assert events[0].outcome == "partial" and events[0].detail["lost"] == 1
    finally:
        backend.close()
        alerts.clear_alert("storage-outbox.json")


@pytest.mark.parametrize("content", ['{"faults":[1]}', '{"faults":{"1":{"x":1}}}', '{"faults": {"1": {"local_id"'])
def test_fault_ledger_opens_whatever_its_file_holds(tmp_path, content):
    path = tmp_path / "faults.json"
    path.write_text(content, encoding="utf-8")
    ledger = FaultLedger(path, None, device_id="SX-DEMO-0001", site="s", fsync=False)
    assert ledger.records() == []
    ledger.close()
    assert ledger.recovery is not None


@pytest.mark.parametrize("content", ["[1]", '{"failures": "x"}', '{"failures": [null]}', "\x00\x00", '"s"'])
def test_throttle_file_of_any_shape_does_not_stop_technician_mode(tmp_path, content):
    (tmp_path / "login_throttle.json").write_text(content, encoding="utf-8")
    cfg = config.load(None, env={"KIOSK__STORAGE__DIR": str(tmp_path)})
    mode = TechMode(cfg, platform=_offline_platform())
    assert mode.throttle is not None


def test_audit_log_with_wrong_shape_lines_still_appends(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_text('{"seq": "x", "at": 1, "action": 2, "outcome": 3, "actor": 4, "detail": 5, "prev": 6, '
                    '"hash": 7}\n[1,2]\n', encoding="utf-8")
    with AuditLog(path) as log:
        ev = log.append("test.event")
    assert ev.seq == 1


def scenario_starts(app):
    from tests.ui_helpers import report

    yield lambda: app.sm.current == "attract"
    yield 0.5
    from kiosk.core.alerts import alerts as current

    report("start", {"screen": app.sm.current, "alerts": [a.text_zh for a in current()],
                     "pending": app.backend.outbox.status().pending})


def test_kiosk_starts_with_wrong_shape_outbox(run_kiosk, tmp_path):
    storage = tmp_path / "var"
    storage.mkdir()
    (storage / "outbox.json").write_text('{"outbox":[1]}', encoding="utf-8")
    run_kiosk("tests.test_fault_stores:scenario_starts")
    got = json.loads((tmp_path / "start.json").read_text(encoding="utf-8"))
    assert got["screen"] == "attract" and got["pending"] == 0
    assert any("outbox.json" in a and "1 条无法恢复" in a for a in got["alerts"])


@pytest.mark.parametrize("content", ["{}", "[1]", '{"outbox":[1]}', "", "\x00" * 64])
def test_damaged_outbox_keeps_what_its_backup_holds_and_says_so(tmp_path, content):
    """Found by bench/faults.py: valid JSON without the table ("{}") lost every record
    silently, a wrong shape ignored the backup, an emptied file was restored with only a warning."""
    path = tmp_path / "outbox.json"
    platform = _offline_platform()
    box = _box(path, platform)
    refs = [box.enqueue(1, i, {"desired_job": "电工"}).ref for i in (ID1, ID2, ID3)]
    box.close()
    path.write_text(content, encoding="utf-8")
    box = _box(path, platform)
    try:
        kept = [r for r in refs if box.get(r) is not None]
        assert kept == refs[:2]  # the backup predates the last write
        assert box.recovery is not None and box.recovery.lost >= 1  # reported: technician alert + audit
    finally:
        box.close()
        platform.close()


@pytest.mark.parametrize("key", ["attempts", "created_at", "photo_file", "expected_completion"])
def test_outbox_record_with_a_damaged_key_is_dropped_not_a_crash(tmp_path, key):
    """Found by bench/faults.py: a bit flip in a key name made status() raise KeyError."""
    path, platform, ref, doc = _one_stored(tmp_path, "电工")
    rec = doc["outbox"]["1"]
    if key == "expected_completion":
        rec["state"], rec["acceptance"] = "delivered", {"acceptance_no": "A1", "status": "受理", key: "2026-1x-01"}
    else:
        rec[key[:-1] + "?"] = rec.pop(key)
    path.write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / "outbox.json.bak").unlink(missing_ok=True)
    box = _box(path, platform)
    try:
        status = box.status()  # was: KeyError / ValueError
        assert box.get(ref) is None and status.pending == 0
        assert box.recovery is not None and box.recovery.lost == 1
    finally:
        box.close()
        platform.close()


def test_fault_report_changed_by_a_flipped_bit_is_dropped_and_reported(tmp_path):
    """A bit flip inside a value that still parses (here the report's own number) used to change it silently."""
    from kiosk.flows.fault_report import FaultLedger

    path = tmp_path / "faults.json"
    led = FaultLedger(path, None, device_id="SX-T-0001", site="s", fsync=False)
    ids = [led.create("system", ["屏幕没反应"], f"第{i}台").local_id for i in range(3)]
    led.close()
    raw = path.read_bytes()
    i = raw.index(ids[1].encode()) + len(ids[1]) - 1  # the last character of the second report's number
    path.write_bytes(raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1:])
    for backup in tmp_path.glob("faults.json.bak"):
        backup.unlink()  # no second copy to fall back on: the loss must be reported, not hidden
    led = FaultLedger(path, None, device_id="SX-T-0001", site="s", fsync=False)
    try:
        kept = [i for i in ids if led.get(i) is not None]
        assert kept == [ids[0], ids[2]]
        assert len(led.records()) == 2  # the changed report is not shown under a wrong number
        assert led.recovery is not None and led.recovery.lost == 1
    finally:
        led.close()


def test_a_store_cut_cleanly_between_two_records_reports_the_possible_loss(tmp_path):
    """Cut right after a whole record, the tail (the newest report) vanished without a word (bench/faults.py)."""
    from kiosk.flows.fault_report import FaultLedger

    path = tmp_path / "faults.json"
    led = FaultLedger(path, None, device_id="SX-T-0001", site="s", fsync=False)
    ids = [led.create("system", ["屏幕没反应"], f"第{i}台").local_id for i in range(3)]
    led.close()
    raw = path.read_text(encoding="utf-8")
    cut = raw.index(',"3":{')  # just after the second report's closing brace
    path.write_text(raw[:cut], encoding="utf-8")
    led = FaultLedger(path, None, device_id="SX-T-0001", site="s", fsync=False)
    try:
        kept = [i for i in ids if led.get(i) is not None]
        assert len(kept) == 2 and ids[2] not in kept
        assert led.recovery is not None and led.recovery.lost >= 1  # said, not silent
    finally:
        led.close()
