#!/usr/bin/env python3
"""Build config/catalog.json from the two seed documents.

    python scripts/build_catalog.py            # write config/catalog.json
    python scripts/build_catalog.py --check    # exit 1 if the committed file differs
    python scripts/build_catalog.py --report   # print the parse decisions (ambiguities)

Seed 004 (the 40-item list) gives number, category, name, content, channels,
audience, conditions and the time limit; seed 002 (the service guides) gives
the guide text. Both are PDF-extracted text, so this script repairs line
breaks and page furniture; every repair that is a judgement call is listed in
AMBIGUITIES and in docs/catalog.md.

What the seeds do not state as data (the item's kind, the form fields, the
receipt type) is hand-authored in ITEM_META below, from the guide text of each
item. The eligibility rules live in config/rules.json (the rule table, one row
per guide condition with the sentence it quotes); load_catalog attaches them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The seeds live beside the repository (../shared/seeds), as the issues cite them.
SEEDS_DIR = Path(os.environ.get("KIOSK_SEEDS_DIR", ROOT.parent / "shared" / "seeds"))
LIST_SEED = "004_0db79a21b1251fb6.txt"
GUIDE_SEED = "002_5c165d75777034b1.txt"
OUT = ROOT / "config" / "catalog.json"

CATEGORIES = [
    {"id": "jobs", "name": "我要找工作"},
    {"id": "skills", "name": "我要学技能"},
    {"id": "insurance", "name": "我要办社保"},
    {"id": "card", "name": "我要办社保卡"},
]
CATEGORY_BY_NAME = {c["name"]: c["id"] for c in CATEGORIES}
CHANNEL_WORDS = {"柜面": "counter", "自助机": "kiosk"}

TIME_LIMIT_RE = re.compile(r"^(即时办结|(\d+)\s*个?\s*工作日(内办结)?)$")

# Judgement calls made while reading the seeds (printed by --report).
AMBIGUITIES: list[str] = []


def seed_path(name: str, seeds_dir: Path = SEEDS_DIR) -> Path:
    return seeds_dir / name


# --------------------------------------------------------------------------
# text clean-up shared by both seeds

_CJK = r"\u2018-\u201f\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_CJK_SPACE_RE = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")


def squeeze_cjk_spaces(text: str) -> str:
    """Drop spaces the PDF extraction put between two CJK characters ("窗 口").

    Spaces next to Latin letters or digits ("民生山西 APP", "5 个工作日") are
    the document's own typesetting and stay.
    """
    return _CJK_SPACE_RE.sub("", text)


def normalize_for_compare(text: str) -> str:
    """Whitespace-free form used to check that catalog text is in a seed."""
    return re.sub(r"\s+", "", text)


# --------------------------------------------------------------------------
# seed 004: the 40-item list


def parse_list(text: str) -> list[dict]:
    start = text.index("服务事项清单")
    end = text.index("附件 2", start)
    rows = []
    category = None
    prev_audience = ""
    for line in text[start:end].splitlines():
        if not re.match(r"^\d+\t", line):
            continue
        cols = [c.strip() for c in line.split("\t")]
        while len(cols) < 8:
            cols.append("")
        no = int(cols[0])
        cat_text = cols[1]
        if cat_text:
            cat_name = re.sub(r"\s*\(\d+\)\s*$", "", cat_text).strip()
            category = CATEGORY_BY_NAME[cat_name]
        name, content, channels_text, audience, conditions, time_text = cols[2:8]
        if not TIME_LIMIT_RE.match(time_text) and not audience:
            # Row 10: the audience cell is empty and the audience/conditions
            # texts sit one column to the right; the time-limit cell is missing.
            AMBIGUITIES.append(
                f"item {no}: seed 004 row is shifted one column (audience empty, "
                f"time-limit cell holds {time_text!r}); read audience={conditions!r}, "
                f"conditions={time_text!r}, time limit taken from the guide (seed 002)"
            )
            audience, conditions, time_text = conditions, time_text, ""
        if not audience:
            AMBIGUITIES.append(
                f"item {no}: audience cell empty in seed 004 (vertically merged cell); "
                f"inherited {prev_audience!r} from the row above"
            )
            audience = prev_audience
        prev_audience = audience
        channels = []
        for word in re.split(r"[、,，\s]+", channels_text):
            if word:
                channels.append(CHANNEL_WORDS[word])
        rows.append(
            {
                "no": no,
                "category": category,
                "name": name,
                "content": content,
                "audience": audience,
                "conditions": conditions,
                "channels": channels,
                "time_limit_text": time_text,
            }
        )
    return rows


def parse_time_limit(text: str, guide_time_text: str) -> dict:
    m = TIME_LIMIT_RE.match(text.strip())
    if not m:
        raise ValueError(f"unrecognised time limit {text!r}")
    if m.group(1) == "即时办结":
        return {"kind": "instant"}
    return {
        "kind": "working_days",
        "days": int(m.group(2)),
        # The list gives only the number; how to count is in the guide.
        "exclude_application_day": "不含申请日" in guide_time_text,
    }


# --------------------------------------------------------------------------
# seed 002: the guides

GUIDE_LABELS = {
    "事项名称": "name",
    "事项说明": "description",
    "服务对象": "audience",
    "办理条件": "conditions",
    "办理地点": "place",
    "所需材料": "materials",
    "办理流程": "procedure",
    "办结时限": "time_limit",
    "注意事项": "notes",
    "办理须知": "notes",
    "结果反馈": "result",
}
LABEL_RE = re.compile(r"^\s*(" + "|".join(GUIDE_LABELS) + r")\s*[:：]\s*(.*)$")
FOOTER_RE = re.compile(r"^\s*—\s*\d+\s*—\s*$")
HEADER_RE = re.compile(r"^\s*\S*办事指南\s*$")
# A line that starts a new paragraph inside a field (else lines are joined).
PARAGRAPH_RE = re.compile(
    r"^(\d+[、.．]|[①-⑳]|[（(]\s*[一二三四五六七八九十]+\s*[）)]|\S{2,8}，是指)"
)
# "照片：..." starts a sub-paragraph only after a finished sentence; a wrapped
# line such as "失业保险金：重新就业的..." does not.
SUBLABEL_RE = re.compile(r"^[\u4e00-\u9fff]{2,6}：")


def join_lines(lines: list[str]) -> str:
    parts: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if parts and (
            PARAGRAPH_RE.match(line) or (SUBLABEL_RE.match(line) and parts[-1][-1:] in "。；：")
        ):
            parts.append("\n")
        parts.append(line)
    return squeeze_cjk_spaces("".join(parts)).strip()


def parse_guides(text: str) -> dict[int, dict]:
    lines = text.splitlines()
    starts: dict[int, int] = {}
    pos = 0
    for no in range(1, 41):
        pat = re.compile(rf"^\s*{no}\.(\S.*)$")
        for i in range(pos, len(lines)):
            if pat.match(lines[i]) and any(
                lines[j].strip().startswith("事项名称") for j in range(i + 1, min(i + 6, len(lines)))
            ):
                starts[no] = i
                pos = i + 1
                break
        else:
            raise ValueError(f"guide {no} not found in seed 002")
    guides: dict[int, dict] = {}
    for no in range(1, 41):
        begin = starts[no]
        end = starts[no + 1] if no < 40 else len(lines)
        body = lines[begin:end]
        # The next item's running title ("固定工岗位信息推荐") sits just before its
        # number line; drop trailing titles, headers, footers and blanks.
        next_title = ""
        if no < 40:
            next_title = re.sub(rf"^\s*{no + 1}\.", "", lines[end]).strip()
        while body and (
            not body[-1].strip()
            or FOOTER_RE.match(body[-1])
            or HEADER_RE.match(body[-1])
            or (next_title and body[-1].strip() == next_title)
        ):
            body.pop()
        fields: dict[str, list[str]] = {}
        current = None
        title_lines = []
        for line in body[1:]:
            if FOOTER_RE.match(line) or HEADER_RE.match(line):
                continue
            m = LABEL_RE.match(line)
            if m:
                current = GUIDE_LABELS[m.group(1)]
                fields.setdefault(current, [])
                if fields[current]:
                    fields[current].append("")
                fields[current].append(m.group(2))
                continue
            if current is None:
                title_lines.append(line)  # second line of a long title (30, 31)
                continue
            fields[current].append(line)
        title = join_lines([re.sub(rf"^\s*{no}\.", "", lines[begin])] + title_lines)
        guide = {k: join_lines(v) for k, v in fields.items()}
        guide["title"] = title
        guides[no] = guide
    return guides


# --------------------------------------------------------------------------
# hand-authored metadata per item (kind, fields, receipt); the rules are config/rules.json

PHONE = {"name": "phone", "label": "联系电话", "type": "phone", "required": True}


def _f(name, label, type_, required=True, **extra):
    field = {"name": name, "label": label, "type": type_, "required": required}
    field.update(extra)
    return field


# One-tap answers offered above the pinyin keypad (the keypad stays for anything else): the job
# titles the platform's vacancies use most, and where a villager is willing to work.
FIXED_JOBS = ["普工", "电工", "司机", "厨师", "保洁员", "焊工"]
GIG_JOBS = ["红枣采摘", "搬运装卸", "建筑小工", "餐厅帮工", "农田除草", "快递分拣"]
PLACES = ["本县", "本市", "省内", "不限"]

SUSPEND_REASONS = ["死亡", "失踪", "在押服刑", "疑似重复领取", "其他"]

ITEM_META: dict[int, dict] = {
    1: {"kind": "registration", "fields": [
        PHONE,
        _f("job_type", "求职工种", "text_zh", suggestions=FIXED_JOBS),
        _f("work_place", "期望工作地点", "text_zh", suggestions=PLACES),
        _f("expected_pay", "期望月薪（元）", "money"),
        _f("education", "文化程度", "choice", choices=["小学及以下", "初中", "高中/中专", "大专", "本科及以上"]),
    ]},
    2: {"kind": "enquiry"},
    3: {"kind": "enquiry"},
    4: {"kind": "registration", "fields": [
        PHONE,
        _f("job_type", "零工工种", "text_zh", suggestions=GIG_JOBS),
        _f("work_place", "期望工作地点", "text_zh", suggestions=PLACES),
        _f("expected_pay", "期望日薪（元）", "money"),
        _f("available_time", "可工作时间", "choice", choices=["随时", "工作日", "周末", "农闲时"]),
    ]},
    5: {"kind": "enquiry"},
    6: {"kind": "enquiry"},
    7: {"kind": "registration", "fields": [
        PHONE,
        _f("job_type", "需要的零工工种", "text_zh", suggestions=GIG_JOBS),
        _f("work_place", "工作地点", "text_zh"),
        _f("headcount", "需要人数", "digits", min=1, max=999),
        _f("pay", "日薪（元）", "money"),
        _f("start_date", "开工日期", "date"),
        _f("duration_days", "工作天数", "digits", min=1, max=365),
    ]},
    8: {"kind": "enquiry"},
    9: {"kind": "enquiry"},
    10: {"kind": "registration", "fields": [
        PHONE,
        _f("employment_type", "就业类型", "choice", choices=["临时工", "非全日制用工", "新就业形态"]),
        _f("start_date", "就业开始时间", "date"),
    ]},
    11: {"kind": "registration", "fields": [
        PHONE,
        _f("reason", "失业情形", "choice", choices=[
            "从各类学校毕业、肄业", "从用人单位失业", "个体工商户或私营企业停业、破产",
            "承包土地被征用", "军人退出现役且未纳入国家统一安置", "刑满释放、假释、监外执行", "其他"]),
        _f("unemployed_since", "失业日期", "date"),
    ]},
    12: {"kind": "info"},
    13: {"kind": "enquiry"},
    14: {"kind": "info"},
    15: {"kind": "enquiry"},
    16: {"kind": "registration", "fields": [
        PHONE,
        _f("group", "人员类别", "choice", choices=[
            "防止返贫监测对象", "毕业年度高校毕业生", "城乡未继续升学的应届初高中毕业生",
            "农村转移就业劳动者", "城镇登记失业人员", "就业困难人员"]),
        _f("training_type", "想学的工种", "text_zh"),
    ]},
    17: {"kind": "enquiry"},
    18: {"kind": "enquiry"},
    19: {"kind": "enquiry"},
    20: {"kind": "registration", "fields": [
        PHONE,
        _f("base_percent", "缴费基数（社平工资的百分比，60-300）", "digits", min=60, max=300),
        _f("payment_period", "缴费方式", "choice", choices=["按月", "按季", "按年"]),
    ]},
    21: {"kind": "certification", "kiosk_mode": "application", "requires_photo": True, "receipt": "certification",
         "fields": [PHONE]},
    22: {"kind": "application", "fields": [
        _f("certificate_no", "证书编号", "certificate_no"),
        _f("certificate_level", "证书等级", "choice", choices=["初级（五级）", "中级（四级）", "高级（三级）"]),
        _f("certificate_date", "发证日期", "date"),
        _f("occupation", "职业（工种）", "text_zh"),
        PHONE,
    ]},
    23: {"kind": "application", "fields": [
        _f("separation_date", "中断就业日期", "date"),
        _f("separation_reason", "中断就业原因", "choice", choices=[
            "劳动合同期满终止", "用人单位解除劳动合同", "被用人单位辞退或开除", "其他非本人意愿原因"]),
        PHONE,
    ]},
    24: {"kind": "application", "fields": [
        _f("relation", "申请人与待遇领取人的关系", "choice", choices=["本人", "家属"]),
        _f("beneficiary_id", "待遇领取人身份证号", "id_number"),
        _f("reason", "暂停原因", "choice", choices=SUSPEND_REASONS),
        _f("event_date", "情形发生日期", "date"),
        PHONE,
    ]},
    25: {"kind": "enquiry"},
    26: {"kind": "enquiry"},
    27: {"kind": "enquiry"},
    28: {"kind": "registration", "fields": [PHONE]},
    29: {"kind": "registration", "fields": [PHONE]},
    30: {"kind": "application", "fields": [
        _f("change_item", "变更项目", "choice", choices=["性别", "民族", "居住地址", "联系电话"]),
        _f("new_value", "变更后的内容", "text_zh"),
        PHONE,
    ]},
    31: {"kind": "application", "fields": [
        _f("action", "申请事项", "choice", choices=["暂停缴费", "恢复缴费"]),
        _f("reason", "原因", "choice", choices=["死亡", "失踪", "参加其他基本养老保险", "其他"]),
        PHONE,
    ]},
    32: {"kind": "application", "fields": [
        _f("reason", "补缴情形", "choice", choices=[
            "制度实施时距规定领取年龄不足15年", "参保后有缴费中断", "已逐年缴费，有补足15年意愿"]),
        _f("years", "补缴年数", "digits", min=1, max=15),
        PHONE,
    ]},
    33: {"kind": "enquiry"},
    34: {"kind": "application", "fields": [PHONE]},
    35: {"kind": "application", "fields": [PHONE]},
    36: {"kind": "enquiry"},
    37: {"kind": "application", "fields": [
        _f("relation", "申请人与待遇领取人的关系", "choice", choices=["本人", "家属"]),
        _f("beneficiary_id", "待遇领取人身份证号", "id_number"),
        _f("reason", "暂停原因", "choice", choices=SUSPEND_REASONS),
        _f("event_date", "情形发生日期", "date"),
        PHONE,
    ]},
    38: {"kind": "card", "kiosk_mode": "application"},
    39: {"kind": "card", "kiosk_mode": "enquiry"},
    40: {"kind": "card", "kiosk_mode": "application", "fields": [
        _f("action", "办理类型", "choice", choices=["临时挂失", "正式挂失", "解除挂失"]),
    ]},
}

RECEIPT_BY_KIND = {
    "registration": "acceptance",
    "application": "acceptance",
    "enquiry": "enquiry",
    "info": "enquiry",
    "card": "acceptance",
    "certification": "certification",
}


# What each item does on the kiosk beyond its mode (catalog key "flow", docs/catalog.md):
# a one-line description for `kiosk flow list`, and the behaviour the flow engine reads
# instead of item numbers.
DOES_ZH = {
    1: "登记求职意向（工种、地点、月薪、学历），受理回执",
    2: "平台按求职登记排序推荐固定工岗位，分页，可打印",
    3: "浏览固定工岗位：按乡镇/区县、工种、月薪筛选，分页，可打印",
    4: "登记零工意向（工种、地点、日薪、时间），受理回执",
    5: "平台按零工登记排序推荐零工岗位，分页，可打印",
    6: "浏览零工岗位：按地点、工种、日薪筛选，分页，可打印",
    7: "雇主登记零工需求（工种、地点、人数、日薪、开工日期、天数），受理回执",
    8: "平台为已登记雇主推荐匹配的零工求职者（姓名脱敏）",
    9: "浏览零工求职者（姓名脱敏），可筛选",
    10: "灵活就业登记，受理回执（5个工作日）",
    11: "失业登记（失业情形、日期、电话），受理回执（10个工作日）",
    12: "就业政策法规列表，可打印",
    13: "查询本人《就业创业证》，可打印",
    14: "近期招聘会列表，可打印",
    15: "查询本人档案存放机构，可打印",
    21: "拍照（手持身份证和当天报纸）认证，认证回执（柜面事项，按议题在自助机办理）",
    22: "填写证书编号、等级、发证日期、工种，核验证书一年内，受理回执",
    23: "填写中断就业日期和原因，受理回执",
    25: "逐年参保缴费记录和累计缴费月数，可打印",
    26: "逐月养老金发放记录及失败原因，可打印",
    27: "逐月失业保险金发放记录及失败原因，可打印",
    33: "逐年城乡居民养老保险缴费记录和累计年限，可打印",
    36: "逐月城乡居民养老金发放记录及失败原因，可打印",
    38: "启用社保卡社保功能（柜面事项，按议题在自助机办理），受理回执",
    39: "社保卡状态和办卡进度，挂失自动解挂日期，银行挂失提醒",
    40: "临时挂失（7天后自动解挂，显示日期）、正式挂失、解除挂失，提醒到银行挂失金融功能",
}

FLOW = {
    1: {"follow_ups": [2, 3]},
    2: {"recommend": "fixed_jobs"},
    3: {"filters": ["township", "type", "min_pay"], "pay_column": "salary"},
    4: {"follow_ups": [5, 6]},
    5: {"recommend": "gig_jobs"},
    6: {"filters": ["township", "type", "min_pay"], "pay_column": "pay"},
    7: {"follow_ups": [8], "platform_fields": "job_title"},
    8: {"recommend": "gig_seekers", "masks_names": True},
    9: {"filters": ["township", "type"], "masks_names": True},  # seekers state no pay
    11: {"follow_ups": [23]},
    20: {"platform_fields": "base_ratio"},
    21: {"result_notes": ["认证结果由县级社保经办机构审核后反馈，可通过“民生山西”手机软件查询。"]},
    22: {"platform_fields": "certificate_level"},
    23: {"platform_fields": "involuntary_separation"},
    30: {"platform_fields": "change_item"},
    31: {"platform_fields": "pause_action"},
    38: {"result_notes": ["本业务仅指社会保障卡社保功能的启用，不包括金融功能的启用。"]},
    39: {"card_status_notes": True, "follow_ups": [40]},
    40: {"card_loss_notes": True, "platform_fields": "card_action"},
}


def flow_for(no: int) -> dict:
    flow = dict(FLOW.get(no, {}))
    if no in DOES_ZH:
        flow = {"does_zh": DOES_ZH[no], **flow}
    return flow


def receipt_for(meta: dict, channels: list[str]) -> str:
    if "receipt" in meta:
        return meta["receipt"]
    if "kiosk" not in channels:
        return "checklist"  # counter-only: print what to bring (一次性告知)
    return RECEIPT_BY_KIND[meta["kind"]]


def kiosk_mode_for(meta: dict, channels: list[str]) -> str:
    """How the kiosk handles the item: ``enquiry`` / ``application`` completes it here,
    ``counter`` prints the checklist. The list's 自助机 items complete here; so do the four
    counter items the kiosk also carries (21 certification with a photo, 38-40 card services)."""
    if "kiosk_mode" in meta:
        return meta["kiosk_mode"]
    if "kiosk" not in channels:
        return "counter"
    return "enquiry" if meta["kind"] in ("enquiry", "info") else "application"


GUIDE_KEYS = ["description", "audience", "conditions", "place", "materials", "procedure", "time_limit", "notes", "phone"]


def build(seeds_dir: Path = SEEDS_DIR) -> dict:
    AMBIGUITIES.clear()
    list_text = seed_path(LIST_SEED, seeds_dir).read_text(encoding="utf-8")
    guide_text = seed_path(GUIDE_SEED, seeds_dir).read_text(encoding="utf-8")
    rows = parse_list(list_text)
    guides = parse_guides(guide_text)
    items = []
    for row in rows:
        no = row["no"]
        g = guides[no]
        if normalize_for_compare(g["title"]) != normalize_for_compare(row["name"]):
            AMBIGUITIES.append(
                f"item {no}: seed 004 names it {row['name']!r} but the guide numbered {no} in seed 002 "
                f"is {g['title']!r}; kept the list's name, used guide {no}'s text"
            )
        guide = {k: g.get(k, "") for k in GUIDE_KEYS}
        if g.get("result"):
            # Card guides (38-40) have 结果反馈 instead of 办理流程: it says
            # where the result is delivered, which is what 办理流程 tells elsewhere.
            guide["procedure"] = "结果反馈：" + g["result"]
            AMBIGUITIES.append(f"item {no}: guide has 结果反馈 and no 办理流程; stored as procedure \"结果反馈：...\"")
        for key in ("conditions", "place", "procedure", "notes"):
            if not guide[key]:
                AMBIGUITIES.append(f"item {no}: guide has no {key}; left empty")
        time_text = row["time_limit_text"]
        if not time_text:
            time_text = guide["time_limit"]
        time_limit = parse_time_limit(time_text, guide["time_limit"])
        g_time = parse_time_limit(
            re.sub(r"（.*?）", "", guide["time_limit"]).replace("工作日", "个工作日").replace("个个", "个"), ""
        )
        if (g_time["kind"], g_time.get("days")) != (time_limit["kind"], time_limit.get("days")):
            AMBIGUITIES.append(
                f"item {no}: time limit differs: list {row['time_limit_text'] or '(missing)'!r}, "
                f"guide {guide['time_limit']!r}; used the list's"
            )
        meta = ITEM_META[no]
        items.append(
            {
                "no": no,
                "category": row["category"],
                "name": row["name"],
                "content": row["content"],
                "audience": row["audience"],
                "conditions": row["conditions"],
                # Seed 004 has no materials column: its 办理条件 column is what to
                # bring, so it doubles as the list-level materials text.
                "materials": row["conditions"],
                "channels": row["channels"],
                "kiosk_mode": kiosk_mode_for(meta, row["channels"]),
                "time_limit": time_limit,
                "time_limit_text": time_text,
                "kind": meta["kind"],
                "guide": guide,
                "fields": meta.get("fields", []),
                "requires_photo": meta.get("requires_photo", False),
                "receipt": receipt_for(meta, row["channels"]),
            }
        )
        if flow_for(no):
            items[-1]["flow"] = flow_for(no)
    return {
        "version": 1,
        "sources": {"list": LIST_SEED, "guides": GUIDE_SEED},
        "categories": CATEGORIES,
        "items": items,
    }


def dumps(catalog: dict) -> str:
    return json.dumps(catalog, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file")
    ap.add_argument("--report", action="store_true", help="print the judgement calls")
    ap.add_argument("--seeds", type=Path, default=SEEDS_DIR)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    text = dumps(build(args.seeds))
    if args.report:
        for line in AMBIGUITIES:
            print(line)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run scripts/build_catalog.py", file=sys.stderr)
            return 1
        return 0
    if not args.report:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
