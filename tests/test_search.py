"""Pinyin search over the 40-item service list (names from seed 004)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from kiosk import CONFIG_DIR
from kiosk.flows.catalog import load_catalog
from kiosk.flows.search import SearchIndex, index_for, search

# (no, name, kiosk channel?) from seeds/004_0db79a21b1251fb6.txt, 附件1 服务事项清单
SEED_004 = [
    (1, "固定工求职登记", True), (2, "固定工岗位信息推荐", True), (3, "固定工岗位信息查询", True),
    (4, "零工求职登记", True), (5, "零工岗位信息推荐", True), (6, "零工岗位信息查询", True),
    (7, "招聘零工登记", True), (8, "零工求职信息推荐", True), (9, "零工求职信息查询", True),
    (10, "灵活就业登记", True), (11, "失业登记", True), (12, "就业政策法规查询", True),
    (13, "《就业创业证》查询", True), (14, "招聘会信息查询", True), (15, "档案存放机构查询", True),
    (16, "培训意向登记", False), (17, "培训机构推荐", False), (18, "培训意向跟踪反馈", False),
    (19, "参加培训办结送达", False), (20, "灵活就业人员参保登记", False),
    (21, "社会保险待遇领取资格认证", False), (22, "技能提升补贴申领", True), (23, "失业保险金申领", True),
    (24, "企业职工基本养老保险待遇暂停", False), (25, "企业职工基本养老保险参保情况查询", True),
    (26, "企业职工基本养老保险待遇发放记录查询", True), (27, "失业保险待遇发放记录查询", True),
    (28, "城乡居民基本养老保险参保登记", False), (29, "城乡居民补充养老保险参保登记", False),
    (30, "参加城乡居民基本养老保险人员非关键信息变更", False),
    (31, "参加城乡居民基本养老保险人员暂停/恢复缴费", False), (32, "城乡居民养老保险补缴申报", False),
    (33, "城乡居民养老保险人员缴费信息查询", True), (34, "城乡居民基本养老保险待遇申领", False),
    (35, "城乡居民补充养老保险待遇申领", False), (36, "城乡居民养老保险待遇发放记录查询", True),
    (37, "城乡居民养老保险待遇暂停", False), (38, "社会保障卡启用", False),
    (39, "社会保障卡应用状态查询", False), (40, "社会保障卡挂失与解挂", False),
]


def _category(no: int) -> str:
    return "我要找工作" if no <= 15 else "我要学技能" if no <= 19 else "我要办社保" if no <= 37 else "我要办社保卡"


@dataclass(frozen=True)
class Item:  # the shape of the service catalog's items
    no: int
    category: str
    name: str
    content: str
    channels: tuple[str, ...]
    guide: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


GUIDES = {11: {"conditions": "失业人员可以接受公共就业服务"}, 19: {"notes": "按时参加养老护理员培训"}}


@pytest.fixture(scope="module")
def catalog() -> list[Item]:
    return [Item(no, _category(no), name, "", ("counter", "kiosk") if kiosk else ("counter",), GUIDES.get(no, {}))
            for no, name, kiosk in SEED_004]


YANGLAO = {no for no, name, _ in SEED_004 if "养老" in name}


def nos(matches) -> list[int]:
    return [m.no for m in matches]


def test_full_pinyin_and_initials_find_every_yanglao_item(catalog):
    assert len(YANGLAO) == 13
    full = search(catalog, "yanglao")
    assert {m.no for m in full if m.field == "name"} == YANGLAO
    assert all(m.kind == "pinyin" for m in full if m.field == "name")
    initials = search(catalog, "yl")
    assert YANGLAO <= {m.no for m in initials}
    for m in initials:
        if m.no in YANGLAO:
            assert m.name[m.span[0]:m.span[1]] == "养老"


def test_characters_match_and_highlight(catalog):
    res = search(catalog, "养老")
    assert {m.no for m in res if m.field == "name"} == YANGLAO
    m = res[0]
    assert m.kind == "chars" and m.name[slice(*m.span)] == "养老"


def test_kiosk_items_first_within_a_score(catalog):
    res = [m for m in search(catalog, "yanglao") if m.field == "name"]
    # kiosk-channel 养老 items, in catalog order, then the counter-only ones
    assert nos(res) == [25, 26, 33, 36, 24, 28, 29, 30, 31, 32, 34, 35, 37]
    for a, b in zip(res, res[1:]):
        assert (a.score, a.kiosk) >= (b.score, b.kiosk)


def test_name_matches_rank_above_guide_text(catalog):
    res = search(catalog, "养老")
    assert res[-1].no == 19 and res[-1].field == "text" and "养老" in res[-1].snippet
    assert all(m.score > res[-1].score for m in res[:-1])
    # guide text also matches by full pinyin
    res = search(catalog, "gonggong")
    assert nos(res) == [11] and res[0].field == "text" and res[0].kind == "pinyin"


def test_more_queries(catalog):
    assert set(nos(search(catalog, "shiye"))) == {11, 23, 27}
    assert nos(search(catalog, "失业登记"))[0] == 11
    assert search(catalog, "失业登记")[0].score == 100  # the whole name
    assert nos(search(catalog, "jycyz")) == [13]          # punctuation in the name is skipped
    assert nos(search(catalog, "jiuyechuangyezheng")) == [13]
    assert set(nos(search(catalog, "shbzk"))) == {38, 39, 40}
    assert nos(search(catalog, "lingong"))[:6] == [4, 5, 6, 7, 8, 9]
    assert nos(search(catalog, "guashi")) == [40]
    assert nos(search(catalog, "YangLao")) == nos(search(catalog, "yanglao"))  # case-insensitive
    assert nos(search(catalog, "cxjm yl dy")) == [36, 34, 35, 37]  # every word must match
    assert nos(search(catalog, "23"))[0] == 23
    assert search(catalog, "") == [] and search(catalog, "   ") == []
    assert search(catalog, "zzzzqqq") == []


def test_everyday_short_forms(catalog):
    for q in ("社保卡", "shebaoka", "sbk"):
        res = search(catalog, q)
        assert nos(res)[:3] == [38, 39, 40], q
        assert res[0].name[slice(*res[0].span)] == "社会保障卡"
    assert nos(search(catalog, "社会保障卡"))[:3] == [38, 39, 40]
    assert search(catalog, "社会保障卡")[0].score > search(catalog, "社保卡")[0].score


def test_partial_last_syllable_while_typing(catalog):
    assert {m.no for m in search(catalog, "yangl") if m.field == "name"} == YANGLAO
    assert {m.no for m in search(catalog, "yanglbx") if m.field == "name"} == YANGLAO


def test_dicts_work_and_index_is_built_once(catalog):
    dicts = [{"no": i.no, "name": i.name, "channels": list(i.channels), "text": i.content} for i in catalog]
    assert nos(search(dicts, "yanglao")) == nos([m for m in search(catalog, "yanglao") if m.field == "name"])
    assert index_for(catalog) is index_for(catalog)
    idx = SearchIndex(catalog)
    assert len(idx) == 40 and nos(search(idx, "yl")) == nos(search(catalog, "yl"))


CATALOG_JSON = CONFIG_DIR / "catalog.json"


def test_against_the_real_service_catalog():
    raw = json.loads(CATALOG_JSON.read_text(encoding="utf-8"))
    items = raw["items"] if isinstance(raw, dict) else raw
    want = {it["no"] for it in items if "养老" in it["name"]}
    assert want
    for q in ("yanglao", "yl", "养老"):
        got = {m.no for m in search(items, q) if m.field == "name"}
        assert want <= got, q
    res = search(items, "yanglao")
    for a, b in zip(res, res[1:]):
        assert (a.score, a.kiosk) >= (b.score, b.kiosk)


def test_against_the_service_catalog_dataclasses():
    cat = load_catalog(CATALOG_JSON)
    res = search(cat, "yanglao")
    assert {m.no for m in res if m.field == "name"} == {it.no for it in cat.items if "养老" in it.name}
    assert res[0].kiosk and nos(search(cat, "sbk"))[:3] == [38, 39, 40]
