"""Field validation as typed, the pure rule evaluation and the payload mapping (no platform needed)."""

from __future__ import annotations

import datetime as _dt

import pytest

from kiosk.flows.catalog import FormField, Rule, load_catalog
from kiosk.flows.step import materials_list, mode_of, print_columns
from kiosk.flows.fields import KEYBOARDS, display_value, field_state, validate
from kiosk.core.idnumber import make_id
from kiosk.flows.payload import to_platform
from kiosk.flows.rules import ResidentFacts, evaluate
from kiosk.platform.adapter import Column

TODAY = _dt.date(2026, 6, 15)
VALID_ID = make_id("141124", _dt.date(1962, 3, 8), 21)


def f(type_, name="x", label="字段", **kw):
    return FormField(name, label, type_, kw.pop("required", True), tuple(kw.pop("choices", ())), kw.pop("min", None), kw.pop("max", None))


@pytest.mark.parametrize("value,ok", [
    ("13912345678", True), ("139 1234 5678", True), ("0358-4466038", True), ("03584466038", True),
    ("1391234567", False), ("139123456789", False), ("12912345678", False), ("abc", False), ("", False),
])
def test_phone(value, ok):
    norm, err = validate(f("phone", label="联系电话"), value, TODAY)
    assert (err is None) == ok
    if ok:
        assert " " not in norm


def test_phone_length_message_says_how_many_digits():
    assert validate(f("phone"), "1391234", TODAY)[1] == "手机号码应为11位，您输入了7位。"


def test_id_number_check_character():
    assert validate(f("id_number"), VALID_ID.lower(), TODAY) == (VALID_ID, None)
    wrong = VALID_ID[:17] + ("0" if VALID_ID[17] != "0" else "1")
    assert "校验码" in validate(f("id_number"), wrong, TODAY)[1]
    assert "18位" in validate(f("id_number"), VALID_ID[:10], TODAY)[1]
    assert validate(f("id_number"), "14112419621340002X", TODAY)[1]  # month 13


@pytest.mark.parametrize("value,expect", [
    ("2026-06-01", "2026-06-01"), ("20260601", "2026-06-01"), ("2026/6/1", "2026-06-01"), ("2026年6月1日", "2026-06-01"),
    ("2026-02-30", None), ("2026-13-01", None), ("june", None), ("1850-01-01", None),
])
def test_dates(value, expect):
    norm, err = validate(f("date"), value, TODAY)
    assert norm == expect and (err is None) == (expect is not None)


def test_past_only_dates_refuse_the_future():
    assert "不能晚于今天" in validate(f("date", name="certificate_date", label="发证日期"), "2026-07-01", TODAY)[1]
    assert validate(f("date", name="start_date"), "2026-07-01", TODAY)[1] is None  # a gig's start may be ahead


@pytest.mark.parametrize("value,expect", [("3500", 3500), ("3500.5", 3500.5), ("3,500元", 3500), ("0", None),
                                          ("-5", None), ("12.345", None), ("abc", None)])
def test_money(value, expect):
    assert validate(f("money"), value, TODAY)[0] == expect


def test_digits_bounds():
    fld = f("digits", label="需要人数", min=1, max=999)
    assert validate(fld, "5", TODAY) == (5, None)
    assert validate(fld, "0", TODAY)[1] == "需要人数不能小于1。"
    assert validate(fld, "1000", TODAY)[1] == "需要人数不能大于999。"
    assert validate(fld, "5人", TODAY)[1] == "需要人数只能填数字。"


def test_choice_and_certificate_and_text():
    fld = f("choice", label="证书等级", choices=("初级（五级）", "中级（四级）"))
    assert validate(fld, "中级（四级）", TODAY) == ("中级（四级）", None)
    assert validate(fld, "特级", TODAY)[1] == "请从列表中选择证书等级。"
    assert validate(f("certificate_no"), "zs2026-0001", TODAY) == ("ZS2026-0001", None)
    assert validate(f("certificate_no"), "证书1号", TODAY)[1]
    assert validate(f("text_zh"), "电工", TODAY) == ("电工", None)
    assert validate(f("text_zh"), "我的身份证" + VALID_ID, TODAY)[1]
    assert validate(f("text_zh", required=False), "", TODAY) == ("", None)
    assert validate(f("text_zh", label="求职工种"), "  ", TODAY)[1] == "请填写求职工种。"


def test_every_catalog_field_has_a_keyboard_and_masked_display():
    for item in load_catalog().items:
        for fld in item.fields:
            assert field_state(fld).keyboard == KEYBOARDS[fld.type]
    assert display_value(f("id_number"), VALID_ID) == VALID_ID[:3] + "*" * 11 + VALID_ID[-4:]
    assert display_value(f("date"), "2026-06-01") == "2026年6月1日"


def test_rules_unknown_facts_pass_known_facts_decide():
    rules = [Rule("min_age", 16, "未满16"), Rule("insured", "employee_pension", "未参保"),
             Rule("registered", "unemployment", "未登记")]
    adult = ResidentFacts(VALID_ID)
    assert evaluate(rules, adult, TODAY) is None                      # unknown → the platform decides
    adult.insured["employee_pension"] = False
    assert evaluate(rules, adult, TODAY).message == "未参保"
    child = ResidentFacts(make_id("141124", _dt.date(2015, 1, 1), 3))
    assert evaluate(rules, child, TODAY).message == "未满16"


def test_certificate_within_months():
    rule = Rule("certificate_within_months", 12, "证书已超过一年")
    facts = ResidentFacts(VALID_ID)
    assert evaluate([rule], facts, TODAY, {"certificate_date": "2025-06-15"}) is None
    assert evaluate([rule], facts, TODAY, {"certificate_date": "2025-06-14"}) is rule


def test_payload_maps_catalog_answers_to_the_contract():
    def sent(item_no, answers):
        return to_platform(load_catalog().by_no(item_no).flow.platform_fields, answers)

    assert sent(22, {"certificate_level": "高级（三级）"})["level"] == "高级"
    assert sent(40, {"action": "正式挂失"})["action"] == "formal_loss"
    assert sent(23, {"separation_reason": "用人单位解除劳动合同"})["involuntary"] is True
    assert sent(7, {"job_type": "红枣采摘"})["job_title"] == "红枣采摘"
    assert sent(1, {"phone": "13912345678"}) == {"phone": "13912345678"}
    assert sent(20, {"base_percent": "60"})["base_ratio"] == 0.6
    assert sent(31, {"action": "恢复缴费"})["action"] == "resume"
    assert sent(30, {"change_item": "居住地址", "new_value": "城庄镇"}) == {"address": "城庄镇"}


def test_modes_match_the_channels():
    modes = {item.no: mode_of(item) for item in load_catalog().items}
    kiosk = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 22, 23, 25, 26, 27, 33, 36}
    assert {n for n, m in modes.items() if m != "counter"} == kiosk | {21, 38, 39, 40}
    assert modes[21] == modes[38] == modes[40] == "application" and modes[39] == "enquiry"


def test_materials_and_print_columns():
    assert materials_list("1.身份证或社保卡等有效证件；\n2.具有时效性的照片佐证材料。") == ["身份证或社保卡等有效证件", "具有时效性的照片佐证材料"]
    cols = [Column("job_id", "编号"), Column("title", "岗位"), Column("employer", "单位"), Column("county", "地点"),
            Column("salary", "薪资"), Column("published", "发布日期")]
    assert [c.key for c in print_columns(cols)] == ["title", "employer", "county", "salary"]
