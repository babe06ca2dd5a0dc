"""Public-disclosure catalogs (基层政务公开标准目录) of the county (Kivy-free).

``config/disclosure/<slug>.json`` holds one county's catalog, generated from
the seeds by ``scripts/build_disclosure.py``. One schema carries all three
layouts met so far:

* 临县 (Shanxi): two levels; each item lists the values of the 11 elements
  (name, summary, materials, ...).
* 云州区 (Shanxi): two levels; free ``content`` text with labelled parts
  (对象范围, 申请材料, 办理地点, 咨询电话) mapped onto the elements where they
  match; rows in a merged cell share the content of the row named in
  ``content_shared_from``.
* 章贡区 (Jiangxi): three levels; ``disclosed_elements`` names which elements
  the county discloses, and ``channel_checkboxes`` keeps every channel box
  with whether it is ticked.

Which county the kiosk shows comes from ``[site] county`` in kiosk.toml:
``load_disclosure(config.section("site")["county"])``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk import CONFIG_DIR
from kiosk.core.errors import CatalogError

if TYPE_CHECKING:
    from kiosk.flows.search import Match

log = logging.getLogger("kiosk.disclosure")

DISCLOSURE_DIR = CONFIG_DIR / "disclosure"
SCHEMA_VERSION = 1

ELEMENT_KEYS = (
    "name",
    "summary",
    "materials",
    "method",
    "time_limit",
    "result_delivery",
    "fees",
    "office_hours",
    "office",
    "enquiry",
    "complaint",
)
ELEMENT_LABELS = {
    "name": "事项名称",
    "summary": "事项简述",
    "materials": "办理材料",
    "method": "办理方式",
    "time_limit": "办理时限",
    "result_delivery": "结果送达",
    "fees": "收费依据及标准",
    "office_hours": "办事时间",
    "office": "办理机构及地点",
    "enquiry": "咨询查询途径",
    "complaint": "监督投诉渠道",
}


class DisclosureError(CatalogError):
    message_zh = "政务公开目录数据有误，请联系工作人员。"


@dataclass(frozen=True)
class ChannelBox:
    name: str
    checked: bool


@dataclass(frozen=True)
class DisclosureItem:
    no: str
    levels: tuple[str, ...]
    name: str
    elements: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    extras: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    disclosed_elements: tuple[str, ...] = ()
    content: str = ""
    content_shared_from: str = ""
    legal_basis: str = ""
    deadline: str = ""
    subject: str = ""
    channels: tuple[str, ...] = ()
    channel_checkboxes: tuple[ChannelBox, ...] = ()
    note: str = ""

    @property
    def level1(self) -> str:
        return self.levels[0] if self.levels else ""

    @property
    def level2(self) -> str:
        return self.levels[1] if len(self.levels) > 1 else ""

    @property
    def level3(self) -> str:
        return self.levels[2] if len(self.levels) > 2 else ""

    def element(self, key: str) -> str:
        if key not in ELEMENT_LABELS:
            raise KeyError(key)
        return self.elements.get(key, "")

    def element_rows(self) -> list[tuple[str, str]]:
        """(Chinese label, text) in the official order, for the screen and the printout.

        Where the county publishes free text (云州区) that text is shown whole,
        since the labelled parts picked out of it do not cover every sentence;
        otherwise the elements in the official order and other labelled
        parts. Then the disclosed-element list (章贡区) and the disclosure facts.
        """
        if self.content:
            label = f"公开内容（与第{self.content_shared_from}项共用）" if self.content_shared_from else "公开内容"
            rows = [(label, self.content)]
        else:
            rows = [(ELEMENT_LABELS[k], self.elements[k]) for k in ELEMENT_KEYS if self.elements.get(k)]
            rows += list(self.extras.items())
        if self.disclosed_elements:
            rows.append(("公开内容（要素）", "、".join(self.disclosed_elements)))
        for label, value in (
            ("公开依据", self.legal_basis),
            ("公开时限", self.deadline),
            ("公开主体", self.subject),
            ("公开渠道", "、".join(self.channels)),
            ("说明", self.note),
        ):
            if value:
                rows.append((label, value))
        return rows

    @property
    def text(self) -> str:
        """Everything searchable except the name (used by kiosk.flows.search)."""
        parts = [
            " ".join(self.levels),
            *self.elements.values(),
            *self.extras.values(),
            self.content,
            " ".join(self.disclosed_elements),
        ]
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class CountyInfo:
    slug: str
    county: str
    full_name: str
    items: int


@dataclass(frozen=True)
class DisclosureCatalog:
    slug: str
    county: str
    full_name: str
    province: str
    title: str
    source: str
    level_names: tuple[str, ...]
    items: tuple[DisclosureItem, ...]

    def __len__(self) -> int:
        return len(self.items)

    def item(self, no: str) -> DisclosureItem:
        for it in self.items:
            if it.no == str(no):
                return it
        raise DisclosureError(f"{self.slug}: no disclosure item {no!r}", "没有找到这个公开事项。")

    @property
    def depth(self) -> int:
        return len(self.level_names)

    def children(self, *path: str) -> list[str]:
        """Names one level below ``path`` (level-1 names for an empty path), in catalog order."""
        out: list[str] = []
        for it in self.items:
            if tuple(it.levels[: len(path)]) != path or len(it.levels) <= len(path):
                continue
            name = it.levels[len(path)]
            if name and name not in out:
                out.append(name)
        return out

    def items_under(self, *path: str) -> list[DisclosureItem]:
        return [it for it in self.items if tuple(it.levels[: len(path)]) == path]

    def search(self, query: str, limit: int | None = None) -> list[Match]:
        from kiosk.flows.search import search

        return search(self, query, limit)


def _str(v: Any, where: str) -> str:
    if v is None:
        return ""
    if not isinstance(v, str):
        raise DisclosureError(f"{where}: expected text, got {type(v).__name__}")
    return v


def _strs(v: Any, where: str) -> tuple[str, ...]:
    """A list of texts (None = empty)."""
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise DisclosureError(f"{where}: expected a list of texts, got {type(v).__name__}")
    return tuple(v)


def _mapping(v: Any, where: str) -> Mapping[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise DisclosureError(f"{where}: expected an object, got {type(v).__name__}")
    return v


def _item(raw: Mapping[str, Any], where: str, depth: int) -> DisclosureItem:
    if not isinstance(raw, Mapping):
        raise DisclosureError(f"{where}: item is not an object")
    no = _str(raw.get("no"), f"{where}.no")
    where = f"{where} (no {no})"
    levels = raw.get("levels")
    if not no or not isinstance(levels, list) or len(levels) != depth or not all(isinstance(x, str) for x in levels):
        raise DisclosureError(f"{where}: needs a number and {depth} level names")
    name = _str(raw.get("name"), f"{where}.name")
    if not name or not levels[0]:
        raise DisclosureError(f"{where}: empty name or level-1 name")
    elements = _mapping(raw.get("elements"), f"{where}.elements")
    if set(elements) - set(ELEMENT_KEYS):
        raise DisclosureError(f"{where}: unknown element keys {sorted(set(elements) - set(ELEMENT_KEYS))}")
    extras = _mapping(raw.get("extras"), f"{where}.extras")
    raw_boxes = raw.get("channel_checkboxes") or []
    if not isinstance(raw_boxes, list) or not all(isinstance(b, Mapping) for b in raw_boxes):
        raise DisclosureError(f"{where}.channel_checkboxes: expected a list of objects")
    boxes = tuple(ChannelBox(_str(b.get("name"), where), bool(b.get("checked"))) for b in raw_boxes)
    return DisclosureItem(
        no=no,
        levels=tuple(levels),
        name=name,
        elements={k: _str(v, f"{where}.{k}") for k, v in elements.items()},
        extras={str(k): _str(v, f"{where}.{k}") for k, v in extras.items()},
        disclosed_elements=_strs(raw.get("disclosed_elements"), f"{where}.disclosed_elements"),
        content=_str(raw.get("content"), where),
        content_shared_from=_str(raw.get("content_shared_from"), where),
        legal_basis=_str(raw.get("legal_basis"), where),
        deadline=_str(raw.get("deadline"), where),
        subject=_str(raw.get("subject"), where),
        channels=_strs(raw.get("channels"), f"{where}.channels"),
        channel_checkboxes=boxes,
        note=_str(raw.get("note"), where),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or not UTF-8
        raise DisclosureError(f"disclosure catalog {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION:
        raise DisclosureError(
            f"disclosure catalog {path}: schema {data.get('schema') if isinstance(data, dict) else '?'}"
            f" (expected {SCHEMA_VERSION})"
        )
    return data


def parse_catalog(data: Mapping[str, Any], where: str = "catalog") -> DisclosureCatalog:
    if not isinstance(data, Mapping):
        raise DisclosureError(f"{where}: expected an object, got {type(data).__name__}")
    level_names = _strs(data.get("level_names"), f"{where}.level_names")
    if not 1 <= len(level_names) <= 3:
        raise DisclosureError(f"{where}: level_names must list 1 to 3 levels")
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise DisclosureError(f"{where}: no items")
    items = tuple(_item(r, f"{where} item {i}", len(level_names)) for i, r in enumerate(raw_items))
    seen: set[str] = set()
    for it in items:
        if it.no in seen:
            raise DisclosureError(f"{where}: duplicate item number {it.no}")
        seen.add(it.no)
        if it.content_shared_from and it.content_shared_from not in seen:
            raise DisclosureError(f"{where}: item {it.no} shares content of unknown item {it.content_shared_from}")
    return DisclosureCatalog(
        slug=_str(data.get("slug"), where),
        county=_str(data.get("county"), where),
        full_name=_str(data.get("full_name"), where),
        province=_str(data.get("province"), where),
        title=_str(data.get("title"), where),
        source=_str(data.get("source"), where),
        level_names=level_names,
        items=items,
    )


def available_counties(directory: str | Path | None = None) -> list[CountyInfo]:
    """Counties with a catalog in ``directory`` (default config/disclosure), by file name."""
    out = []
    for path in sorted(Path(directory or DISCLOSURE_DIR).glob("*.json")):
        data = _read(path)
        items = data.get("items")
        out.append(
            CountyInfo(
                path.stem,
                _str(data.get("county"), f"{path}.county"),
                _str(data.get("full_name"), f"{path}.full_name"),
                len(items) if isinstance(items, list) else 0,
            )
        )
    return out


def load_disclosure(county: str, directory: str | Path | None = None) -> DisclosureCatalog:
    """Load and validate one county's catalog.

    ``county`` is the Chinese name as in kiosk.toml (临县), the full name
    (山西省吕梁市临县) or the file slug (linxian).
    """
    directory = Path(directory or DISCLOSURE_DIR)
    wanted = (county or "").strip()
    for info in available_counties(directory):
        if wanted in (info.slug, info.county, info.full_name):
            path = directory / f"{info.slug}.json"
            catalog = parse_catalog(_read(path), str(path))
            log.info("disclosure catalog %s loaded: %d items", info.slug, len(catalog))
            return catalog
    names = "、".join(i.county for i in available_counties(directory)) or "无"
    raise DisclosureError(
        f"no disclosure catalog for county {wanted!r} in {directory}",
        f"没有“{wanted}”的政务公开目录（已有：{names}），请联系工作人员。",
    )
