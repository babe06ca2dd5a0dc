"""Deterministic synthetic data for the platform simulator.

Everything comes from ``random.Random(seed)``: the same seed gives the same
residents (ID numbers, names, histories) on every machine. Birth dates are
absolute; recent events (card loss, last certification, payments) are placed
relative to ``today`` so the rules that depend on elapsed time (temporary loss
unlocks after 7 days, pension withheld when certification is over 12 months
old, staff accounts locked after 3 months unused) always have live examples.
"""

from __future__ import annotations

import datetime as _dt
import random
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.idnumber import age_on, gender_of, make_id

# Statutory retirement ages before the 2025 reform (the sim keeps the simple pair):
# men 60, women 55 (cadre) — the working-age limit of item 11 and item 20.
WORKING_AGE_LIMIT = {"男": 60, "女": 55}
# 新农保 pilots in Shanxi started in 2009, 城居保 in 2011; a resident's "scheme start" is the later of that and turning 16.
SCHEME_START = _dt.date(2009, 10, 1)
INVOLUNTARY_REASONS = ["劳动合同期满终止", "用人单位解除劳动合同", "用人单位破产、撤销", "被用人单位辞退"]
VOLUNTARY_REASONS = ["本人提出解除劳动合同", "本人辞职"]

# Shanxi counties/districts (GB/T 2260 codes).
COUNTIES: list[tuple[str, str]] = [
    ("141124", "临县"),
    ("140215", "云州区"),
    ("140105", "小店区"),
    ("140121", "清徐县"),
    ("140321", "平定县"),
    ("140525", "泽州县"),
    ("140621", "山阴县"),
    ("140702", "榆次区"),
    ("140822", "万荣县"),
    ("140921", "定襄县"),
    ("141002", "尧都区"),
    ("141102", "离石区"),
    ("141126", "石楼县"),
    ("140212", "新荣区"),
    ("140427", "壶关县"),
    ("141127", "岚县"),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "建国军华平明志强伟秀英桂兰玉梅丽红霞燕芳娟海涛斌俊杰磊鹏飞宇浩然子轩欣怡思雨晓东春生福贵喜凤翠花金银宝山林峰亮"
VILLAGES = [
    "李家庄",
    "葛家屯",
    "三里屯",
    "唐八里",
    "石家庄",
    "滹沱店",
    "魏家山",
    "薛辛密",
    "杨家屯",
    "东北街",
    "西南街",
    "王家沟",
    "刘家塔",
]

CARD_STATES = ("normal", "temp_lost", "lost", "not_activated", "in_production")
CARD_STATE_ZH = {
    "none": "未申领",
    "normal": "正常",
    "temp_lost": "临时挂失",
    "lost": "正式挂失",
    "not_activated": "社保功能未启用",
    "in_production": "制卡中",
}

PAY_FAIL_REASONS = ["超期未认证", "社保卡金融账户未激活", "银行账户状态异常", "经信息比对疑似丧失领取资格"]
OCCUPATIONS = [
    "电工",
    "焊工",
    "育婴员",
    "保育员",
    "中式烹调师",
    "美容师",
    "汽车维修工",
    "家政服务员",
    "养老护理员",
    "农业技术员",
]
LEVELS = {"初级": 1000, "中级": 1500, "高级": 2000}  # seeds/002 item 22
LEVEL_RANK = {"初级": 1, "中级": 2, "高级": 3}

EMPLOYERS = [
    "山西晋能建设有限公司",
    "临县红枣加工厂",
    "大同云冈物流有限公司",
    "太原市家政服务中心",
    "吕梁汽车维修有限公司",
    "晋中现代农业合作社",
    "长治光伏材料有限公司",
    "运城果业集团",
    "忻州杂粮食品有限公司",
    "朔州养老服务中心",
]
JOB_TITLES = [
    ("普工", "初中"),
    ("电工", "高中"),
    ("仓库管理员", "高中"),
    ("司机", "初中"),
    ("厨师", "不限"),
    ("保洁员", "不限"),
    ("销售代表", "高中"),
    ("养老护理员", "初中"),
    ("会计", "大专"),
    ("焊工", "初中"),
]
GIG_TITLES = [
    "红枣采摘",
    "搬运装卸",
    "家电维修",
    "保姆（日结）",
    "建筑小工",
    "餐厅帮工",
    "农田除草",
    "快递分拣",
    "婚宴帮厨",
    "房屋粉刷",
]
INSTITUTIONS = [
    "县职业技术学校",
    "县就业训练中心",
    "吕梁技师学院",
    "山西家政职业培训学校",
    "晋中农业技术培训中心",
    "大同市技工学校",
]
ARCHIVE_OFFICES = ["县人才交流服务中心", "市人力资源市场档案室", "山西省人才交流服务中心", "县公共就业服务中心"]

POLICIES = [
    ("就业创业政策", "就业困难人员认定及援助政策", "晋人社规〔2023〕5号"),
    ("就业创业政策", "创业担保贷款及贴息政策", "晋人社规〔2022〕8号"),
    ("职业技能", "职业技能提升补贴政策（初级1000元、中级1500元、高级2000元）", "晋人社厅发〔2021〕32号"),
    ("失业保险", "失业保险金申领条件与标准", "《失业保险条例》"),
    ("社会保险", "灵活就业人员参加企业职工基本养老保险办法（缴费基数60%-300%）", "晋人社规〔2021〕3号"),
    ("社会保险", "城乡居民基本养老保险实施办法", "晋政发〔2014〕22号"),
    ("就业创业政策", "高校毕业生就业创业扶持政策", "晋人社规〔2023〕2号"),
    ("就业创业政策", "零工市场建设与灵活就业服务", "晋人社发〔2023〕17号"),
]


@dataclass
class ResidentRec:
    id_number: str
    name: str
    gender: str
    birth_date: _dt.date
    county_code: str
    county: str
    phone: str
    address: str
    student: bool
    employment: str  # employed, flexible, unemployed, farmer, retired, student, child
    ui_months: int
    emp_insured: bool
    emp_months: int
    emp_receiving: bool
    res_enrolled: bool
    res_years: int
    res_receiving: bool
    res_paused: bool
    supp_enrolled: bool
    supp_receiving: bool
    other_pension: bool
    last_certified: _dt.date | None
    emp_history: list[dict[str, Any]]
    res_history: list[dict[str, Any]]
    pension_payments: list[dict[str, Any]]  # enterprise pension (item 26)
    res_payments: list[dict[str, Any]]  # resident pension (item 36)
    ui_receiving: bool
    ui_payments: list[dict[str, Any]]  # item 27
    unemployed_registered: bool
    card_number: str
    card_state: str
    card_lost_on: _dt.date | None
    jyc_cert: dict[str, Any] | None
    archive: dict[str, Any] | None
    skill_subsidies: list[dict[str, Any]]
    training_intent: bool
    subsidised_training_this_year: bool
    training_enrolments: list[dict[str, Any]]
    registrations: set[str] = field(default_factory=set)  # fixed_seeker, gig_seeker, gig_employer, flexible
    # Facts the guides' conditions need (issue 14), filled by _life_facts from a per-resident RNG so
    # the older fields above (and every test that picks residents by them) keep their values.
    employer_kind: str = ""  # enterprise | institution (机关事业单位), for employment == "employed"
    away: bool = False  # migrant working away from the village (外出务工)
    graduating: bool = False  # student in the graduation year (毕业年度)
    able_to_work: bool = True  # 有劳动能力
    unemployed_since: _dt.date | None = None
    unemployment_reason: str = ""  # 失业原因 as registered
    involuntary: bool | None = None  # 非因本人意愿中断就业 (None: not registered)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    institution_pension: bool = False  # 按月领取机关事业单位基本养老保险待遇
    injury_level: int = 0  # 工伤伤残等级 with a monthly allowance (1-4), 0 = none
    survivor_allowance: bool = False  # 按月领取供养亲属生活困难补助费
    res_start: _dt.date | None = None  # when this resident entered the resident-pension scheme
    res_gap_years: int = 0  # years without contribution since enrolment
    card_reissue: str = "none"  # none | applied | issued (补办社保卡)

    def age(self, today: _dt.date) -> int:
        return age_on(self.id_number, today)

    def effective_card_state(self, today: _dt.date) -> str:
        """Temporary loss lasts 7 days, then unlocks by itself (seeds/002 item 40)."""
        if self.card_state == "temp_lost" and self.card_lost_on and (today - self.card_lost_on).days >= 7:
            return "normal"
        return self.card_state


@dataclass
class StaffRec:
    username: str
    name: str
    id_number: str
    roles: list[str]
    county: str
    last_login: _dt.date

    def locked(self, today: _dt.date) -> bool:
        """Accounts unused for over 3 months are locked (seeds/004, 用户账号管理办法 第十一条)."""
        return (today - self.last_login).days > 90


@dataclass
class World:
    seed: int
    today: _dt.date
    residents: dict[str, ResidentRec]
    staff: dict[str, StaffRec]
    jobs: list[dict[str, Any]]
    gig_jobs: list[dict[str, Any]]
    gig_seekers: list[dict[str, Any]]
    fairs: list[dict[str, Any]]
    institutions: list[dict[str, Any]]
    policies: list[dict[str, Any]]


def _month_back(today: _dt.date, n: int) -> str:
    y, m = today.year, today.month - n
    while m <= 0:
        m += 12
        y -= 1
    return f"{y:04d}-{m:02d}"


def _make_resident(rng: random.Random, seq: int, today: _dt.date) -> ResidentRec:
    code, county = rng.choice(COUNTIES)
    age = rng.choice([rng.randint(8, 30), rng.randint(16, 59), rng.randint(40, 70), rng.randint(55, 92)])
    born = today - _dt.timedelta(days=age * 365 + age // 4 + rng.randint(0, 364))
    id_number = make_id(code, born, seq)
    gender = gender_of(id_number)
    real_age = age_on(id_number, today)
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    phone = "1" + rng.choice("35789") + "".join(str(rng.randint(0, 9)) for _ in range(9))
    address = f"山西省{county}{rng.choice(VILLAGES)}村{rng.randint(1, 99)}号"

    student = 16 <= real_age <= 22 and rng.random() < 0.5
    if real_age < 16:
        employment = "child"
    elif student:
        employment = "student"
    elif real_age >= 60:
        employment = "retired" if rng.random() < 0.4 else "farmer"
    else:
        employment = rng.choices(["employed", "flexible", "unemployed", "farmer"], [35, 15, 15, 35])[0]

    working_years = max(0, min(real_age, 60) - 18)
    emp_insured = employment in ("employed", "flexible") or (
        employment in ("retired", "unemployed") and rng.random() < 0.7
    )
    emp_months = rng.randint(6, max(6, working_years * 12)) if emp_insured else 0
    emp_receiving = employment == "retired" and emp_insured
    ui_months = rng.randint(0, min(emp_months, 240)) if employment in ("employed", "unemployed") else 0

    res_enrolled = not emp_insured and real_age >= 16 and not student and rng.random() < 0.75
    max_years = max(0, min(real_age, 60) - 16) if res_enrolled else 0
    res_years = rng.randint(0, min(max_years, 25)) if res_enrolled else 0
    if res_enrolled and real_age >= 60 and rng.random() < 0.5:
        res_years = max(res_years, 15)
    res_receiving = res_enrolled and real_age >= 60 and res_years >= 15 and rng.random() < 0.6
    res_paused = res_enrolled and not res_receiving and rng.random() < 0.05
    supp_enrolled = res_enrolled and real_age < 70 and rng.random() < 0.25
    supp_receiving = supp_enrolled and res_receiving and real_age >= 65 and rng.random() < 0.5
    other_pension = False

    receives_monthly = emp_receiving or res_receiving
    last_certified = None
    if receives_monthly:
        # About one in eight is overdue (more than 12 months since the last certification).
        last_certified = today - _dt.timedelta(
            days=rng.randint(400, 700) if rng.random() < 0.125 else rng.randint(10, 330)
        )

    emp_history = []
    if emp_insured:
        years = min(emp_months // 12 + 1, 30)
        for k in range(years):
            y = today.year - years + k + (0 if emp_receiving else 1)
            months = 12 if k < years - 1 else max(1, emp_months % 12 or 12)
            base = rng.choice([3500, 4200, 4800, 5600, 6500])
            emp_history.append(
                {
                    "year": y,
                    "months": months,
                    "base": base,
                    "personal": round(base * 0.08 * months, 2),
                    "unit": "灵活就业" if employment == "flexible" else rng.choice(EMPLOYERS),
                }
            )
    res_history = []
    for k in range(min(res_years, 30)):
        y = today.year - min(res_years, 30) + k
        res_history.append(
            {"year": y, "type": "基本险", "amount": rng.choice([200, 300, 500, 1000]), "arrived": "已到账"}
        )
        if supp_enrolled and k >= min(res_years, 30) - 3:
            res_history.append({"year": y, "type": "补充险", "amount": rng.choice([100, 200]), "arrived": "已到账"})

    def payments(amount: float) -> list[dict[str, Any]]:
        out = []
        overdue = last_certified is not None and (today - last_certified).days > 365
        for n in range(12, 0, -1):
            month = _month_back(today, n - 1)
            reason = ""
            if overdue and n <= 3:
                reason = "超期未认证"
            elif rng.random() < 0.03:
                reason = rng.choice(PAY_FAIL_REASONS[1:])
            out.append(
                {"month": month, "amount": amount, "status": "发放失败" if reason else "已发放", "reason": reason}
            )
        return out

    pension_payments = payments(round(rng.uniform(1800, 4200), 2)) if emp_receiving else []
    res_payments = payments(round(rng.uniform(150, 320), 2)) if res_receiving else []

    ui_receiving = employment == "unemployed" and ui_months >= 12 and rng.random() < 0.4
    ui_payments = []
    if ui_receiving:
        for n in range(rng.randint(1, 6), 0, -1):
            failed = rng.random() < 0.1
            ui_payments.append(
                {
                    "month": _month_back(today, n - 1),
                    "amount": 1656.0,
                    "status": "发放失败" if failed else "已发放",
                    "reason": "社保卡金融账户未激活" if failed else "",
                }
            )
    unemployed_registered = employment == "unemployed" and (ui_receiving or rng.random() < 0.5)

    card_state = rng.choices(CARD_STATES, [80, 5, 4, 7, 4])[0] if real_age >= 16 else "normal"
    card_lost_on = None
    if card_state == "temp_lost":
        card_lost_on = today - _dt.timedelta(days=rng.randint(0, 12))  # some already past 7 days
    if card_state == "lost":
        card_lost_on = today - _dt.timedelta(days=rng.randint(10, 200))
    card_number = f"{code[:2]}{rng.randint(0, 10**7 - 1):07d}{chr(65 + rng.randint(0, 25))}"

    jyc_cert = None
    if employment in ("unemployed", "flexible") and rng.random() < 0.6:
        jyc_cert = {
            "number": f"{code}{today.year - rng.randint(0, 5)}{rng.randint(0, 999999):06d}",
            "issued": str(today - _dt.timedelta(days=rng.randint(30, 1500))),
            "status": "有效",
            "employment_status": "失业" if employment == "unemployed" else "就业（灵活就业）",
        }
    archive = None
    if 18 <= real_age < 60 and rng.random() < 0.2:
        archive = {
            "office": rng.choice(ARCHIVE_OFFICES),
            "since": str(today - _dt.timedelta(days=rng.randint(100, 5000))),
            "phone": f"0358-{rng.randint(4000000, 4999999)}",
        }

    skill_subsidies = []
    if employment in ("employed", "unemployed") and rng.random() < 0.15:
        occ = rng.choice(OCCUPATIONS)
        lvl = rng.choice(list(LEVELS))
        skill_subsidies.append(
            {"year": today.year - rng.randint(0, 2), "occupation": occ, "level": lvl, "amount": LEVELS[lvl]}
        )

    training_intent = 16 <= real_age < 60 and not student and rng.random() < 0.1
    subsidised = rng.random() < 0.05 and real_age >= 16
    enrolments = []
    if training_intent and rng.random() < 0.6:
        inst = rng.choice(INSTITUTIONS)
        occ = rng.choice(OCCUPATIONS)
        done = rng.random() < 0.5
        enrolments.append(
            {
                "institution": inst,
                "course": f"{occ}培训班",
                "enrolled_on": str(today - _dt.timedelta(days=rng.randint(20, 300))),
                "result": "已报名" if not done else "已结业",
                "certificate": f"{occ}（初级）" if done else "",
            }
        )

    registrations: set[str] = set()
    if employment in ("unemployed", "flexible", "farmer") and 16 <= real_age < 60:
        if rng.random() < 0.3:
            registrations.add("fixed_seeker")
        if rng.random() < 0.3:
            registrations.add("gig_seeker")
    if real_age >= 25 and rng.random() < 0.05:
        registrations.add("gig_employer")
    if employment == "flexible":
        registrations.add("flexible")

    rec = ResidentRec(
        id_number=id_number,
        name=name,
        gender=gender,
        birth_date=born,
        county_code=code,
        county=county,
        phone=phone,
        address=address,
        student=student,
        employment=employment,
        ui_months=ui_months,
        emp_insured=emp_insured,
        emp_months=emp_months,
        emp_receiving=emp_receiving,
        res_enrolled=res_enrolled,
        res_years=res_years,
        res_receiving=res_receiving,
        res_paused=res_paused,
        supp_enrolled=supp_enrolled,
        supp_receiving=supp_receiving,
        other_pension=other_pension,
        last_certified=last_certified,
        emp_history=emp_history,
        res_history=res_history,
        pension_payments=pension_payments,
        res_payments=res_payments,
        ui_receiving=ui_receiving,
        ui_payments=ui_payments,
        unemployed_registered=unemployed_registered,
        card_number=card_number,
        card_state=card_state,
        card_lost_on=card_lost_on,
        jyc_cert=jyc_cert,
        archive=archive,
        skill_subsidies=skill_subsidies,
        training_intent=training_intent,
        subsidised_training_this_year=subsidised,
        training_enrolments=enrolments,
        registrations=registrations,
    )
    _life_facts(rec, today)
    return rec


def _life_facts(r: ResidentRec, today: _dt.date) -> None:
    """The facts added for issue 14, from an RNG of their own (seeded by the ID number).

    Proportions follow a village: most adults farm or work away, the elderly are many, some
    pensioners draw a 机关事业 or work-injury pension, a few are dependants of a deceased worker.
    """
    rng = random.Random("facts-" + r.id_number)
    age = r.age(today)
    if r.employment == "employed":
        r.employer_kind = "institution" if rng.random() < 0.15 else "enterprise"
        if r.employer_kind == "institution":
            # Civil servants and public-institution staff are in the 机关事业 scheme, not the enterprise one.
            r.res_enrolled, r.res_years, r.res_receiving, r.res_history = False, 0, False, []
    r.away = r.employment in ("employed", "flexible") and 18 <= age < 55 and rng.random() < 0.5
    r.graduating = r.student and rng.random() < 0.3
    r.able_to_work = not (age >= 16 and rng.random() < (0.25 if age >= 60 else 0.04))
    if r.unemployed_registered:
        r.involuntary = rng.random() < 0.75
        r.unemployment_reason = rng.choice(INVOLUNTARY_REASONS if r.involuntary else VOLUNTARY_REASONS)
        r.unemployed_since = today - _dt.timedelta(days=rng.randint(20, 400))
    for e in r.training_enrolments:
        if e.get("certificate"):
            r.certificates.append({"name": e["certificate"], "issued": e["enrolled_on"], "kind": "职业技能等级证书"})
    if r.employment == "employed" and rng.random() < 0.2:
        occ = rng.choice(OCCUPATIONS)
        r.certificates.append(
            {
                "name": f"{occ}（{rng.choice(list(LEVELS))}）",
                "kind": "职业资格证书",
                "issued": str(today - _dt.timedelta(days=rng.randint(30, 900))),
            }
        )
    if r.employment == "retired" and not r.emp_receiving and rng.random() < 0.5:
        r.institution_pension = True
        r.other_pension = True
    if age >= 30 and rng.random() < 0.015:
        r.injury_level = rng.randint(1, 4)
    if age >= 55 and not (r.emp_receiving or r.res_receiving or r.institution_pension) and rng.random() < 0.03:
        r.survivor_allowance = True
    if (r.institution_pension or r.injury_level or r.survivor_allowance) and r.last_certified is None:
        r.last_certified = today - _dt.timedelta(days=rng.randint(10, 500))
    if r.res_enrolled:
        turned16 = (
            r.birth_date.replace(year=r.birth_date.year + 16)
            if not (r.birth_date.month == 2 and r.birth_date.day == 29)
            else _dt.date(r.birth_date.year + 16, 3, 1)
        )
        r.res_start = max(SCHEME_START, turned16)
        span = max(0, today.year - r.res_start.year)
        r.res_gap_years = max(0, span - r.res_years) if r.res_years < 15 else 0
    if age < 16 and rng.random() < 0.3:
        r.card_state, r.card_number = "none", ""  # many village children have not applied for a card yet (item 39)
    if r.card_state in ("lost", "temp_lost"):
        r.card_reissue = rng.choices(["none", "applied", "issued"], [60, 25, 15])[0]


def working_age_limit(r: ResidentRec) -> int:
    return WORKING_AGE_LIMIT.get(r.gender, 60)


def makeup_eligible(r: ResidentRec, today: _dt.date) -> bool:
    """Item 32 (seeds/002): enrolled, under 15 years paid, and either within 15 years of 60 when the scheme
    started (①/③) or with gaps since enrolment (②)."""
    if not r.res_enrolled or r.res_years >= 15 or r.res_start is None:
        return False
    late_starter = age_on(r.id_number, r.res_start) > 45
    return late_starter or r.res_gap_years > 0


STAFF_ROLES = [["system_admin"], ["business_admin"], ["operator"], ["operator"], ["operator"], ["technician"]]


def generate(seed: int, today: _dt.date, n_residents: int = 3000) -> World:
    rng = random.Random(seed)
    residents: dict[str, ResidentRec] = {}
    seq = 1
    while len(residents) < n_residents:
        r = _make_resident(rng, seq, today)
        seq += 1
        residents.setdefault(r.id_number, r)

    staff: dict[str, StaffRec] = {}
    for i in range(18):
        code, county = COUNTIES[i % len(COUNTIES)]
        roles = STAFF_ROLES[i % len(STAFF_ROLES)]
        born = _dt.date(1970 + rng.randint(0, 30), rng.randint(1, 12), rng.randint(1, 28))
        # Every fourth account has not logged in for over 3 months: locked.
        last = today - _dt.timedelta(days=rng.randint(100, 300) if i % 4 == 3 else rng.randint(0, 60))
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        staff[f"{roles[0]}{i:02d}"] = StaffRec(
            f"{roles[0]}{i:02d}", name, make_id(code, born, 900 + i), roles, county, last
        )

    jobs = []
    for i in range(120):
        title, edu = rng.choice(JOB_TITLES)
        _code, county = rng.choice(COUNTIES)
        lo = rng.choice([2500, 3000, 3500, 4000, 5000])
        jobs.append(
            {
                "job_id": f"J{i + 1:05d}",
                "title": title,
                "employer": rng.choice(EMPLOYERS),
                "county": county,
                "salary": f"{lo}-{lo + rng.choice([500, 1000, 2000])}元/月",
                "education": edu,
                "headcount": rng.randint(1, 20),
                "published": str(today - _dt.timedelta(days=rng.randint(0, 60))),
            }
        )
    gig_jobs = []
    for i in range(80):
        _code, county = rng.choice(COUNTIES)
        gig_jobs.append(
            {
                "gig_id": f"G{i + 1:05d}",
                "title": rng.choice(GIG_TITLES),
                "county": county,
                "pay": f"{rng.choice([120, 150, 180, 200, 260])}元/天",
                "days": rng.randint(1, 30),
                "contact": rng.choice(SURNAMES) + "先生",
                "published": str(today - _dt.timedelta(days=rng.randint(0, 20))),
            }
        )
    gig_seekers: list[dict[str, Any]] = []
    for r in residents.values():
        if "gig_seeker" in r.registrations and len(gig_seekers) < 200:
            gig_seekers.append(
                {
                    "seeker_id": f"S{len(gig_seekers) + 1:05d}",
                    "name": r.name[0] + "**",
                    "gender": r.gender,
                    "age": r.age(today),
                    "county": r.county,
                    "skills": rng.choice(GIG_TITLES),
                    "available": rng.choice(["随时", "周末", "农闲时"]),
                }
            )
    fairs = []
    for i in range(16):
        _code, county = rng.choice(COUNTIES)
        day = today + _dt.timedelta(days=rng.randint(-10, 60))
        fairs.append(
            {
                "fair_id": f"F{i + 1:03d}",
                "name": f"{county}{rng.choice(['春风行动', '就业援助月', '民营企业', '金秋'])}专场招聘会",
                "date": str(day),
                "place": f"{county}人力资源市场",
                "audience": rng.choice(["所有求职者", "高校毕业生", "农村转移劳动力", "就业困难人员"]),
                "employers": rng.randint(20, 120),
            }
        )
    fairs.sort(key=lambda f: str(f["date"]))
    institutions = []
    for i, name in enumerate(INSTITUTIONS):
        _code, county = COUNTIES[i % len(COUNTIES)]
        institutions.append(
            {
                "institution_id": f"T{i + 1:03d}",
                "name": name,
                "county": county,
                "courses": "、".join(rng.sample(OCCUPATIONS, 3)),
                "phone": f"0358-{rng.randint(4000000, 4999999)}",
                "next_class": str(today + _dt.timedelta(days=rng.randint(5, 40))),
            }
        )
    policies = [{"category": c, "title": t, "document": d} for c, t, d in POLICIES]
    return World(seed, today, residents, staff, jobs, gig_jobs, gig_seekers, fairs, institutions, policies)
