"""Eligibility rules of the service guides (seeds/002), as pure functions.

``check(item_no, r, fields, today)`` returns a ``Refusal`` (code + the guide's
words) or None; ``apply(item_no, r, fields, today)`` changes the resident's
record after the platform accepted the application, so later enquiries and
applications see it (e.g. a registered seeker gets recommendations).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from kiosk.platform.simulator.data import LEVEL_RANK, LEVELS, ResidentRec, makeup_eligible, working_age_limit

DISCRIMINATORY = (
    "限男",
    "限女",
    "只要男",
    "只要女",
    "不要女",
    "不要男",
    "乙肝",
    "限本地户口",
    "长相",
    "身高",
    "民族",
    "已婚已育",
    "歧视",
)


@dataclass
class Refusal:
    code: str
    reason_zh: str


def _no(reason_zh: str, code: str = "not_eligible") -> Refusal:
    return Refusal(code, reason_zh)


def _parse_date(value: Any) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def skill_subsidy_amount(level: str) -> int:
    return LEVELS[level]


def check(
    item_no: int, r: ResidentRec, fields: dict[str, Any], today: _dt.date, *, photo_ok: bool = False
) -> Refusal | None:
    age = r.age(today)
    f = fields
    if item_no in (1, 4, 10, 11, 16, 20, 28) and age < 16:
        return _no("办理本业务需年满16周岁。")
    if item_no in (1, 4):
        if age >= 60 or r.employment == "retired" or not r.able_to_work:
            return _no("求职登记面向劳动年龄内、有就业意愿和劳动能力的劳动者。")
    elif item_no == 7:
        text = " ".join(str(f.get(k, "")) for k in ("job_title", "description", "requirements"))
        if not str(f.get("job_title", "")).strip():
            return _no("请填写招聘的零工岗位名称。", "invalid_fields")
        if any(word in text for word in DISCRIMINATORY):
            return _no("招聘岗位须符合法律要求，不能有侮辱性、歧视性要求。")
    elif item_no == 10:
        if r.employment == "employed":
            return _no("灵活就业登记面向处于灵活就业状态的劳动者（临时工、非全日制用工以及新就业形态就业的从业人员）。")
    elif item_no == 11:
        if age >= working_age_limit(r) or not r.able_to_work:
            return _no("失业登记面向劳动年龄内、有劳动能力、有就业要求、处于无业状态的城乡劳动者。")
        if r.employment in ("employed", "flexible", "student"):
            return _no("失业登记需处于无业状态（在职、灵活就业或在校学生不能办理）。")
        if r.unemployed_registered:
            return _no("您已办理失业登记，无需重复登记。", "duplicate")
    elif item_no == 16:
        if r.subsidised_training_this_year:
            return _no("本年度已参加过政府补贴性培训的人员，不可做为重点人群进行培训意愿登记。")
        if r.employment in ("employed", "retired") or r.emp_receiving:
            return _no("机关事业单位在岗人员、企业在岗人员、已按月领取城镇职工退休养老金人员不可进行培训意愿登记。")
        if r.student and not r.graduating:
            return _no("不在毕业年度的在校生不可做为重点人群进行培训意愿登记。")
        if "flexible" in r.registrations:
            return _no("已登记就业信息的人员不可做为重点人群进行培训意愿登记。")
    elif item_no == 20:
        if r.student:
            return _no("灵活就业人员参保登记须年满16周岁且不是全日制在校生。")
        if age >= working_age_limit(r):
            return _no("灵活就业人员参保登记面向法定退休年龄内的人员。")
        if r.emp_insured and r.employment == "employed":
            return _no("您已在用人单位参加企业职工基本养老保险，不能以灵活就业人员身份参保。")
        ratio = f.get("base_ratio")
        if ratio is not None:
            try:
                ratio_f = float(ratio)
            except (TypeError, ValueError):
                return _no("缴费基数比例应为数字。", "invalid_fields")
            if not 0.6 <= ratio_f <= 3.0:
                return _no("缴费基数可在当年公布的全口径社平工资的60%-300%之间自主选择。", "invalid_fields")
    elif item_no == 21:
        if not (r.emp_receiving or r.res_receiving or r.institution_pension or r.injury_level or r.survivor_allowance):
            return _no("待遇领取资格认证面向按月领取社会保险待遇的人员。")
        if not photo_ok:
            return _no("资格认证需提供照片：手持身份证和近期报刊、杂志等能够证明当前日期的照片。", "photo_required")
    elif item_no == 22:
        level = str(f.get("level", ""))
        occupation = str(f.get("occupation", "")).strip()
        issued = _parse_date(f.get("certificate_date"))
        if level not in LEVELS or not occupation or issued is None:
            return _no("请填写职业（工种）、证书等级（初级/中级/高级）和证书核发日期。", "invalid_fields")
        if not (r.employment == "employed" and r.employer_kind == "enterprise") and not r.ui_receiving:
            return _no("技能提升补贴面向企业在职参保职工或领取失业保险金期间的失业人员。")
        if issued > today or (today - issued).days > 365:
            return _no("申领技能提升补贴需在职业资格证书或职业技能等级证书核发一年内。")
        if r.ui_months < 36:
            return _no("申领技能提升补贴需失业保险参保缴费满3年。")
        this_year = [s for s in r.skill_subsidies if s["year"] == today.year]
        if len(this_year) >= 3:
            return _no("每人每年享受技能提升补贴次数最多不超过三次。")
        for s in r.skill_subsidies:
            if s["occupation"] == occupation and s["level"] == level:
                return _no("同一职业（工种）同一等级只能申请并享受一次技能提升补贴。", "duplicate")
            if s["occupation"] == occupation and LEVEL_RANK[s["level"]] > LEVEL_RANK[level]:
                return _no("已享受同一职业（工种）高级别证书技能提升补贴的，不再享受低级别证书补贴。")
    elif item_no == 23:
        if r.ui_receiving:
            return _no("您正在领取失业保险金，无需重复申领。", "duplicate")
        if r.ui_months < 12:
            return _no("申领失业保险金需失业保险缴费满一年。")
        if not r.unemployed_registered:
            return _no("申领失业保险金需先办理失业登记。")
        if r.involuntary is False:
            return _no("申领失业保险金需为非因本人意愿中断就业（您的失业登记为本人意愿离职）。")
        if f.get("involuntary") is not True:
            return _no("申领失业保险金需为非因本人意愿中断就业。")
        if r.emp_receiving or r.res_receiving:
            return _no("享受基本养老保险待遇的，不能领取失业保险金。")
    elif item_no == 24:
        if not r.emp_receiving:
            return _no("本业务面向正常领取企业职工基本养老保险待遇的人员。")
    elif item_no == 28:
        if r.student:
            return _no("城乡居民基本养老保险参保登记需年满16周岁（不含在校学生）。")
        if r.res_enrolled:
            return _no("您已参加城乡居民基本养老保险，无需重复登记。", "duplicate")
        if r.emp_insured:
            return _no("城乡居民基本养老保险面向未参加职工基本养老保险的城乡居民。")
        if r.other_pension or r.emp_receiving or r.employer_kind == "institution":
            return _no("城乡居民基本养老保险面向非国家机关和事业单位工作人员、未参加其他基本养老保险的城乡居民。")
    elif item_no == 29:
        if not r.res_enrolled:
            return _no("城乡居民补充养老保险参保登记需已参加我省城乡居民基本养老保险。")
        if age >= 65:
            return _no("城乡居民补充养老保险参保登记需未满65周岁。")
        if r.supp_enrolled:
            return _no("您已参加城乡居民补充养老保险，无需重复登记。", "duplicate")
    elif item_no == 30:
        if not r.res_enrolled:
            return _no("本业务面向参加我省城乡居民基本养老保险的参保人员。")
        allowed = {"gender", "nation", "address", "phone"}
        if not f or set(f) - allowed:
            return _no("可变更的非关键信息为：性别、民族、居住地址、联系电话。", "invalid_fields")
    elif item_no == 31:
        if not r.res_enrolled or r.res_receiving:
            return _no("本业务面向参加我省城乡居民基本养老保险并在缴费期的参保人员。")
        action = f.get("action")
        if action not in ("pause", "resume"):
            return _no("请选择暂停缴费或恢复缴费。", "invalid_fields")
        if action == "pause" and r.res_paused:
            return _no("您的缴费已处于暂停状态。", "duplicate")
        if action == "resume" and not r.res_paused:
            return _no("您的缴费未暂停，无需恢复。", "duplicate")
    elif item_no == 32:
        if not r.res_enrolled:
            return _no("补缴申报面向参加我省城乡居民养老保险的参保人员。")
        if r.res_years >= 15:
            return _no("补缴申报面向未缴够15年且有补缴意愿的参保人员，您已累计缴费满15年。")
        if not makeup_eligible(r, today):
            return _no("补缴申报面向制度实施时距60周岁不足15年或参保后有缴费中断的参保人员。")
    elif item_no == 34:
        if not r.res_enrolled:
            return _no("待遇申领需参加我省城乡居民基本养老保险。")
        if r.res_receiving:
            return _no("您已在领取城乡居民基本养老保险待遇。", "duplicate")
        if age < 60:
            return _no("城乡居民基本养老保险待遇申领需年满60周岁、累计缴纳养老保险费满15年，且未享受其他养老保险待遇。")
        if r.res_years < 15:
            return _no(
                "城乡居民基本养老保险待遇申领需年满60周岁、累计缴纳养老保险费满15年，且未享受其他养老保险待遇。（您累计缴费不足15年，可办理补缴申报）"
            )
        if r.emp_receiving or r.other_pension:
            return _no("城乡居民基本养老保险待遇申领需未享受其他养老保险待遇。")
    elif item_no == 35:
        if not r.supp_enrolled:
            return _no("补充养老保险待遇申领需参加我省城乡居民补充养老保险。")
        if r.supp_receiving:
            return _no("您已在领取城乡居民补充养老保险待遇。", "duplicate")
        if age < 65 or not r.res_receiving:
            return _no("补充养老保险待遇申领需年满65周岁且已享受城乡居民基本养老保险待遇。")
    elif item_no == 37:
        if not r.res_receiving:
            return _no("本业务面向正在领取城乡居民养老保险待遇的人员。")
    elif item_no == 38:
        state = r.effective_card_state(today)
        if state == "in_production":
            return _no("您的社会保障卡尚在制卡中，领卡后方可启用。")
        if state != "not_activated":
            return _no("您的社会保障卡社保功能已启用或处于挂失状态，无需启用。", "duplicate")
    elif item_no == 40:
        state = r.effective_card_state(today)
        action = f.get("action")
        if action not in ("temp_loss", "formal_loss", "unlock"):
            return _no("请选择临时挂失、正式挂失或解除挂失。", "invalid_fields")
        if action in ("temp_loss", "formal_loss") and state not in ("normal", "temp_lost"):
            return _no("您的社会保障卡当前状态不能办理挂失。")
        if action == "temp_loss" and state == "temp_lost":
            return _no("您的社会保障卡已临时挂失（临时挂失有效期7天，过期后自动解挂）。", "duplicate")
        if action == "unlock" and state not in ("temp_lost", "lost"):
            return _no("您的社会保障卡未挂失，无需解挂。", "duplicate")
        if action == "unlock" and r.card_reissue == "issued":
            return _no("已补办社会保障卡的，原卡不能解除挂失。")
    return None


def apply(item_no: int, r: ResidentRec, fields: dict[str, Any], today: _dt.date) -> None:
    f = fields
    if item_no == 1:
        r.registrations.add("fixed_seeker")
    elif item_no == 4:
        r.registrations.add("gig_seeker")
    elif item_no == 7:
        r.registrations.add("gig_employer")
    elif item_no == 10:
        r.registrations.add("flexible")
        r.employment = "flexible"
    elif item_no == 11:
        r.unemployed_registered = True
    elif item_no == 16:
        r.training_intent = True
    elif item_no == 20:
        r.emp_insured = True
    elif item_no == 22:
        r.skill_subsidies.append(
            {
                "year": today.year,
                "occupation": str(f["occupation"]).strip(),
                "level": f["level"],
                "amount": LEVELS[f["level"]],
            }
        )
    elif item_no == 23:
        r.ui_receiving = True
    elif item_no == 21:
        r.last_certified = today
    elif item_no == 24:
        r.emp_receiving = False
    elif item_no == 28:
        r.res_enrolled = True
    elif item_no == 29:
        r.supp_enrolled = True
    elif item_no == 30:
        for key in ("address", "phone", "nation", "gender"):
            if key in f and key in ("address", "phone"):
                setattr(r, key, str(f[key]))
    elif item_no == 31:
        r.res_paused = f["action"] == "pause"
    elif item_no == 34:
        r.res_receiving = True
    elif item_no == 35:
        r.supp_receiving = True
    elif item_no == 37:
        r.res_receiving = False
    elif item_no == 38:
        r.card_state = "normal"
    elif item_no == 40:
        if f["action"] == "temp_loss":
            r.card_state, r.card_lost_on = "temp_lost", today
        elif f["action"] == "formal_loss":
            r.card_state, r.card_lost_on = "lost", today
        else:
            r.card_state, r.card_lost_on = "normal", None


def qualifies(item_no: int, r: ResidentRec, today: _dt.date) -> bool:
    """Would an application with typical fields pass the rules? (for `residents --sample`)."""
    typical: dict[int, dict[str, Any]] = {
        7: {"job_title": "红枣采摘", "description": "日结"},
        22: {"occupation": "电工", "level": "中级", "certificate_date": str(today - _dt.timedelta(days=30))},
        23: {"involuntary": True},
        30: {"phone": "13800000000"},
        31: {"action": "resume" if r.res_paused else "pause"},
        40: {"action": "unlock" if r.effective_card_state(today) in ("temp_lost", "lost") else "temp_loss"},
    }
    return check(item_no, r, typical.get(item_no, {}), today, photo_ok=True) is None
