"""The simulator applies the guides' rules and the platform's security, seen through the real client."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import httpx
import pytest

from kiosk.platform import signing
from kiosk.platform.adapter import AuthError, BadResponse, Refused, Timeout, Unreachable
from tests.platform_support import DEVICE, SECRET, admin, client, platform, sample, sim, submissions  # noqa: F401

TODAY = dt.date(2026, 6, 15)


@pytest.fixture(scope="module")
def people(sim):
    return sample(sim.url, 600)


def pick(people, pred, used=set()):
    for p in people:
        if p["id_number"] not in used and pred(p):
            used.add(p["id_number"])
            return p
    pytest.skip("no resident with these facts in the sample")


def key() -> str:
    return uuid.uuid4().hex


def refused(platform, item, pid, fields=None, **kw) -> Refused:
    with pytest.raises(Refused) as exc:
        platform.submit(item, pid, fields or {}, key(), **kw)
    return exc.value


def test_resident_pension_claim_needs_60_and_15_years(platform, people):
    young = pick(people, lambda p: p["age"] < 60 and p["resident_pension"]["enrolled"] and not p["resident_pension"]["receiving"])
    assert "年满60周岁" in refused(platform, 34, young["id_number"]).reason_zh
    short = pick(people, lambda p: p["age"] >= 60 and p["resident_pension"]["enrolled"]
                 and p["resident_pension"]["years"] < 15 and not p["resident_pension"]["receiving"])
    err = refused(platform, 34, short["id_number"])
    assert err.code == "not_eligible" and "累计缴纳养老保险费满15年" in err.reason_zh
    ok = pick(people, lambda p: 34 in p["qualifies"])
    acc = platform.submit(34, ok["id_number"], {}, key())
    assert acc.status == "accepted" and acc.acceptance_no.startswith("SX")
    assert acc.expected_completion > TODAY  # 2 working days, not counting the day of application


def test_resident_pension_registration_age_16_and_not_student(platform, people):
    child = pick(people, lambda p: p["age"] < 16)
    assert "年满16周岁" in refused(platform, 28, child["id_number"]).reason_zh
    student = pick(people, lambda p: p["student"] and p["age"] >= 16)
    assert "不含在校学生" in refused(platform, 28, student["id_number"]).reason_zh


def test_skill_subsidy_rules(platform, people):
    cert = str(TODAY - dt.timedelta(days=30))
    few = pick(people, lambda p: p["employment"] == "employed" and p["unemployment_insurance_months"] < 36)
    assert "缴费满3年" in refused(platform, 22, few["id_number"], {"occupation": "电工", "level": "初级", "certificate_date": cert}).reason_zh
    p = pick(people, lambda p: 22 in p["qualifies"])
    old = str(TODAY - dt.timedelta(days=400))
    assert "核发一年内" in refused(platform, 22, p["id_number"], {"occupation": "电工", "level": "初级", "certificate_date": old}).reason_zh
    amounts = []
    for occ, level in (("茶艺师", "初级"), ("茶艺师", "中级"), ("插花员", "高级")):
        acc = platform.submit(22, p["id_number"], {"occupation": occ, "level": level, "certificate_date": cert}, key())
        amounts.append(acc.message_zh)
    assert ["1000元" in amounts[0], "1500元" in amounts[1], "2000元" in amounts[2]] == [True, True, True]
    assert "最多不超过三次" in refused(platform, 22, p["id_number"], {"occupation": "面点师", "level": "初级", "certificate_date": cert}).reason_zh
    q = pick(people, lambda x: 22 in x["qualifies"])
    platform.submit(22, q["id_number"], {"occupation": "茶艺师", "level": "中级", "certificate_date": cert}, key())
    assert "同一等级只能申请并享受一次" in refused(platform, 22, q["id_number"], {"occupation": "茶艺师", "level": "中级", "certificate_date": cert}).reason_zh
    assert "不再享受低级别" in refused(platform, 22, q["id_number"], {"occupation": "茶艺师", "level": "初级", "certificate_date": cert}).reason_zh


def test_gig_recruitment_refuses_discrimination(platform, people):
    p = pick(people, lambda p: p["age"] >= 18)
    assert "歧视性" in refused(platform, 7, p["id_number"], {"job_title": "搬运工", "description": "限男性，乙肝勿扰"}).reason_zh


def test_certification_needs_photo_then_accepts(platform, people):
    p = pick(people, lambda p: 21 in p["qualifies"])
    assert refused(platform, 21, p["id_number"]).code == "photo_required"
    photo = platform.upload_photo(b"\xff\xd8\xff\xe0fake-jpeg-holding-id-card-and-newspaper", "image/jpeg")
    acc = platform.submit(21, p["id_number"], {}, key(), photo_id=photo.photo_id)
    assert acc.status == "accepted"
    assert [s for s in submissions(platform.base_url) if s["acceptance_no"] == acc.acceptance_no][0]["photo_id"] == photo.photo_id


def test_registration_unlocks_recommendation(platform, people):
    p = pick(people, lambda p: 4 in p["qualifies"] and "gig_seeker" not in p["registrations"])
    with pytest.raises(Refused) as exc:
        platform.recommend_jobs(p["id_number"], "gig")
    assert "先进行零工求职登记" in exc.value.reason_zh
    assert platform.submit(4, p["id_number"], {"skills": "搬运"}, key()).status == "completed"
    rec = platform.recommend_jobs(p["id_number"], "gig", page_size=5)
    assert rec.item_no == 5 and len(rec.rows) == 5 and rec.total > 5
    assert {c.key for c in rec.columns} >= {"title", "pay"}


def test_temporary_card_loss_unlocks_after_7_days(platform, people):
    p = pick(people, lambda p: p["card_state"] == "normal" and p["age"] >= 16)
    platform.submit(40, p["id_number"], {"action": "temp_loss"}, key())
    assert platform.enquiry(39, p["id_number"]).rows[0]["state"] == "temp_lost"
    try:
        admin(platform.base_url, "POST", "/admin/clock", json={"offset_days": 6})
        assert platform.enquiry(39, p["id_number"]).rows[0]["state"] == "temp_lost"
        admin(platform.base_url, "POST", "/admin/clock", json={"offset_days": 7})
        assert platform.enquiry(39, p["id_number"]).rows[0]["state_zh"] == "正常"
    finally:
        admin(platform.base_url, "POST", "/admin/clock", json={"offset_days": 0})


def test_pension_records_show_failure_reasons(platform, people):
    hits = []
    for p in people:
        if 26 in p["has_records_for"] or 36 in p["has_records_for"]:
            item = 26 if 26 in p["has_records_for"] else 36
            res = platform.enquiry(item, p["id_number"])
            if "超期未认证" in res.notice_zh:
                hits.append(res)
                break
    assert hits, "seeded data should hold a pension withheld for overdue certification"
    assert any(r["reason"] == "超期未认证" and r["status"] == "发放失败" for r in hits[0].rows)


def test_every_enquiry_item_answers(platform, people):
    items = {i["item_no"]: i["kind"] for i in platform.items()}
    assert len(items) == 40
    seen = set()
    for n, kind in items.items():
        if kind == "application":
            continue
        p = next((x for x in people if n in x["has_records_for"]), None)
        assert p is not None, f"no resident with records for item {n}"
        res = platform.enquiry(n, p["id_number"], page_size=3)
        assert res.item_no == n and res.columns and res.total >= len(res.rows)
        seen.add(n)
    assert len(seen) == sum(1 for k in items.values() if k != "application")


def test_every_application_item_has_a_qualifying_resident(platform, sim):
    items = [i["item_no"] for i in platform.items() if i["kind"] == "application"]
    for n in items:
        assert sample(sim.url, 1, qualifies=n), f"seed 42 has nobody qualifying for item {n}"


def test_unknown_resident_and_bad_id(platform):
    with pytest.raises(Refused) as exc:
        platform.lookup_resident("11010519491231002X")
    assert exc.value.code == "not_found" and "柜台" in exc.value.reason_zh
    with pytest.raises(BadResponse):
        platform.lookup_resident("110105194912310021")  # wrong check character: our request is bad (400)


# -- e-SSC ---------------------------------------------------------------------------

def issue(url, **body):
    return admin(url, "POST", "/admin/essc/issue", json=body)["qr_text"]


def test_essc_resident_once_then_replayed(platform, people):
    p = people[0]
    qr = issue(platform.base_url, id_number=p["id_number"])
    ident = platform.verify_essc(qr)
    assert ident.kind == "resident" and ident.resident.id_number == p["id_number"]
    with pytest.raises(Refused) as exc:
        platform.verify_essc(qr)
    assert exc.value.code == "qr_replayed" and "已使用" in exc.value.reason_zh


def test_essc_expired_forged_malformed(platform, people):
    expired = issue(platform.base_url, id_number=people[1]["id_number"], lifetime=-1)
    with pytest.raises(Refused) as exc:
        platform.verify_essc(expired)
    assert exc.value.code == "qr_expired" and "过期" in exc.value.reason_zh
    good = issue(platform.base_url, id_number=people[1]["id_number"])
    head, payload, sig = good.split(".")
    forged = ".".join([head, payload, ("A" if sig[0] != "A" else "B") + sig[1:]])
    with pytest.raises(Refused) as exc:
        platform.verify_essc(forged)
    assert exc.value.code == "qr_forged"
    with pytest.raises(Refused) as exc:
        platform.verify_essc("https://example.com/not-an-essc")
    assert exc.value.code == "qr_malformed"
    assert platform.verify_essc(good).kind == "resident"  # the forgery did not burn the real code


def test_essc_staff_roles_and_locked_accounts(platform):
    staff = admin(platform.base_url, "GET", "/admin/staff")["staff"]
    active = next(s for s in staff if not s["locked"] and s["roles"] == ["technician"])
    ident = platform.verify_essc(issue(platform.base_url, username=active["username"]))
    assert ident.kind == "staff" and ident.staff.roles == ["technician"]
    person = ident.as_person()
    assert person.roles == ["technician"] and person.source == "qr" and "*" in repr(person)
    assert {tuple(s["roles"]) for s in staff} >= {("system_admin",), ("business_admin",), ("operator",), ("technician",)}
    locked = next(s for s in staff if s["locked"])
    with pytest.raises(Refused) as exc:
        platform.verify_essc(issue(platform.base_url, username=locked["username"]))
    assert exc.value.code == "account_locked" and "3个月" in exc.value.reason_zh


# -- device signature ------------------------------------------------------------------

def test_wrong_secret_is_rejected(sim):
    with client(sim.url, secret="not-the-secret") as bad:
        with pytest.raises(AuthError) as exc:
            bad.enquiry(12, None)
    assert exc.value.code == "bad_signature"


def raw_post(url, path, body: bytes, ts: int, secret=SECRET, tamper=b""):
    sig = signing.sign(secret, "POST", path, str(ts), DEVICE, body)
    return httpx.post(url + path, content=body + tamper, timeout=5, headers={
        "Content-Type": "application/json", signing.HEADER_DEVICE: DEVICE,
        signing.HEADER_TIMESTAMP: str(ts), signing.HEADER_SIGNATURE: sig})


def test_stale_tampered_and_missing_signatures(sim):
    body = b'{"status": {}}'
    assert raw_post(sim.url, "/v1/heartbeat", body, int(time.time())).status_code == 200
    stale = raw_post(sim.url, "/v1/heartbeat", body, int(time.time()) - 600)
    assert stale.status_code == 401 and stale.json()["error"]["code"] == "stale_signature"
    tampered = raw_post(sim.url, "/v1/heartbeat", b'{"status": {}', int(time.time()), tamper=b"}")
    assert tampered.status_code == 401 and tampered.json()["error"]["code"] == "bad_signature"
    unsigned = httpx.post(sim.url + "/v1/heartbeat", content=body, timeout=5)
    assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "unsigned"


# -- idempotency ------------------------------------------------------------------------

def test_same_key_same_acceptance_recorded_once(platform, people):
    p = pick(people, lambda p: 1 in p["qualifies"])
    k = key()
    a1 = platform.submit(1, p["id_number"], {"desired_job": "司机"}, k)
    a2 = platform.submit(1, p["id_number"], {"desired_job": "司机"}, k)
    assert a1 == a2
    assert [s["idempotency_key"] for s in submissions(platform.base_url)].count(k) == 1
    with pytest.raises(Refused) as exc:
        platform.submit(1, p["id_number"], {"desired_job": "厨师"}, k)
    assert exc.value.code == "idempotency_mismatch"
    assert platform.track(a1.acceptance_no).status == "completed"


# -- fault injection ------------------------------------------------------------------------

def faults(url, **kw):
    return admin(url, "POST", "/admin/fault-injection", json=kw)


def stats(url):
    return admin(url, "GET", "/admin/stats")


def test_injected_errors_are_retried_for_enquiries_only(platform, people):
    try:
        faults(platform.base_url, error_rate=1.0)
        before = stats(platform.base_url)["injected_errors"]
        with pytest.raises((Unreachable, BadResponse)):
            platform.enquiry(12, None)
        assert stats(platform.base_url)["injected_errors"] - before == platform.max_attempts
        before = stats(platform.base_url)["injected_errors"]
        with pytest.raises((Unreachable, BadResponse)):
            platform.verify_essc(issue(platform.base_url, id_number=people[2]["id_number"]))
        assert stats(platform.base_url)["injected_errors"] - before == 1  # single-use code: never resent
    finally:
        faults(platform.base_url, error_rate=0.0)


def test_outage_and_latency(platform, sim):
    try:
        faults(sim.url, outage=True)
        with pytest.raises(Unreachable) as exc:
            platform.enquiry(12, None)
        assert "无法连接服务平台" in exc.value.message_zh and "柜台" in exc.value.message_zh
        faults(sim.url, outage=False, latency_ms=1500)
        with client(sim.url, read_timeout=0.3, connect_timeout=0.3, max_attempts=1) as slow:
            with pytest.raises(Timeout):
                slow.enquiry(12, None)
    finally:
        faults(sim.url, outage=False, latency_ms=0)


TYPICAL_FIELDS = {
    1: {"desired_job": "司机", "desired_county": "临县"}, 4: {"skills": "搬运"}, 7: {"job_title": "红枣采摘", "description": "日结，管午饭", "headcount": 5},
    10: {"employment_type": "非全日制"}, 11: {"reason": "合同到期"}, 16: {"course": "育婴员"}, 20: {"base_ratio": 0.6},
    22: {"occupation": "电工", "level": "中级", "certificate_date": str(TODAY - dt.timedelta(days=30))}, 23: {"involuntary": True},
    24: {"reason": "失踪"}, 30: {"phone": "13900000000"}, 31: {"action": "pause"}, 32: {"years": 3}, 37: {"reason": "疑似重复领取"},
    40: {"action": "temp_loss"},
}


def test_every_application_item_is_accepted_for_someone_who_qualifies(platform, sim):
    apps = [i for i in platform.items() if i["kind"] == "application"]
    photo = platform.upload_photo(b"\xff\xd8 holding ID card and a dated newspaper")
    for item in apps:
        n = item["item_no"]
        who = sample(sim.url, 10, qualifies=n, offset=1000)
        fields = dict(TYPICAL_FIELDS.get(n, {}))
        person = who[0]
        if n == 31 and person["resident_pension"].get("paused"):
            fields = {"action": "resume"}
        if n == 40 and person["card_state"] in ("temp_lost", "lost"):
            fields = {"action": "unlock"}
        try:
            acc = platform.submit(n, person["id_number"], fields, key(), photo_id=photo.photo_id if n == 21 else None)
        except Refused as exc:  # pragma: no cover - shows which rule disagreed
            pytest.fail(f"item {n} refused for a qualifying resident: {exc.reason_zh}")
        assert acc.item_no == n and acc.acceptance_no
        assert acc.status == ("completed" if item["time_limit_days"] == 0 else "accepted")
