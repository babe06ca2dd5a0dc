"""Privacy on realistic paths: no full ID number, name, phone or photo bytes
reaches a log line, a receipt or a stored file once the submission is delivered.

Several service items run end to end through the flow engine against the real
platform simulator on loopback, with every logger at DEBUG. Then every captured
log line, every printed receipt and every file in the storage directory
(outbox, its backup, the photo folder) is searched for the residents' data.
"""

from __future__ import annotations

import datetime as _dt
import io
import logging

from PIL import Image

from kiosk.flows.catalog import load_catalog
from kiosk.flows.driver import drive
from kiosk.flows.site import Site
from kiosk.core.person import Person
from kiosk.hardware.escpos_render import decode, decoded_lines
from kiosk.platform.outbox import Outbox
from kiosk.receipts import render_receipt

from tests.platform_support import TODAY, client, sample, sim  # noqa: F401 - the module's simulator

CATALOG = load_catalog()
DAY = _dt.date.fromisoformat(TODAY)
SITE = Site("示范村便民服务站", "SX-TEST-0001", "临县", "0358-4466038", "临县城庄镇便民服务中心", "临县城庄镇政府院内")
PHONE = "13912345678"


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (201, 180, 160)).save(buf, "JPEG")
    return buf.getvalue()


def _secrets(person: dict) -> list[str]:
    return [person["id_number"], person["name"]]


def test_no_personal_data_in_logs_receipts_or_files_after_delivery(sim, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    people = sample(sim.url, 3000)
    used: set[str] = set()

    def pick(pred):
        for p in people:
            if p["id_number"] not in used and len(p["name"]) >= 2 and pred(p):
                used.add(p["id_number"])
                return p
        raise LookupError

    # item: (who, answers) — registrations, certification with a photo, enquiries, a card action
    cases = [
        (1, lambda p: 1 in p["qualifies"] and 18 <= p["age"] < 60,
         {"phone": PHONE, "job_type": "电工", "work_place": "临县", "expected_pay": "3500", "education": "初中"}),
        (11, lambda p: 11 in p["qualifies"], {"phone": PHONE, "reason": "从用人单位失业", "unemployed_since": "2026-05-01"}),
        (21, lambda p: 21 in p["qualifies"] and (26 in p["has_records_for"] or 36 in p["has_records_for"]),
         {"phone": PHONE}),
        (26, lambda p: 26 in p["has_records_for"], {}),
        (40, lambda p: p["card_state"] == "normal", {"action": "临时挂失"}),
    ]
    platform = client(sim.url)
    outbox = Outbox(tmp_path / "outbox.json", platform, backoff_base=0.05, fsync=False)
    secrets: list[str] = [PHONE]
    photo = _jpeg()
    receipts: list[bytes] = []
    try:
        for no, pred, answers in cases:
            resident = pick(pred)
            secrets += _secrets(resident)
            person = Person(resident["id_number"], resident["name"], "idcard")
            code, last = drive(CATALOG.by_no(no), person, platform, outbox, SITE, answers, today=DAY,
                               photo=photo if CATALOG.by_no(no).requires_photo else None)
            assert code == 0, (no, last.to_dict())
            if last.receipt is not None:
                receipts.append(render_receipt(last.receipt))
        assert outbox.drain(20)
    finally:
        outbox.close()
        platform.close()

    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) > 20
    for secret in secrets:
        assert not [ln for ln in lines if secret in ln], f"{secret[:1]}… in a log line"
    for job in receipts:
        printed = "".join(decoded_lines(decode(job))).replace(" ", "")
        assert "*" in printed  # the masked ID number is there
        for secret in secrets:
            assert secret not in printed and secret.encode("gb18030") not in job
    files = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.name == "outbox.json" for f in files)
    for f in files:
        data = f.read_bytes()
        assert photo not in data, f.name
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:1]}… still stored in {f.name} after delivery"


def test_fault_report_scrubs_suggestion_phrases_and_selftest_details(sim, tmp_path):
    from kiosk.flows.fault_report import FaultLedger
    from kiosk.core.idnumber import make_id
    from kiosk.selftest import CheckResult

    rid, name = make_id("141124", _dt.date(1952, 3, 12), 1), "张德明"
    checks = [CheckResult("idcard", False, "fail", "读卡失败", f"card {rid} of {name}: nation code 99", 0.1)]
    platform = client(sim.url)
    ledger = FaultLedger(tmp_path / "faults.json", platform, device_id="SX-TEST-0001", site="示范村", fsync=False)
    try:
        rec = ledger.report("system", ["身份证读不出", f"{rid}读不出"], "", f"请联系{PHONE}，证号{rid}",
                            selftest=checks, names=[name])
        assert rec.state == "sent"
    finally:
        ledger.close()
        platform.close()
    stored = b"".join(f.read_bytes() for f in tmp_path.rglob("*") if f.is_file())
    for secret in (rid, name, PHONE):
        assert secret not in rec.description, secret[:1]
        assert secret.encode() not in stored, secret[:1]
    assert "141***********" in rec.description


def test_reprs_of_records_holding_personal_data_hide_it():
    from kiosk.core.idnumber import make_id
    from kiosk.flows.rules import ResidentFacts
    from kiosk.hardware.idcard_protocol import parse_read_data
    from kiosk.hardware.idcard_sim import SYNTHETIC_RESIDENTS
    from kiosk.hardware.idcard_text import encode_text
    from kiosk.hardware.idcard_protocol import encode_read_data

    rid = make_id("141124", _dt.date(1952, 3, 12), 1)
    assert rid not in repr(ResidentFacts(rid, "normal"))
    card = SYNTHETIC_RESIDENTS[0]
    read = parse_read_data(encode_read_data(encode_text(card), card.photo))
    text = repr(read)
    assert card.id_number not in text and repr(card.photo[:8])[2:-1] not in text
    assert repr(encode_text(card)[:16])[2:-1] not in text   # the UCS-2 name bytes


def _assert_no_secrets(lines: list[str], secrets: list[str]) -> None:
    assert lines
    for secret in filter(None, secrets):
        assert not [ln for ln in lines if secret in ln], f"{secret[:1]}… in a log line"


def test_idcard_driver_logs_no_personal_data(caplog):
    from tests.test_idcard_reader import Events
    from kiosk.hardware.idcard_reader import IdCardReader
    from kiosk.hardware.idcard_sim import SYNTHETIC_RESIDENTS, IdCardSimulator

    caplog.set_level(logging.DEBUG)
    with IdCardSimulator() as sim:
        reader = IdCardReader(sim.port, poll_interval=0.05, timeout=0.5, max_backoff=0.2)
        events = Events(reader)
        reader.start()
        try:
            events.expect("status", "online")
            for i in range(len(SYNTHETIC_RESIDENTS)):
                sim.insert(i)
                events.expect("read")
                sim.remove()
                events.expect("removed")
        finally:
            reader.close()
    secrets = [s for c in SYNTHETIC_RESIDENTS for s in (c.id_number, c.name, c.english_name, c.address)]
    _assert_no_secrets([r.getMessage() for r in caplog.records], secrets)


def test_sscard_driver_logs_no_personal_data(caplog):
    from tests.test_sscard_reader import Events
    from kiosk.hardware.pcsc_stack import ensure_pcscd, wait_card_state
    from kiosk.hardware.sscard_reader import SsCardReader
    from kiosk.hardware.sscard_sim import SYNTHETIC_HOLDERS, VirtualSsCard

    caplog.set_level(logging.DEBUG)
    ensure_pcscd()
    card = VirtualSsCard.on_free_slot(SYNTHETIC_HOLDERS[0], timeout=60)
    try:
        assert wait_card_state(card.reader, present=False, timeout=10)
        reader = SsCardReader(card.reader, poll_interval=0.1)
        events = Events(reader)
        reader.start()
        try:
            for holder in SYNTHETIC_HOLDERS:
                card.holder = holder
                card.insert()
                events.expect("inserted")
                assert events.next()[0] in ("read", "error")  # one synthetic card is expired: logged too
                card.remove()
                events.expect("removed")
        finally:
            reader.close()
    finally:
        card.close()
    secrets = [s for h in SYNTHETIC_HOLDERS for s in (h.ssn, h.name, h.card_number)]
    _assert_no_secrets([r.getMessage() for r in caplog.records], secrets)
