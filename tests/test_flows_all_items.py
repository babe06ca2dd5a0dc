"""All 40 items through the flow engine against the real platform simulator on loopback.

One simulator per module (fixed data date, fresh state), one outbox in a temp
dir. For every item: a resident who qualifies (the record the platform stored,
or the table shown, and the receipt's printed lines) and one who does not (the
guide's refusal, nothing stored). Residents are picked from the simulator's
own seeded data (/admin/residents/sample) by the facts a tester would check.
"""

from __future__ import annotations

import dataclasses

import datetime as _dt
import io
from typing import Any, Callable

import pytest
from PIL import Image

from kiosk.flows.catalog import load_catalog
from kiosk.flows.card_notes import BANK_REMINDER_ZH
from kiosk.flows.driver import drive
from kiosk.flows.engine import ServiceFlow
from kiosk.flows.site import Site
from kiosk.flows.step import APPLICATION, COUNTER_MODE, ENQUIRY, mode_of
from kiosk.core.idnumber import make_id, mask_id
from kiosk.core.person import Person
from kiosk.hardware.escpos_render import decode, decoded_lines
from kiosk.platform.outbox import Outbox
from kiosk.receipts import render_receipt

from platform_support import TODAY, admin, client, sample, sim, submissions  # noqa: F401 - sim: fixture

CATALOG = load_catalog()
DAY = _dt.date.fromisoformat(TODAY)
SITE = Site("示范村便民服务站", "SX-TEST-0001", "临县", "0358-4466038", "临县城庄镇便民服务中心", "临县城庄镇政府院内")
UNKNOWN_ID = make_id("110101", _dt.date(1980, 1, 1), 7)   # valid check character, no such resident


@pytest.fixture(scope="module")
def platform(sim):
    p = client(sim.url)
    yield p
    p.close()


@pytest.fixture(scope="module")
def outbox(platform, tmp_path_factory):
    ob = Outbox(tmp_path_factory.mktemp("flows") / "outbox.json", platform, backoff_base=0.05, fsync=False)
    yield ob
    ob.close()


@pytest.fixture(scope="module")
def people(sim):
    return sample(sim.url, 3000)


class Picker:
    def __init__(self, people: list[dict[str, Any]]) -> None:
        self.people = people
        self.used: set[str] = set()

    def __call__(self, pred: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        for p in self.people:
            if p["id_number"] not in self.used and pred(p):
                self.used.add(p["id_number"])
                return p
        raise LookupError("no such resident in the seeded data")


@pytest.fixture(scope="module")
def pick(people):
    return Picker(people)


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 160)).save(buf, "JPEG")
    return buf.getvalue()


def q(n): return lambda p: n in p["qualifies"]
def nq(n): return lambda p: n not in p["qualifies"] and p["age"] >= 16
def rec(n): return lambda p: n in p["has_records_for"]
def nrec(n): return lambda p: n not in p["has_records_for"] and p["age"] >= 16
def reg(r): return lambda p: r in p["registrations"]
def nreg(r): return lambda p: r not in p["registrations"] and p["age"] >= 16
def child(p): return p["age"] < 16
def adult(p): return 18 <= p["age"] < 60
def anyone(p): return p["age"] >= 16
def card(state): return lambda p: p["card_state"] == state
def both(*preds): return lambda p: all(f(p) for f in preds)


PHONE = "13912345678"
CERT_OK = {"certificate_no": "ZS2026000123", "certificate_level": "中级（四级）", "occupation": "电工",
           "certificate_date": str(DAY - _dt.timedelta(days=30)), "phone": PHONE}

# item: (positive resident, positive answers, negative resident, negative answers, negative kind)
# negative kind: "rule" = refused by the catalog rule before/after the form (guide's words),
# "platform" = refused by the platform (its rule), "unknown" = resident unknown to the platform.
CASES: dict[int, tuple] = {
    1: (both(q(1), adult), {"phone": PHONE, "job_type": "电工", "work_place": "临县", "expected_pay": "3500", "education": "初中"},
        child, {"phone": PHONE, "job_type": "电工", "work_place": "临县", "expected_pay": "3500", "education": "初中"}, "platform"),
    2: (reg("fixed_seeker"), {}, nreg("fixed_seeker"), {}, "rule"),
    3: (reg("fixed_seeker"), {"filters": {"township": "", "type": "电工", "min_pay": ""}}, nreg("fixed_seeker"), {}, "rule"),
    4: (both(q(4), adult), {"phone": PHONE, "job_type": "搬运装卸", "work_place": "临县", "expected_pay": "150", "available_time": "农闲时"},
        child, {"phone": PHONE, "job_type": "搬运", "work_place": "临县", "expected_pay": "150", "available_time": "随时"}, "platform"),
    5: (reg("gig_seeker"), {}, nreg("gig_seeker"), {}, "rule"),
    6: (reg("gig_seeker"), {}, nreg("gig_seeker"), {}, "rule"),
    7: (both(q(7), adult), {"phone": PHONE, "job_type": "红枣采摘", "work_place": "临县城庄镇", "headcount": "5", "pay": "150",
                            "start_date": str(DAY + _dt.timedelta(days=7)), "duration_days": "10"},
        adult, {"phone": PHONE, "job_type": "搬运工（限男）", "work_place": "临县", "headcount": "2", "pay": "150",
                "start_date": str(DAY + _dt.timedelta(days=7)), "duration_days": "3"}, "platform"),
    8: (reg("gig_employer"), {}, nreg("gig_employer"), {}, "rule"),
    9: (anyone, {}, None, {}, "unknown"),
    10: (q(10), {"phone": PHONE, "employment_type": "新就业形态", "start_date": "2026-03-01"},
         nq(10), {"phone": PHONE, "employment_type": "临时工", "start_date": "2026-03-01"}, "platform"),
    11: (q(11), {"phone": PHONE, "reason": "从用人单位失业", "unemployed_since": "2026-05-01"},
         child, {}, "rule"),
    12: (anyone, {}, None, {}, "unknown"),
    13: (rec(13), {}, nrec(13), {}, "rule"),
    14: (anyone, {}, None, {}, "unknown"),
    15: (rec(15), {}, nrec(15), {}, "platform"),
    16: (q(16), {"phone": PHONE, "group": "农村转移就业劳动者", "training_type": "电工"},
         child, {}, "rule"),
    17: (rec(17), {}, nrec(17), {}, "rule"),
    18: (rec(18), {}, nrec(18), {}, "rule"),
    19: (rec(18), {}, nrec(18), {}, "rule"),
    20: (q(20), {"phone": PHONE, "base_percent": "100", "payment_period": "按年"}, child, {}, "rule"),
    21: (both(q(21), lambda p: 26 in p["has_records_for"] or 36 in p["has_records_for"]), {"phone": PHONE},
         lambda p: p["age"] >= 16 and 26 not in p["has_records_for"] and 36 not in p["has_records_for"], {"phone": PHONE}, "rule"),
    22: (q(22), CERT_OK, q(22), {**CERT_OK, "certificate_date": str(DAY - _dt.timedelta(days=800))}, "rule"),
    23: (q(23), {"separation_date": "2026-04-30", "separation_reason": "劳动合同期满终止", "phone": PHONE},
         lambda p: 23 not in p["qualifies"] and p["employment"] == "employed", {"separation_date": "2026-04-30",
                                                                               "separation_reason": "劳动合同期满终止", "phone": PHONE}, "platform"),
    24: (adult, {"relation": "家属", "beneficiary_id": "@rec26", "reason": "死亡", "event_date": "2026-06-01", "phone": PHONE},
         adult, {"relation": "家属", "beneficiary_id": "@nrec26", "reason": "死亡", "event_date": "2026-06-01", "phone": PHONE}, "rule"),
    25: (rec(25), {}, nrec(25), {}, "rule"),
    26: (rec(26), {}, nrec(26), {}, "rule"),
    27: (rec(27), {}, nrec(27), {}, "rule"),
    28: (both(q(28), lambda p: 25 not in p["has_records_for"] and 33 not in p["has_records_for"]), {"phone": PHONE},
         both(rec(25), lambda p: 33 not in p["has_records_for"]), {}, "rule"),
    29: (both(rec(33), lambda p: p["age"] < 65), {"phone": PHONE}, nrec(33), {}, "rule"),
    30: (rec(33), {"change_item": "联系电话", "new_value": "13700001111", "phone": PHONE}, nrec(33), {}, "rule"),
    31: (rec(33), {"action": "暂停缴费", "reason": "其他", "phone": PHONE}, nrec(33), {}, "rule"),
    32: (both(rec(33), q(32)), {"reason": "参保后有缴费中断", "years": "3", "phone": PHONE}, nrec(33), {}, "rule"),
    33: (rec(33), {}, nrec(33), {}, "rule"),
    34: (both(q(34), rec(33)), {"phone": PHONE}, lambda p: 16 <= p["age"] < 60, {}, "rule"),
    35: (both(q(35), rec(33), rec(36)), {"phone": PHONE}, lambda p: 16 <= p["age"] < 65, {}, "rule"),
    36: (rec(36), {}, nrec(36), {}, "rule"),
    37: (adult, {"relation": "家属", "beneficiary_id": "@rec36", "reason": "死亡", "event_date": "2026-06-01", "phone": PHONE},
         adult, {"relation": "家属", "beneficiary_id": "@nrec36", "reason": "死亡", "event_date": "2026-06-01", "phone": PHONE}, "rule"),
    38: (card("not_activated"), {}, card("normal"), {}, "rule"),
    39: (anyone, {}, None, {}, "unknown"),
    40: (card("normal"), {"action": "临时挂失"}, card("in_production"), {"action": "临时挂失"}, "rule"),
}


def test_every_item_has_a_case():
    assert sorted(CASES) == list(range(1, 41))


def _resolve(answers: dict[str, Any], pick: Picker) -> dict[str, Any]:
    out = dict(answers)
    for k, v in answers.items():
        if isinstance(v, str) and v.startswith("@"):
            kind, n = v[1:].split("rec")
            out[k] = pick((nrec if kind == "n" else rec)(int(n)))["id_number"]
    return out


def receipt_text(receipt) -> str:
    lines = decoded_lines(decode(render_receipt(receipt)))
    return "".join(lines).replace(" ", "")


def run(item_no, id_number, answers, platform, outbox, photo=None):
    steps = []
    code, last = drive(CATALOG.by_no(item_no), Person(id_number, "", "idcard"), platform, outbox, SITE, answers,
                       emit=steps.append, today=DAY, photo=photo)
    return code, last, steps


@pytest.mark.parametrize("item_no", sorted(CASES))
def test_item_qualifying_resident(item_no, sim, platform, outbox, pick):
    pos, answers, *_ = CASES[item_no]
    item = CATALOG.by_no(item_no)
    person = pick(pos)
    rid = person["id_number"]
    answers = _resolve(answers, pick)
    before = {s["acceptance_no"] for s in submissions(sim.url)}
    code, last, steps = run(item_no, rid, answers, platform, outbox, photo=jpeg() if item.requires_photo else None)
    assert code == 0, [s.to_dict() for s in steps]
    mode = mode_of(item)
    stored = [s for s in submissions(sim.url) if s["acceptance_no"] not in before]
    text = receipt_text(last.receipt)
    assert item.name in text
    assert mask_id(rid) in text
    assert rid not in text and rid[6:14] not in text
    if mode == APPLICATION:
        assert last.outcome == "accepted"
        assert [s["acceptance_no"] for s in stored] == [last.reference]
        rec_ = stored[0]
        assert rec_["item_no"] == item_no and rec_["id_number"] == rid
        for f in item.fields:
            assert f.name in rec_["fields"]
        assert last.reference in text
        confirm = next(s for s in steps if s.kind == "confirm")
        assert ("身份证号", mask_id(rid)) in confirm.summary
        # The status line agrees with the platform's message (an instant item is 已办结, not 已受理).
        result = next(s for s in steps if s.kind == "result")
        status = dict(result.summary)["办理状态"]
        assert status == ("已办结" if "即时办结" in result.message_zh else "已受理"), (status, result.message_zh)
        assert status in text or "认证信息已受理" in text
        # The phone number is masked on the confirm page and the receipt (middle four digits).
        if "phone" in answers:
            assert PHONE[:3] + "****" + PHONE[-4:] in dict(confirm.summary).values()
            assert all(PHONE not in v for _k, v in confirm.summary) and PHONE not in text
        if item.requires_photo:
            assert rec_["photo_id"]
    elif mode == ENQUIRY:
        assert stored == []
        result = next(s for s in steps if s.kind == "result")
        assert result.table is not None and result.table.total > 0 and result.table.rows
        printed = last.receipt.columns
        assert printed and printed[0] in text
        assert last.receipt.rows[0][0].replace(" ", "")[:2] in text
    else:
        assert mode == COUNTER_MODE
        assert stored == [] and last.outcome == "counter"
        assert "一次性告知单" in text
        counter = next(s for s in steps if s.kind == "counter")
        assert any(label == "办理地点" for label, _ in counter.summary)
        assert "临县城庄镇便民服务中心" in text and "0358-4466038" in text
        assert last.receipt.materials and last.receipt.materials[0].replace(" ", "")[:6] in text
        if item.fields:
            assert "预填" in text


@pytest.mark.parametrize("item_no", sorted(CASES))
def test_item_resident_who_does_not_qualify(item_no, sim, platform, outbox, pick):
    _, _, neg, answers, how = CASES[item_no]
    item = CATALOG.by_no(item_no)
    rid = UNKNOWN_ID if neg is None else pick(neg)["id_number"]
    answers = _resolve(answers, pick)
    before = len(submissions(sim.url))
    code, last, steps = run(item_no, rid, answers, platform, outbox, photo=jpeg() if item.requires_photo else None)
    assert code == 1, [s.to_dict() for s in steps]
    assert last.kind == "refused" and last.outcome == "refused" and last.message_zh
    assert rid not in last.message_zh
    if how == "rule":
        assert last.message_zh in {r.message for r in item.rules}
    elif how == "unknown":
        assert "未查询到" in last.message_zh
    assert len(submissions(sim.url)) == before
    if how == "rule" and not any(r.rule == "certificate_within_months" or r.applies_to for r in item.rules):
        assert not any(s.kind in ("form", "confirm") for s in steps), "refused before anything is filled in"


def test_browse_filters_and_paging(platform, outbox, pick):
    p = pick(reg("fixed_seeker"))
    flow = ServiceFlow(CATALOG.by_no(3), Person(p["id_number"], "", "idcard"), platform, outbox, site=SITE, today=DAY)
    step = flow.start()
    assert step.kind == "result" and step.table.pages > 1 and "page" in step.actions
    total = step.table.total
    step2 = flow.page(2)
    assert step2.table.page == 2 and step2.table.rows[0]["job_id"] != step.table.rows[0]["job_id"]
    step3 = flow.filter(township="临县", min_pay="4000")
    assert 0 < step3.table.total < total
    for row in step3.table.rows:
        assert row["county"] == "临县" and int(row["salary"].split("-")[0]) >= 4000
    assert ("筛选条件", "临县、4000元以上") in step3.summary


def test_gig_seekers_are_masked(platform, outbox, pick):
    p = pick(reg("gig_employer"))
    flow = ServiceFlow(CATALOG.by_no(8), Person(p["id_number"], "", "idcard"), platform, outbox, site=SITE, today=DAY)
    step = flow.start()
    assert step.kind == "result" and step.table.rows
    for row in step.table.rows:
        assert row["name"][1:] and set(row["name"][1:]) == {"*"}


def test_card_temporary_loss_shows_unlock_date_and_bank_reminder(sim, platform, outbox, pick):
    p = pick(card("normal"))
    code, last, steps = run(40, p["id_number"], {"action": "临时挂失"}, platform, outbox)
    assert code == 0
    confirm = next(s for s in steps if s.kind == "confirm")
    until = DAY + _dt.timedelta(days=7)
    assert f"{until.year}年{until.month}月{until.day}日后自动解挂" in "".join(confirm.notes_zh)
    assert BANK_REMINDER_ZH in confirm.notes_zh
    text = receipt_text(last.receipt)
    assert "自动解挂" in text and "银行" in text
    stored = [s for s in submissions(sim.url) if s["acceptance_no"] == last.reference][0]
    assert stored["fields"]["action"] == "temp_loss"
    # The status enquiry now shows the loss and the day it ends by itself.
    code, last39, steps39 = run(39, p["id_number"], {}, platform, outbox)
    result = next(s for s in steps39 if s.kind == "result")
    assert ("社保卡状态", "临时挂失") in result.summary
    assert any(f"{until.year}年{until.month}月{until.day}日自动解挂" in n for n in result.notes_zh)


def test_card_in_production_shows_progress(platform, outbox, pick):
    p = pick(card("in_production"))
    code, last, steps = run(39, p["id_number"], {}, platform, outbox)
    result = next(s for s in steps if s.kind == "result")
    assert ("办卡进度", "已申领 → 【制卡中】 → 已领卡 → 社保功能已启用") in result.summary


def test_offline_submission_is_stored_and_sent_later(sim, platform, outbox, pick):
    p = pick(both(q(4), adult))
    item = CATALOG.by_no(4)
    flow = ServiceFlow(item, Person(p["id_number"], "", "idcard"), platform, outbox, site=SITE, today=DAY, submit_wait=3)
    assert flow.start().kind == "form"
    for k, v in CASES[4][1].items():
        assert flow.set_field(k, v) is None
    assert flow.next().kind == "confirm"
    admin(sim.url, "POST", "/admin/fault-injection", json={"outage": True})
    try:
        step = flow.confirm()
    finally:
        admin(sim.url, "POST", "/admin/fault-injection", json={"outage": False})
    assert step.kind == "result" and step.outcome == "queued" and step.reference.startswith("L")
    text = receipt_text(step.receipt)
    assert "已暂存，网络恢复后自动提交" in text and step.reference in text
    outbox.kick()
    assert outbox.drain(20)
    stored = [s for s in submissions(sim.url) if s["id_number"] == p["id_number"] and s["item_no"] == 4]
    assert len(stored) == 1


def test_platform_down_at_start_is_an_error_step_with_retry(sim, platform, outbox, pick):
    p = pick(rec(26))
    flow = ServiceFlow(CATALOG.by_no(26), Person(p["id_number"], "", "idcard"), platform, outbox, site=SITE, today=DAY)
    admin(sim.url, "POST", "/admin/fault-injection", json={"outage": True})
    try:
        step = flow.start()
    finally:
        admin(sim.url, "POST", "/admin/fault-injection", json={"outage": False})
    assert step.kind == "error" and step.can_retry and "retry" in step.actions
    assert "网络" in step.message_zh
    step = flow.retry()
    assert step.kind == "result" and step.table.total > 0


def test_form_errors_show_beside_fields_and_block_next(platform, outbox, pick):
    p = pick(q(11))
    flow = ServiceFlow(CATALOG.by_no(11), Person(p["id_number"], "", "idcard"), platform, outbox, site=SITE, today=DAY)
    assert flow.start().kind == "form"
    assert flow.set_field("phone", "1380000") == "手机号码应为11位，您输入了7位。"
    assert flow.set_field("unemployed_since", "2026-02-30") is not None
    step = flow.next()
    # The summary says what to do and names the fields; an empty choice says 请选择, not 改正.
    assert step.kind == "form" and "改正" not in step.message_zh
    assert step.message_zh == "还有3项没填好：联系电话、失业情形、失业日期。请按下面的红字填写。"
    errs = {f.name: f.error_zh for f in step.fields}
    assert errs["phone"] and errs["unemployed_since"] and errs["reason"] == "请选择失业情形。"
    assert flow.back().kind == "form"   # nothing before the form to go back to


def test_application_continues_offline_when_platform_is_down_at_start(sim, platform, outbox, pick):
    p = pick(both(q(10), adult))
    flow = ServiceFlow(CATALOG.by_no(10), Person(p["id_number"], "", "idcard"), platform, outbox, site=SITE, today=DAY,
                       submit_wait=2)
    admin(sim.url, "POST", "/admin/fault-injection", json={"outage": True})
    try:
        step = flow.start()
        assert step.kind == "form" and flow.offline
        for k, v in CASES[10][1].items():
            assert flow.set_field(k, v) is None
        step = flow.next()
        assert step.kind == "confirm" and any("网络暂时不通" in n for n in step.notes_zh)
        step = flow.confirm()
        assert step.outcome == "queued"
    finally:
        admin(sim.url, "POST", "/admin/fault-injection", json={"outage": False})
    outbox.kick()
    assert outbox.drain(20)
    assert outbox.get(step.reference).state == "delivered"
    assert [s["item_no"] for s in submissions(sim.url) if s["id_number"] == p["id_number"]] == [10]


def test_certification_photo_must_be_a_jpeg(platform, outbox, pick):
    p = pick(both(q(21), lambda r: 26 in r["has_records_for"] or 36 in r["has_records_for"]))
    flow = ServiceFlow(CATALOG.by_no(21), Person(p["id_number"], "", "idcard"), platform, outbox, site=SITE, today=DAY)
    step = flow.start()
    assert step.kind == "photo" and step.actions == ["set_photo"]
    assert flow.next().message_zh == "请先拍照。"
    assert flow.set_photo(b"\x89PNG....").message_zh == "照片格式不对，请重新拍照。"
    step = flow.set_photo(jpeg())
    assert step.kind == "form" and step.can_back
    assert flow.back().kind == "photo"


def test_item_behaviour_comes_from_the_catalog_data(platform, outbox, pick):
    """The engine reads what is special about an item from its catalog ``flow``: the same item with
    other data behaves otherwise (nothing keyed by item number in the code)."""
    p = pick(card("normal"))
    item = CATALOG.by_no(40)
    other = dataclasses.replace(item, flow=dataclasses.replace(
        item.flow, card_loss_notes=False, result_notes=("测试备注：本条来自目录数据。",), follow_ups=(39,)))
    code, last = drive(other, Person(p["id_number"], "", "idcard"), platform, outbox, SITE, {"action": "正式挂失"},
                       today=DAY)
    assert code == 0
    assert BANK_REMINDER_ZH not in last.receipt.notes
    assert "测试备注：本条来自目录数据。" in receipt_text(last.receipt)
    flow = ServiceFlow(CATALOG.by_no(9), Person(pick(reg("gig_employer"))["id_number"], "", "idcard"), platform,
                       outbox, site=SITE, today=DAY)
    assert [f.name for f in flow.start().filters] == ["township", "type"]  # seekers state no pay
    by_pay = dataclasses.replace(flow.item, flow=dataclasses.replace(
        flow.item.flow, filters=("township", "type", "min_pay"), pay_column="pay"))
    flow = ServiceFlow(by_pay, flow.person, platform, outbox, site=SITE, today=DAY)
    step = flow.start()
    assert step.kind == "result" and [f.name for f in step.filters] == ["township", "type", "min_pay"]
    assert flow.filter(min_pay="999999999").table.total == 0  # the pay filter now reads the data's column


def test_refusal_offers_what_to_do_instead(platform, outbox, pick):
    p = pick(nreg("fixed_seeker"))
    code, last, _ = run(2, p["id_number"], {}, platform, outbox)
    assert code == 1 and last.related == [1]          # 请先办理“固定工求职登记”
    p = pick(both(q(1), adult))
    code, last, steps = run(1, p["id_number"], CASES[1][1], platform, outbox)
    result = next(s for s in steps if s.kind == "result")
    assert result.related == [2, 3]
    code, last, steps = run(2, p["id_number"], {}, platform, outbox)   # now registered: recommendations
    result = next(s for s in steps if s.kind == "result")
    assert code == 0 and result.table.total > 0


def test_card_unlock_after_formal_loss(sim, platform, outbox, pick):
    p = pick(card("lost"))
    code, last, steps = run(40, p["id_number"], {"action": "解除挂失"}, platform, outbox)
    assert code == 0 and last.outcome == "accepted"
    confirm = next(s for s in steps if s.kind == "confirm")
    assert BANK_REMINDER_ZH not in confirm.notes_zh
    stored = [s for s in submissions(sim.url) if s["acceptance_no"] == last.reference][0]
    assert stored["fields"]["action"] == "unlock"
    code, last39, steps39 = run(39, p["id_number"], {}, platform, outbox)
    assert ("社保卡状态", "正常（社保功能已启用）") in next(s for s in steps39 if s.kind == "result").summary


def test_refused_visit_never_ends_with_done_and_says_what_next(platform, outbox, pick):
    """After a refusal, the last screen says it did not work out and what to do next (issue 17, point 3)."""
    p = pick(nq(3))  # not a registered job seeker: item 3 is refused with a link to item 1
    flow = ServiceFlow(CATALOG.by_no(3), Person(p["id_number"], "", "idcard"), platform, outbox, site=SITE, today=DAY)
    refused = flow.start()
    assert refused.kind == "refused"
    done = flow.finish()
    assert done.kind == "done" and done.outcome == "refused"
    assert "办理完成" not in done.message_zh and done.message_zh.startswith("本次没有办成。")
    assert refused.message_zh in done.message_zh and done.related == refused.related == [1]
    assert any("咨询" in n for n in done.notes_zh)


def test_money_label_does_not_repeat_the_unit(platform, outbox, pick):
    p = pick(q(1))
    flow = ServiceFlow(CATALOG.by_no(1), Person(p["id_number"], "", "idcard"), platform, outbox, site=SITE, today=DAY)
    assert flow.start().kind == "form"
    for name, value in (("phone", "13912345678"), ("job_type", "电工"), ("work_place", "临县"),
                        ("expected_pay", "3000"), ("education", "初中")):
        assert flow.set_field(name, value) is None
    step = flow.next()
    assert step.kind == "confirm"
    assert ("期望月薪", "3000元") in step.summary and not any("（元）" in k for k, _v in step.summary)


def test_enquiry_receipt_prints_every_record_with_period_and_yuan(platform, outbox, pick):
    """Issue 17 point 8: the receipt held only the page on screen (10 of 19 payments)."""
    from kiosk.hardware.escpos_render import decode, decoded_lines
    from kiosk.receipts import render_receipt

    for _ in range(40):
        p = pick(rec(26))
        flow = ServiceFlow(CATALOG.by_no(26), Person(p["id_number"], "", "idcard"), platform, outbox, site=SITE,
                           today=DAY)
        step = flow.start()
        if step.kind == "result" and step.table.pages > 1:
            break
    else:
        pytest.skip("no seeded pensioner with more than one page of payments")
    total = step.table.total
    assert len(step.receipt.rows) == len(step.table.rows) < total  # the page on screen
    full = flow.receipt_all()
    assert len(full.rows) == total
    fields = dict(full.fields)
    assert fields["记录"] == f"共{total}条，全部列在下面" and "至" in fields["查询期间"]
    assert "金额" in full.columns and all(r[full.columns.index("金额")].endswith("元") for r in full.rows)
    text = "\n".join(decoded_lines(decode(render_receipt(full))))
    assert "（元）：" not in text and "元元" not in text
