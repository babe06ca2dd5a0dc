#!/usr/bin/env python3
"""Build config/disclosure/<county>.json from the county disclosure catalogs.

The seeds are text extracted from PDF tables, so cells are flattened into
lines and a row that crosses a page break is split into pieces interleaved
with the next columns. Each county's layout gets its own small parser that
classifies lines into columns (elements, legal basis, deadline, subject,
channels); a short, hand-checked table of fixes per county then corrects
what the layout makes ambiguous (stray fragments from split cells, level-1
names). Every fix asserts that the text it replaces is present, so a changed
seed fails loudly instead of silently.

    python scripts/build_disclosure.py [--seeds DIR] [--out DIR] [--check]

--check rebuilds in memory and exits 1 if a committed JSON differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SEEDS = ROOT.parent / "shared" / "seeds"
DEFAULT_OUT = ROOT / "config" / "disclosure"

ELEMENT_KEYS = ["name", "summary", "materials", "method", "time_limit", "result_delivery",
                "fees", "office_hours", "office", "enquiry", "complaint"]
ELEMENT_LABELS = {
    "name": "事项名称", "summary": "事项简述", "materials": "办理材料", "method": "办理方式",
    "time_limit": "办理时限", "result_delivery": "结果送达", "fees": "收费依据及标准",
    "office_hours": "办事时间", "office": "办理机构及地点", "enquiry": "咨询查询途径",
    "complaint": "监督投诉渠道",
}

CJK = r"\u3400-\u9fff\u3000-\u303f\uff00-\uffef《》“”"
_cjk_gap = re.compile(rf"(?<=[{CJK}])[ \t]+(?=[{CJK}])")
_ws = re.compile(r"[ \t\u3000]+")


def unjustify(line: str) -> str:
    """Drop the spaces PDF justification put between Chinese characters.

    Only on lines that are mostly spaced out ("失 业 保 险"); a single space
    between two phrases ("业务室 联系电话") is kept.
    """
    line = line.strip()
    if len(_cjk_gap.findall(line)) >= 3:
        line = _cjk_gap.sub("", line)
    return _ws.sub(" ", line)


_LIST_START = re.compile(r"^([①-⑳]|[（(]\d+[)）]|\d+[.、．](?!\d)|[一二三四五六七八九十]+、|注[:：])")


def join_lines(lines: list[str]) -> str:
    """Join lines broken by the table layout; keep a break before list entries."""
    out = ""
    for ln in lines:
        ln = ln.strip()
        if not ln:
            continue
        if out and _LIST_START.match(ln) and not out.endswith("\n"):
            out += "\n"
        elif out and re.match(r"\d{3,4}-\d{7,8}", ln) and not out[-1].isspace() and out[-1] not in "：:":
            out += " "  # "...社会保障局" / "0358-4421561"
        out += ln
    return out.strip()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass
class RawItem:
    no: str | None = None
    levels: list[str] = field(default_factory=list)
    elem_lines: list[str] = field(default_factory=list)
    legal: list[str] = field(default_factory=list)
    deadline: list[str] = field(default_factory=list)
    subject: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    checks: int = 0


# ---------------------------------------------------------------- 临县 (seed 000)

_L_NUMBERED = {k: i + 1 for i, k in enumerate(ELEMENT_KEYS)}
# label -> element key (None: kept under extras with the label as key)
_L_LABELS = {
    "事项名称": "name", "事项简述": "summary", "办理材料": "materials", "申请材料": "materials",
    "办理方式": "method", "办理时限": "time_limit", "结果送达": "result_delivery",
    "收费依据及标准": "fees", "办事时间": "office_hours", "办理时间": "office_hours",
    "办理机构及地点": "office", "办理地点（方式）": "office", "咨询查询途径": "enquiry",
    "咨询电话": "enquiry", "监督投诉渠道": "complaint",
    "对象范围": None, "工作流程": None, "社会保障卡银行账号激活": None,
}


def _spaced(label: str) -> str:
    return r"\s*".join(re.escape(c) for c in label)


# "N.label" anywhere (N must be the element's own number), or "label：" at a line start
_NUMBERED_RE = re.compile(
    r"(?P<num>\d{1,2})\s*[.．]\s*(?P<label>" + "|".join(
        _spaced(ELEMENT_LABELS[k]) for k in ELEMENT_KEYS) + r")\s*[:：]?\s*")
_BARE_RE = re.compile(
    r"(?:^|(?<=\n))(?P<label>" + "|".join(_spaced(lb) for lb in sorted(_L_LABELS, key=len, reverse=True))
    + r")\s*[:：]\s*")

_NAME_MARK = re.compile(r'^"?\s*(?:1\s*[.．]\s*)?事项名称(?!、)')
_ITEMNO = re.compile(r"^(\d{1,2}(?:-\d{1,2})?)(?:\s+(.*))?$")
_CHECK = re.compile(r"^[√\s]+$")
_LEGAL_OPEN = re.compile(r'^"?\s*(?:\d{1,2}\s*[.、．]|\.)?\s*《')
_HEADER_JUNK = re.compile(r"(事项名称|事项简述|办理材料|办理方式|办理|时限|结果送达|收费依据及标准|办事时间|"
                          r"办|理机构及地点|咨询查询途径|监督投诉渠)(、(事项名称|事项简述|办理材料|办理方式|办理|"
                          r"时限|结果送达|收费依据及标准|办事时间|办|理机构及地点|咨询查询途径|监督投诉渠)){2,}")
_PHONE_END = re.compile(r"\d{7,8}[.。\"]?\s*$")
_LEGAL_CLOSED = ('"', "）", ")", "》", ">>", "号", "文件", "；", ";")


def _is_deadline_start(lines: list[str], i: int) -> bool:
    ln = squash(lines[i])
    if ln.startswith(("公开事项信息", "办结之后")):
        return True
    if any(t in ln for t in ("（", "）", "(", ")", "《", "》", "条例", "号", "令", "、", "，", "。", "：")):
        return False
    window = squash("".join(lines[i:i + 2]))
    return "办理完" in window and not ln.startswith(("1.", "2.", "3."))


def _strong_legal(lines: list[str], i: int) -> bool:
    """Every legal basis here opens with the Government Information Disclosure Regulations."""
    return bool(_LEGAL_OPEN.match(unjustify(lines[i]))) and "政府信息公" in squash("".join(lines[i:i + 2]))


def _elements_complete(item: RawItem) -> bool:
    text = "\n".join(item.elem_lines)
    last = None
    for m in re.finditer(r"监督投诉渠\s*道|咨询电话", text):
        last = m
    if last is None:
        return False
    tail = text[last.end():]
    return bool(_PHONE_END.search(tail)) or tail.rstrip().endswith('"') and bool(re.search(r"\d{7,8}", tail))


def _legal_unfinished(item: RawItem) -> bool:
    if not item.legal:
        return False
    last = item.legal[-1].strip()
    return not last.endswith(_LEGAL_CLOSED)


_LEGALISH = re.compile(r"《|》|条例|修正|号）|〔|【|国发|政发")


def classify_linxian(lines: list[str]) -> list[RawItem]:
    lines = [ln for ln in lines if ln.strip()]
    items: list[RawItem] = []
    cur: RawItem | None = None
    pending_levels: list[str] = []
    pending_no: str | None = None
    level_to_cur = False
    state = "LEVEL"

    def start_item(first: str) -> None:
        nonlocal cur, pending_levels, pending_no, state, level_to_cur
        cur = RawItem(no=pending_no, levels=pending_levels)
        items.append(cur)
        cur.elem_lines.append(first.lstrip('" '))
        pending_levels, pending_no, level_to_cur = [], None, False
        state = "ELEM"

    i = 0
    while i < len(lines):
        line = unjustify(lines[i])
        i += 1
        if not line:
            continue
        if _CHECK.match(line):
            if cur is not None:
                cur.checks = max(cur.checks, line.count("√"))
            state, level_to_cur = "AFTER_CHECK", False
            continue
        if _HEADER_JUNK.search(line):
            continue  # a column-header fragment leaked into one row (5-1)
        if line in ("台", "平台"):
            if cur is not None:
                cur.channels.append(line)
            continue
        m = _ITEMNO.match(line)
        if m and not (state == "ELEM" and cur is not None and not _elements_complete(cur)):
            no, rest = m.group(1), (m.group(2) or "").strip()
            if i < len(lines) and re.fullmatch(r"-\d{1,2}", lines[i].strip()):  # "12" / "-2"
                no += lines[i].strip()
                i += 1
            if cur is not None and cur.no is None:
                cur.no, level_to_cur = no, True
            else:
                pending_no = no
            state = "LEVEL"
            if rest:
                mk = re.search(r"(?:1\s*[.．]\s*)?事项名称", rest)
                if mk:
                    if rest[:mk.start()].strip():
                        pending_levels.append(rest[:mk.start()].strip())
                    start_item(rest[mk.start():])
                else:
                    (cur.levels if level_to_cur else pending_levels).append(rest)
            continue
        mid = re.search(r"\s(?:1\s*[.．]\s*)?事项名称[:：]", line)
        if mid and state in ("LEVEL", "AFTER_CHECK"):  # "社会保障卡注销 事项名称：..."
            pending_levels.append(line[:mid.start()].strip())
            start_item(line[mid.start():].strip())
            continue
        if _NAME_MARK.match(line) or (re.match(r"^对象范围[:：]", line)
                                      and not (state == "ELEM" and not _elements_complete(cur))):
            start_item(line)
            continue
        if cur is None:
            pending_levels.append(line)
            continue

        complete = _elements_complete(cur)
        if state in ("ELEM", "AFTER_CHECK") and not complete:
            in_quote = _open_quote_in_materials(cur)
            bare_label = _BARE_RE.match(line)
            if state == "ELEM" and not bare_label and (
                    _strong_legal(lines, i - 1) or (not in_quote and line.startswith("■"))):
                pass  # falls through to the column logic below
            else:
                cur.elem_lines.append(line)
                state = "ELEM"
                continue
        elif state in ("ELEM", "AFTER_CHECK") and complete and _BARE_RE.match(line):
            cur.elem_lines.append(line)  # an extra labelled paragraph after the complaint channel
            state = "ELEM"
            continue

        if line == '"':
            continue
        if line.startswith("■") or "■" in line and state == "SUBJECT":
            before, _, after = line.partition("■")
            if before.strip():
                cur.subject.append(before.strip())
            cur.channels.append("■" + after)
            state = "CHANNEL"
            continue
        if state == "CHANNEL" and len(line) <= 3:
            cur.channels.append(line)
            continue
        if state in ("DEADLINE",):
            cur.deadline.append(line)
            if squash("".join(cur.deadline)).endswith(("公开", "公布")):
                state = "SUBJECT"
            elif "公开" in line:
                head, _, tail = line.partition("公开")
                cur.deadline[-1] = head + "公开"
                if tail.strip():
                    cur.subject.append(tail.strip())
                state = "SUBJECT"
            continue
        if state == "SUBJECT":
            cur.subject.append(line)
            continue
        if _is_deadline_start(lines, i - 1) and state != "LEVEL" or (
                state == "LEVEL" and level_to_cur and _is_deadline_start(lines, i - 1)):
            cur.deadline.append(line)
            state = "DEADLINE"
            if squash(line).endswith("公开"):
                state = "SUBJECT"
            continue
        if _LEGAL_OPEN.match(line) and state != "LEVEL":
            cur.legal.append(line)
            state = "LEGAL"
            continue
        if state == "LEGAL" or (state in ("ELEM", "AFTER_CHECK") and (
                _legal_unfinished(cur) or _LEGALISH.search(line))):
            cur.legal.append(line)
            state = "LEGAL"
            continue
        if state == "LEVEL" and level_to_cur:
            cur.levels.append(line)
            continue
        pending_levels.append(line)
        state = "LEVEL"
    return items


def _open_quote_in_materials(item: RawItem) -> bool:
    text = "\n".join(item.elem_lines)
    m = None
    for m in re.finditer(r"办\s*理\s*材\s*料", text):
        pass
    if m is None:
        return False
    tail = text[m.end():]
    if _NUMBERED_RE.search(tail):
        return False
    return tail.count('"') % 2 == 1


def split_elements(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """Cut an item's element text at its labels: (elements, extras)."""
    marks: list[tuple[int, int, str | None, str]] = []
    for m in _NUMBERED_RE.finditer(text):
        label = squash(m.group("label"))
        key = next(k for k, v in ELEMENT_LABELS.items() if v == label)
        if int(m.group("num")) == _L_NUMBERED[key]:
            marks.append((m.start(), m.end(), key, label))
    numbered = {s for s, _, _, _ in marks}
    for m in _BARE_RE.finditer(text):
        if any(s <= m.start() < e for s, e, _, _ in marks):
            continue
        label = squash(m.group("label"))
        if m.start() not in numbered:
            marks.append((m.start(), m.end(), _L_LABELS[label], label))
    marks.sort()
    elements: dict[str, str] = {}
    extras: dict[str, str] = {}
    for n, (s, e, key, label) in enumerate(marks):
        end = marks[n + 1][0] if n + 1 < len(marks) else len(text)
        value = _clean_value(text[e:end])
        if key is None:
            extras[label] = value
        elif key in elements:
            elements[key] += "\n" + value
        else:
            elements[key] = value
    return elements, extras


def _clean_value(v: str) -> str:
    v = v.strip().strip('"').strip()
    v = re.sub(r"\n?\s*\"\s*$", "", v)
    lines = [ln.strip() for ln in v.split("\n")]
    return join_lines(lines).strip('"').lstrip("。.，,:：").strip().rstrip("；;").strip() if v else ""


# ---------------------------------------------------------------- common output

def channels_from(lines: list[str]) -> list[str]:
    joined = "".join(squash(x) for x in lines)
    return [c for c in (p.strip() for p in re.split(r"■+", joined)) if c]


def legal_text(lines: list[str]) -> str:
    text = join_lines([ln.strip().strip('"') if ln.strip() in ('"',) else ln for ln in lines])
    text = text.strip().strip('"').strip()
    return text


def split_levels(text: str, known_level1: list[str], previous: str) -> tuple[str, str]:
    """Split an item's level text into (level 1, level 2) using the county's level-1 names.

    A row that prints no level-1 name sits in the previous row's merged cell.
    """
    for l1 in sorted(known_level1, key=len, reverse=True):
        if text.startswith(l1):
            return l1, text[len(l1):]
    return previous, text


# 临县 prints office-specific level-1 labels once per merged cell (and splits
# some across page breaks); items are grouped under the standard catalog's
# level-1 names by their number, and the printed labels are stripped from the
# level-2 text.
LINXIAN_GROUPS = [
    (4, "社会保险登记"), (8, "社会保险参保信息维护"), (11, "社会保险缴费申报"),
    (13, "社会保险参保缴费记录查询"), (22, "养老保险服务"), (38, "工伤保险服务"),
    (46, "失业保险服务"), (54, "社会保障卡服务"),
]
LINXIAN_PRINTED_LEVEL1 = [
    "社会保险登记", "失业保险登记", "社会保险参保信息维护", "失业保险参保信息维护",
    "城乡居民养老保险参保信息维护", "社会保险缴费申报", "失业保险缴费申报", "社会保险缴费",
    "城乡居民社会保险费申报", "社会保险参保缴费", "失业保险参保缴费记录查询",
    "4.城乡居民养老保险参保缴费记录查询", "城乡居民养老保险参保缴费记录查询", "养老保险服务",
    "城乡居民养老保险服务", "工伤保险服务", "失业保险服务", "社会保障卡服务",
]


def linxian_group(no: str) -> str:
    n = int(no.split("-")[0])
    return next(name for last, name in LINXIAN_GROUPS if n <= last)


def build_linxian(text: str) -> dict:
    raw = classify_linxian(text.splitlines())
    items = []
    level1 = ""
    for r in raw:
        elements, extras = split_elements("\n".join(r.elem_lines))
        lv = squash("".join(r.levels))
        _, level2 = split_levels(lv, LINXIAN_PRINTED_LEVEL1, "")
        level1 = linxian_group(r.no)
        items.append({
            "no": r.no,
            "levels": [level1, level2],
            "elements": elements,
            "extras": extras,
            "legal_basis": legal_text(r.legal),
            "deadline": squash("".join(r.deadline)),
            "subject": squash("".join(r.subject)),
            "channels": channels_from(r.channels),
            "_checks": r.checks,
        })
    for it in items:
        it["name"] = it["levels"][-1]
    return items


def inherit_merged(items: list[dict]) -> None:
    """An empty cell is merged with the row above (临县 24, 42)."""
    for prev, it in zip(items, items[1:]):
        for key in ("legal_basis", "deadline", "subject"):
            if not it[key]:
                it[key] = prev[key]


# ---------------------------------------------------------------- 云州区 (seed 001)
# A tab-separated table: every cell starts with a tab, a row ends with a blank
# line, 14 cells a row. Empty cells are merged with the row above.

YUNZHOU_LABELS = {
    "事项名称": "name", "事项简述": "summary", "办理材料": "materials", "申请材料": "materials",
    "申报材料": "materials", "办理方式": "method", "办理形式": "method", "办理时限": "time_limit",
    "办理期限": "time_limit", "结果送达": "result_delivery", "收费依据及标准": "fees",
    "收费标准": "fees", "办事时间": "office_hours", "办理地点": "office", "办理机构": "office",
    "办理地址": "office", "咨询电话": "enquiry", "联系电话": "enquiry",
    "对象范围": None, "申请条件": None, "受理条件": None, "服务对象": None, "办理流程": None,
}
_YZ_LABEL_RE = re.compile(r"(?:^|(?<=[\n；;。 ]))\s*(?P<label>" + "|".join(
    sorted(YUNZHOU_LABELS, key=len, reverse=True)) + r")\s*[:：]+")


def yunzhou_fields(content: str) -> tuple[dict[str, str], dict[str, str]]:
    elements: dict[str, str] = {}
    extras: dict[str, str] = {}
    marks = list(_YZ_LABEL_RE.finditer(content))
    for n, m in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(content)
        value = content[m.end():end].strip().strip("；;").strip()
        label = m.group("label")
        key = YUNZHOU_LABELS[label]
        target, k = (extras, label) if key is None else (elements, key)
        target[k] = (target[k] + "\n" + value) if k in target else value
    return elements, extras


def _cell(text: str) -> str:
    lines = [re.sub(r"[ \u3000]{2,}", " ", ln).strip() for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln).strip()


def build_yunzhou(text: str) -> list[dict]:
    cells = text.split("\t")
    start = next(i for i, c in enumerate(cells) if c.strip() == "乡、村级") + 1
    rows: list[list[str]] = []
    cur: list[str] = []
    for c in cells[start:]:
        cur.append(c)
        if re.search(r"\n\s*\n\s*$", c):
            rows.append(cur)
            cur = []
    if cur:
        rows.append(cur)
    flat: list[list[str]] = []
    for r in rows:  # a row whose blank line got lost carries the next one (53/54)
        while len(r) > 14:
            flat.append(r[:14])
            r = r[14:]
            if len(r) < 14:  # the carried row lost its number and level-1 cells
                r = [""] * (14 - len(r)) + r
        flat.append(r)
    items = []
    prev: dict | None = None
    level1 = ""
    for r in flat:
        if len(r) < 14 and not "".join(r).strip():
            continue
        r = r + [""] * (14 - len(r))
        no, l1, l2, content, legal, deadline, subject, channels = (_cell(c) for c in r[:8])
        checks = sum("√" in c for c in r[8:14])
        l1, l2 = squash(l1), squash(l2)
        if not no and not l2:
            continue  # a stray repeat of item 14's content on a page break (no number, no name)
        level1 = l1 or level1
        note = ""
        if not no:  # the number cell was lost on a page break (13, 54)
            no = str(int(prev["no"]) + 1)
            note = "原表此行缺序号，按前后顺序补"
        shared_from = None
        if not content and prev is not None:
            content, shared_from = prev["content"], prev.get("content_shared_from") or prev["no"]
        item = {
            "no": no, "levels": [level1, l2], "name": l2, "content": content,
            "legal_basis": squash(legal) or (prev["legal_basis"] if prev else ""),
            "deadline": squash(deadline) or (prev["deadline"] if prev else ""),
            "subject": squash(subject) or (prev["subject"] if prev else ""),
            "channels": channels_from(channels.split("\n")) if "■" in channels else
            channels.split() or (prev["channels"] if prev else []),
            "_checks": checks,
        }
        if shared_from:
            item["content_shared_from"] = shared_from
        if note:
            item["note"] = note
        elements, extras = yunzhou_fields(content) if content and not shared_from else ({}, {})
        if content.startswith("事项名称、事项简述"):
            item["disclosed_elements"] = [e for e in re.split(r"[、\n]", squash(content)) if e]
            item["content"] = ""
            elements = {}
        item["elements"], item["extras"] = elements, extras
        items.append(item)
        prev = item
    # a merged level-1 cell prints its label in its middle row: rows above the
    # first label belong to it too
    first = next(it["levels"][0] for it in items if it["levels"][0])
    for it in items:
        if it["levels"][0]:
            break
        it["levels"][0] = first
    return items


# ---------------------------------------------------------------- 章贡区 (seed 003)
# Three levels printed two characters a line; each row ends with the line of
# check marks. A row starts at its number, or (where the number column was
# lost) at a name line indented by one space; labels above that are the
# merged cells repeated on a new page.

ZHANGGONG_LEVEL1 = ["社保信息服务", "社会保险参保登记", "社会保险参保信息维护", "社会保险缴费申报",
                    "社会保险参保缴费记录查询", "养老保险服务", "工伤保险服务", "社会保障卡服务"]
ZHANGGONG_LEVEL2 = [
    "社保政策咨询", "社保服务机构信息发布", "社会保险单位（项目）参保登记", "社会保险个人参保登记",
    "社会保险注销和终止登记", "单位参保信息变更", "个人参保信息变更", "单位（项目）基本信息变更",
    "个人基本信息变更", "待遇发放账户维护", "缴费人员增减申报", "缴费工资申报", "社会保险费欠费补缴申报",
    "职工正常退休（职）申请", "暂停养老保险待遇申请", "恢复养老保险待遇申请",
    "养老保险个人账户余额一次性支付申领", "养老保险丧葬补助金和抚恤金申领", "养老保险关系转移接续",
    "多重养老保险关系个人账户退费",
]
# rows that print no level-2 name although the row above has one
ZHANGGONG_NO_LEVEL2 = {"56"}

_ZG_ELEM_START = re.compile(r"^1\.(事项名称|公开依据|机构名称)")
_ZG_DEADLINE = ("信息形成", "或变更之", "日起20个", "工作日内")


def _zg_is_channel(ln: str) -> bool:
    return "■" in ln or "□" in ln or ln in ("会", "心", "（电子屏）", "共服务平台")


def zhanggong_channels(lines: list[str]) -> list[dict]:
    joined = "".join(ln.strip() for ln in lines)
    out = []
    for m in re.finditer(r"([■□])([^■□]+)", joined):
        name = re.sub(r"\s+", " ", m.group(2)).strip()
        if name.startswith("其他 "):
            name = name[3:]
        out.append({"name": name.replace(" ", ""), "checked": m.group(1) == "■"})
    return out


def _split_docs(text: str) -> str:
    return re.sub(r"(?<=[）)])\s*(?=《)", "\n", text).strip()


def build_zhanggong(text: str) -> list[dict]:
    lines = [ln.rstrip("\n") for ln in text.splitlines() if ln.strip()]
    first = next(i for i, ln in enumerate(lines) if ln.strip() == "乡") + 2  # after the header's "乡 / 级"
    segs: list[list[str]] = []
    cur: list[str] = []
    for ln in lines[first:]:
        cur.append(ln)
        if ln.strip().startswith("√"):
            segs.append(cur)
            cur = []
    items = []
    level1 = level2 = ""
    prev_legal = ""
    for n, seg in enumerate(segs, start=1):
        e = next(i for i, ln in enumerate(seg) if _ZG_ELEM_START.match(ln.strip()))
        e_end = e
        while e_end < len(seg) and re.match(r"^\d{1,2}\.", seg[e_end].strip()):
            e_end += 1
        pre = seg[:e]
        marker = None
        for i, ln in enumerate(pre):
            if re.fullmatch(r"\d{1,2}", ln.strip()):
                marker = i + 1
            elif ln.startswith(" ") and len(ln.strip()) <= 4:
                marker = i
        printed_no = next((ln.strip() for ln in pre if re.fullmatch(r"\d{1,2}", ln.strip())), None)
        if printed_no is not None and int(printed_no) != n:
            raise ValueError(f"章贡区: row {n} prints number {printed_no}")
        name_lines = pre[marker:] if marker is not None else pre
        lv = "".join(ln.strip() for ln in name_lines if len(ln.strip()) <= 4 and not _zg_is_channel(ln.strip()))
        new_l1 = next((x for x in ZHANGGONG_LEVEL1 if lv.startswith(x)), None)
        if new_l1:
            level1, lv = new_l1, lv[len(new_l1):]
            level2 = ""
        new_l2 = next((x for x in sorted(ZHANGGONG_LEVEL2, key=len, reverse=True)
                       if lv.startswith(x) and not lv[len(x):].startswith("（")), None)
        if new_l2:
            level2, lv = new_l2, lv[len(new_l2):]
        if str(n) in ZHANGGONG_NO_LEVEL2:
            level2 = ""
        level3 = lv
        elements = [re.sub(r"^\d{1,2}\.", "", ln.strip()) for ln in seg[e:e_end]]
        legal_before, legal_after, deadline, subject, channel_lines = [], [], [], [], []
        for i, ln in enumerate(seg):
            s = ln.strip()
            if e <= i < e_end or s.startswith("√"):
                continue
            if _zg_is_channel(s):
                channel_lines.append(s)
            elif s in _ZG_DEADLINE:
                deadline.append(s)
            elif s == "区人社局":
                subject.append(s)
            elif len(s) > 4 or s in ("）", "号）"):  # short tails of a legal-basis line
                (legal_after if i >= e_end else legal_before).append(s)
        legal = _split_docs("".join(legal_after or legal_before)) or prev_legal
        prev_legal = legal
        levels = [level1, level2, level3]
        items.append({
            "no": str(n), "levels": levels, "name": next(x for x in reversed(levels) if x),
            "disclosed_elements": elements, "legal_basis": legal, "deadline": "".join(deadline),
            "subject": "".join(subject), "channel_checkboxes": zhanggong_channels(channel_lines),
            "elements": {}, "extras": {}, "_checks": seg[-1].count("√"),
        })
    for it in items:
        it["channels"] = [c["name"] for c in it["channel_checkboxes"] if c["checked"]]
    return items


# ---------------------------------------------------------------- fixes and output

# (item no, field, old text, new text). Field is a top-level key, "levels.N",
# "elements.KEY". Each fix documents one defect of the extracted text.
FIXES: dict[str, list[tuple[str, str, str, str]]] = {
    "linxian": [
        # level-1 "社会保险登记" is split over a page break; its tail lands in the materials
        ("1-2", "levels.1", "社会保险机关事业单位参保登记", "机关事业单位参保登记"),
        ("1-2", "elements.materials", "(复印件,1登记份）", "(复印件,1份）"),
        # this row prints its number and deadline after the legal basis; the subject is read as legal text
        ("5-1", "legal_basis", "暂行条例》临县人力资源和社会保障局", "暂行条例》"),
        ("5-1", "subject", "", "临县人力资源和社会保障局"),
        # level-1 tail "记录查询" (社会保险参保缴费记录查询) lands in the summary
        ("12-1", "elements.summary", "待遇记录记录查询", "待遇记录"),
        ("12-3", "levels.1", "1城乡居民养老保险参保证明查询打印", "城乡居民养老保险参保证明查询打印"),
        ("39", "levels.1", "失业保险失业保险金申领", "失业保险金申领"),
    ],
    "zhanggong": [
        # the first character of the name is missing in the extracted text
        ("71", "levels.2", "养亲属抚恤金申领", "供养亲属抚恤金申领"),
    ],
}


def apply_fixes(slug: str, items: list[dict]) -> None:
    by_no = {it["no"]: it for it in items}
    for no, path, old, new in FIXES.get(slug, []):
        it = by_no[no]
        key, _, sub = path.partition(".")
        holder, k = (it, key) if not sub else ((it[key], int(sub)) if key == "levels" else (it[key], sub))
        value = holder[k] if (isinstance(holder, list) or k in holder) else ""
        if old not in value or (old == "" and value):
            raise ValueError(f"{slug} item {no}: fix for {path} expects {old!r} in {value!r}")
        holder[k] = value.replace(old, new) if old else new
    for it in items:
        it["name"] = next(x for x in reversed(it["levels"]) if x)


COUNTIES = {
    "linxian": {
        "county": "临县", "full_name": "山西省吕梁市临县", "province": "山西省",
        "source": "000_e03af34c8c8be3a6.txt", "level_names": ["一级事项", "二级事项"], "build": build_linxian,
    },
    "yunzhou": {
        "county": "云州区", "full_name": "山西省大同市云州区", "province": "山西省",
        "source": "001_6c89962440df7cff.txt", "level_names": ["一级事项", "二级事项"], "build": build_yunzhou,
    },
    "zhanggong": {
        "county": "章贡区", "full_name": "江西省赣州市章贡区", "province": "江西省",
        "source": "003_f073c995bf2257ea.txt", "level_names": ["一级事项", "二级事项", "三级事项"],
        "build": build_zhanggong,
    },
}

ITEM_KEYS = ["no", "levels", "name", "elements", "extras", "disclosed_elements", "content",
             "content_shared_from", "legal_basis", "deadline", "subject", "channels", "channel_checkboxes", "note"]


def build_county(slug: str, seeds: Path) -> dict:
    meta = COUNTIES[slug]
    items = meta["build"]((seeds / meta["source"]).read_text(encoding="utf-8"))
    apply_fixes(slug, items)
    inherit_merged(items)
    clean = []
    for it in items:
        out = {}
        for k in ITEM_KEYS:
            v = it.get(k)
            if k == "elements":
                v = {e: it["elements"][e] for e in ELEMENT_KEYS if it["elements"].get(e)}
            if v or k in ("no", "levels", "name", "elements", "legal_basis", "deadline", "subject", "channels"):
                out[k] = v if v is not None else ""
        clean.append(out)
    return {
        "schema": 1,
        "slug": slug,
        "county": meta["county"],
        "full_name": meta["full_name"],
        "province": meta["province"],
        "title": f"{meta['county']}社会保险领域基层政务公开标准目录",
        "source": f"shared/seeds/{meta['source']}",
        "level_names": meta["level_names"],
        "element_labels": ELEMENT_LABELS,
        "items": clean,
    }


def render(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if a committed file differs from a rebuild")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    for slug in COUNTIES:
        text = render(build_county(slug, args.seeds))
        path = args.out / f"{slug}.json"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                print(f"{path}: differs from a rebuild", file=sys.stderr)
                status = 1
            continue
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {len(json.loads(text)['items'])} items")
    return status


if __name__ == "__main__":
    sys.exit(main())
