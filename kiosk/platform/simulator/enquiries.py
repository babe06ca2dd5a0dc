"""Answers to the enquiry and recommendation items, as generic tables."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from kiosk.platform.simulator.data import CARD_STATE_ZH, ResidentRec, World
from kiosk.platform.simulator.rules import Refusal

Table = tuple[list[tuple[str, str]], list[dict[str, Any]], str, dict[str, Any]]


class EnquiryRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason_zh)
        self.refusal = refusal


def _need(cond: bool, reason_zh: str, code: str = "not_eligible") -> None:
    if not cond:
        raise EnquiryRefused(Refusal(code, reason_zh))


JOB_COLS = [
    ("job_id", "编号"),
    ("title", "岗位"),
    ("employer", "招聘单位"),
    ("county", "工作地点"),
    ("salary", "薪资"),
    ("education", "学历要求"),
    ("headcount", "招聘人数"),
    ("published", "发布日期"),
]
GIG_COLS = [
    ("gig_id", "编号"),
    ("title", "零工岗位"),
    ("county", "地点"),
    ("pay", "报酬"),
    ("days", "用工天数"),
    ("contact", "联系人"),
    ("published", "发布日期"),
]
SEEKER_COLS = [
    ("seeker_id", "编号"),
    ("name", "姓名"),
    ("gender", "性别"),
    ("age", "年龄"),
    ("county", "所在地"),
    ("skills", "技能特长"),
    ("available", "可工作时间"),
]


def _filter(rows: list[dict[str, Any]], params: dict[str, Any], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    kw = str(params.get("keyword", "")).strip()
    county = str(params.get("county", "")).strip()
    out = rows
    if county:
        out = [x for x in out if x.get("county") == county]
    if kw:
        out = [x for x in out if any(kw in str(x.get(k, "")) for k in keys)]
    return out


def enquire(item_no: int, world: World, r: ResidentRec | None, params: dict[str, Any], today: _dt.date) -> Table:
    p = params or {}
    if item_no == 3:
        return JOB_COLS, _filter(world.jobs, p, ("title", "employer")), "", {}
    if item_no == 6:
        return GIG_COLS, _filter(world.gig_jobs, p, ("title",)), "", {}
    if item_no == 9:
        return (
            SEEKER_COLS,
            _filter(world.gig_seekers, p, ("skills",)),
            "仅显示求职者姓氏，联系方式请通过基层服务点获取。",
            {},
        )
    if item_no == 12:
        return (
            [("category", "类别"), ("title", "政策名称"), ("document", "文件依据")],
            _filter(world.policies, p, ("title", "category")),
            "",
            {},
        )
    if item_no == 14:
        return (
            [
                ("fair_id", "编号"),
                ("name", "招聘会"),
                ("date", "日期"),
                ("place", "地点"),
                ("audience", "服务对象"),
                ("employers", "参会单位数"),
            ],
            [f for f in _filter(world.fairs, p, ("name",)) if f["date"] >= str(today)],
            "",
            {},
        )
    assert r is not None
    if item_no == 2:
        _need("fixed_seeker" in r.registrations, "固定工岗位信息推荐需先进行固定工求职登记。", "not_registered")
        rows = sorted(world.jobs, key=lambda j: (j["county"] != r.county, j["job_id"]))
        return JOB_COLS, rows, "根据您的求职登记信息，优先推荐本县岗位。", {}
    if item_no == 5:
        _need("gig_seeker" in r.registrations, "零工岗位信息推荐需先进行零工求职登记。", "not_registered")
        rows = sorted(world.gig_jobs, key=lambda j: (j["county"] != r.county, j["gig_id"]))
        return GIG_COLS, rows, "根据您的零工求职登记信息，优先推荐本县零工岗位。", {}
    if item_no == 8:
        _need("gig_employer" in r.registrations, "零工求职信息推荐需先进行招聘零工登记。", "not_registered")
        rows = sorted(world.gig_seekers, key=lambda s: (s["county"] != r.county, s["seeker_id"]))
        return SEEKER_COLS, rows, "根据您的招聘零工登记信息，优先推荐本县求职者。", {}
    if item_no == 13:
        _need(r.jyc_cert is not None, "未查询到您已申领的《就业创业证》。", "no_record")
        c = r.jyc_cert or {}
        return (
            [("number", "证号"), ("issued", "发证日期"), ("status", "证件状态"), ("employment_status", "就业失业状态")],
            [c],
            "",
            {},
        )
    if item_no == 15:
        _need(
            r.archive is not None,
            "未查询到您存放在本省公共就业人才服务机构的档案。只可查询到已存放在本省公共就业人才服务机构的本人档案；无法查到教育系统等其他存放机构的档案。",
            "no_record",
        )
        return [("office", "档案存放机构"), ("since", "存放日期"), ("phone", "联系电话")], [r.archive or {}], "", {}
    if item_no == 17:
        _need(r.training_intent, "培训意向登记之后，方可做培训机构推荐。", "not_registered")
        rows = sorted(world.institutions, key=lambda i: (i["county"] != r.county, i["institution_id"]))
        return (
            [
                ("institution_id", "编号"),
                ("name", "培训机构"),
                ("county", "所在地"),
                ("courses", "培训专业"),
                ("next_class", "最近开班"),
                ("phone", "联系电话"),
            ],
            rows,
            "按照就近原则推荐培训机构。",
            {},
        )
    if item_no in (18, 19):
        _need(
            r.training_intent or bool(r.training_enrolments),
            "未查询到您的培训意向登记信息，请先办理培训意向登记。",
            "not_registered",
        )
        rows = r.training_enrolments if item_no == 18 else [e for e in r.training_enrolments if e["result"] == "已结业"]
        notice = "办理培训机构推荐后五个工作日，可查询报名结果。" if item_no == 18 else "可查询历年培训信息和结业情况。"
        return (
            [
                ("institution", "培训机构"),
                ("course", "培训班"),
                ("enrolled_on", "报名日期"),
                ("result", "结果"),
                ("certificate", "证书"),
            ],
            rows,
            notice,
            {},
        )
    if item_no == 25:
        _need(r.emp_insured, "未查询到您参加我省企业职工基本养老保险的记录。", "no_record")
        return (
            [
                ("year", "年度"),
                ("months", "缴费月数"),
                ("base", "缴费基数"),
                ("personal", "个人缴费"),
                ("unit", "参保单位"),
            ],
            list(reversed(r.emp_history)),
            "",
            {"total_months": r.emp_months, "status": "正常参保" if not r.emp_receiving else "待遇领取"},
        )
    if item_no == 26:
        _need(
            r.emp_receiving or bool(r.pension_payments), "未查询到您领取企业职工基本养老保险待遇的记录。", "no_record"
        )
        failed = [x for x in r.pension_payments if x["reason"]]
        notice = "养老金没有发放的原因：" + "、".join(sorted({x["reason"] for x in failed})) if failed else ""
        if any(x["reason"] == "超期未认证" for x in failed):
            notice += "。请办理社会保险待遇领取资格认证（可通过民生山西APP或到基层服务点办理）。"
        return (
            [("month", "月份"), ("amount", "金额（元）"), ("status", "发放状态"), ("reason", "失败原因")],
            list(reversed(r.pension_payments)),
            notice,
            {"last_certified": str(r.last_certified) if r.last_certified else ""},
        )
    if item_no == 27:
        _need(r.ui_receiving or bool(r.ui_payments), "未查询到您领取失业保险待遇的记录。", "no_record")
        failed = [x for x in r.ui_payments if x["reason"]]
        notice = (
            "个人待遇通过社会保障卡发放，申领人应在申领待遇前激活个人社会保障卡的金融账户。"
            if failed
            else "失业保险金于申领通过的次月23日前发放。"
        )
        return (
            [("month", "月份"), ("amount", "金额（元）"), ("status", "发放状态"), ("reason", "失败原因")],
            list(reversed(r.ui_payments)),
            notice,
            {},
        )
    if item_no == 33:
        _need(r.res_enrolled and bool(r.res_history), "未查询到您参加城乡居民养老保险的缴费信息。", "no_record")
        return (
            [("year", "缴费年度"), ("type", "缴费类型"), ("amount", "缴费金额"), ("arrived", "到账情况")],
            list(reversed(r.res_history)),
            "",
            {"years": r.res_years, "paused": r.res_paused},
        )
    if item_no == 36:
        _need(r.res_receiving or bool(r.res_payments), "未查询到您领取城乡居民养老保险待遇的记录。", "no_record")
        failed = [x for x in r.res_payments if x["reason"]]
        notice = "养老金没有发放的原因：" + "、".join(sorted({x["reason"] for x in failed})) if failed else ""
        return (
            [("month", "月份"), ("amount", "金额（元）"), ("status", "发放状态"), ("reason", "失败原因")],
            list(reversed(r.res_payments)),
            notice,
            {"last_certified": str(r.last_certified) if r.last_certified else ""},
        )
    if item_no == 39:
        state = r.effective_card_state(today)
        _need(state != "none", "未查询到您申领社会保障卡的记录。请到社会保障卡服务窗口咨询申领。", "no_record")
        row = {
            "card_number": r.card_number[:2] + "*****" + r.card_number[-2:],
            "state": state,
            "state_zh": CARD_STATE_ZH[state],
            "lost_on": str(r.card_lost_on) if r.card_lost_on and state in ("temp_lost", "lost") else "",
        }
        notice = "社会保障卡临时挂失有效期为7天，过期后自动解挂。" if state == "temp_lost" else ""
        return (
            [("card_number", "卡号"), ("state_zh", "社保功能状态"), ("lost_on", "挂失日期")],
            [row],
            notice,
            {"state": state},
        )
    raise EnquiryRefused(Refusal("not_enquiry", f"事项{item_no}不是查询类事项。"))
