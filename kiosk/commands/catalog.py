"""``kiosk catalog``: show the service catalog (table, JSON, one guide, search)."""

from __future__ import annotations

import argparse
import importlib
import sys
import unicodedata

from kiosk.core.errors import CatalogError
from kiosk.flows.catalog import Catalog, ServiceItem, load_catalog

CHANNEL_ZH = {"counter": "柜面", "kiosk": "自助机"}
GUIDE_LABELS_ZH = [
    ("description", "事项说明"),
    ("audience", "服务对象"),
    ("conditions", "办理条件"),
    ("place", "办理地点"),
    ("materials", "所需材料"),
    ("procedure", "办理流程"),
    ("time_limit", "办结时限"),
    ("notes", "注意事项"),
    ("phone", "咨询电话"),
]


def register(sub, groups) -> None:
    p = sub.add_parser("catalog", help="show the service catalog (40 items)")
    p.add_argument("--file", help="catalog JSON to load (default: config/catalog.json)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print the whole catalog as JSON")
    mode.add_argument("--item", type=int, metavar="N", help="print item N's guide")
    mode.add_argument("--search", metavar="QUERY", help="find items by characters or pinyin")
    p.set_defaults(func=run)


def _width(text: str) -> int:
    """Display width: CJK characters take two terminal columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def channels_zh(item: ServiceItem) -> str:
    return "、".join(CHANNEL_ZH[c] for c in item.channels)


def time_limit_zh(item: ServiceItem) -> str:
    tl = item.time_limit
    if tl.is_instant:
        return "即时办结"
    text = f"{tl.days}个工作日"
    if tl.exclude_application_day:
        text += "（不含申请日当天）"
    return text


def format_table(catalog: Catalog) -> str:
    names = {c.id: c.name for c in catalog.categories}
    header = ["序号", "类别", "渠道", "事项名称", "办结时限"]
    rows = [
        [str(item.no), names[item.category], channels_zh(item), item.name, time_limit_zh(item)]
        for item in catalog.items
    ]
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(header)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(r)).rstrip())
    kiosk = [str(i.no) for i in catalog.kiosk_items()]
    lines.append("")
    lines.append(f"{len(catalog.items)} 项；自助机可办 {len(kiosk)} 项：{', '.join(kiosk)}")
    return "\n".join(lines)


def format_item(catalog: Catalog, item: ServiceItem) -> str:
    cat = catalog.category(item.category).name
    lines = [
        f"{item.no}. {item.name}",
        f"类别：{cat}    渠道：{channels_zh(item)}    办结时限：{item.time_limit_text}",
        f"服务内容：{item.content}",
        "",
    ]
    for key, label in GUIDE_LABELS_ZH:
        value = getattr(item.guide, key)
        if value:
            lines.append(f"{label}：{value}")
    if item.rules:
        lines.append("")
        lines.append("自助机核验的条件：")
        for r in item.rules:
            lines.append(f"  - {r.rule} = {r.value}: {r.message}")
    if item.fields:
        lines.append("")
        lines.append("需要填写：" + "、".join(f.label + ("" if f.required else "（选填）") for f in item.fields))
    if item.requires_photo:
        lines.append("需要现场拍照。")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog(args.file)
    if args.json:
        sys.stdout.write(catalog.to_json() + "\n")
        return 0
    if args.item is not None:
        print(format_item(catalog, catalog.by_no(args.item)))
        return 0
    if args.search is not None:
        try:
            search_mod = importlib.import_module("kiosk.flows.search")
        except ModuleNotFoundError as exc:
            if exc.name != "kiosk.flows.search":
                raise
            raise CatalogError("search is not available: kiosk.flows.search is not installed") from exc
        matches = search_mod.search(catalog, args.search)
        if not matches:
            print(f"没有找到与“{args.search}”相关的事项。")
            return 1
        for m in matches:
            no = getattr(m, "no", None)
            item = catalog.by_no(int(no)) if no is not None else getattr(m, "item")
            mark = "自助机" if item.completes_on_kiosk else "柜面"
            score = getattr(m, "score", "")
            print(f"{item.no:>2}  {mark:<3}  {item.name}  ({score})")
        return 0
    print(format_table(catalog))
    return 0
