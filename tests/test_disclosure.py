"""Disclosure catalogs of 临县, 云州区 and 章贡区 (seeds 000, 001, 003)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kiosk import ROOT
from tests.conftest import SEEDS
from kiosk.flows.disclosure import (ELEMENT_KEYS, DisclosureError, available_counties, load_disclosure,
                                    parse_catalog)


# counted by reading the seeds: 临县 numbers 1-54 with sub-items (1-1, 1-2, 5-1 ...);
# 云州区 rows 1-78 (13 and 54 lost their number cell); 章贡区 rows 1-81
COUNTS = {"临县": 67, "云州区": 78, "章贡区": 81}


@pytest.fixture(scope="module")
def linxian():
    return load_disclosure("临县")


@pytest.fixture(scope="module")
def yunzhou():
    return load_disclosure("云州区")


@pytest.fixture(scope="module")
def zhanggong():
    return load_disclosure("章贡区")


def test_counts_per_county():
    counties = {c.county: c.items for c in available_counties()}
    assert counties == COUNTS
    for county, n in COUNTS.items():
        assert len(load_disclosure(county)) == n


def test_linxian_numbers(linxian):
    nos = [it.no for it in linxian.items]
    assert nos[:5] == ["1-1", "1-2", "2", "3", "4"]
    assert nos[-1] == "54" and len(set(nos)) == 67
    assert {n.split("-")[0] for n in nos} == {str(i) for i in range(1, 55)}


def test_linxian_elements_verbatim(linxian):
    it = linxian.item("1-1")
    assert it.levels == ("社会保险登记", "企业事业单位失业保险参保登记")
    assert it.element("name") == "企业事业单位失业保险职工参保登记"
    assert it.element("method") == "现场办理"
    assert it.element("time_limit") == "在资料全的情况下，从受理之日起到办理完毕需要2个工作日。"
    assert it.element("fees") == "不收费"
    assert it.element("office") == "临县失业保险服务中心业务室"
    assert it.element("enquiry") == "临县临泉镇南关街百货大楼4层临县失业保险服务中心业务室 联系电话：0358-4422138"
    assert it.element("complaint") == "投诉的方式及渠道：临县人力资源和社会保障局 0358-4421561"
    assert it.deadline == "企业事业单位职工参保登记办理完毕之日起20个工作日内公开"
    assert it.subject == "临县人力资源和社会保障局"
    assert it.channels == ("政府网站", "政务服务中心", "基层公共服务平台")
    assert it.legal_basis.startswith("1.《中华人民共和国政府信息公开条例》（中华人民共和国国务院令第711号）")
    assert it.legal_basis.endswith("3.《社会保险费征缴暂行条例》（中华人民共和国国务院令710号）")

    # a row split over a page break: materials continue after the channel column
    it = linxian.item("9-1")
    assert it.element("materials").endswith("4.工资关系转移或工资核定审批手续复印件（1份）")
    assert it.legal_basis.startswith("1、《政府信息公开条例》；2、《中华人民共和国社会保险法》")
    assert linxian.item("18-1").element("time_limit") == "20日内办结"
    assert linxian.item("53").element("fees").endswith("28元/卡")
    assert linxian.item("47").element("office_hours") == "周一至周五上午8:00-12:00 下午14:30-18:00（节假日除外）"
    assert linxian.item("48").extras["社会保障卡银行账号激活"] == "本人持身份证、社保卡原件到所属银行进行银行账号激活。"
    it = linxian.item("41")  # laid out with other labels
    assert it.extras["对象范围"].startswith("对首次创办小微企业或从事个体经营")
    assert it.element("enquiry") == "0358-4422699" and it.element("office") == "临县人社局就业股"


def test_linxian_columns_do_not_leak(linxian):
    for it in linxian.items:
        for key, value in it.elements.items():
            assert "政府信息公开条例" not in value, (it.no, key)
            assert "■" not in value and "√" not in value, (it.no, key)
        assert "办理材料" not in it.legal_basis, it.no
        if it.no != "41":
            assert it.element("name") and it.element("materials"), it.no
            assert "0358-4421561" in it.element("complaint"), it.no
        assert it.channels == ("政府网站", "政务服务中心", "基层公共服务平台"), it.no


def test_yunzhou(yunzhou):
    assert [it.no for it in yunzhou.items] == [str(i) for i in range(1, 79)]
    it = yunzhou.item("8")
    assert it.levels == ("社会保险参保信息维护", "养老保险待遇发放账户维护申请")
    assert it.element("name") == "账户维护申请" and it.element("enquiry") == "0352-8118300"
    it = yunzhou.item("1")
    assert it.level1 == "社会保险登记"  # merged cell labelled in its middle row
    assert it.element("materials") == "《山西省社会保险参保单位信息变更登记表》"
    assert it.element("office") == "大同市云州区社保大厅"
    assert yunzhou.item("25").content_shared_from == "24"
    assert yunzhou.item("54").name == "一次性工亡补助金（含生活困难，预支50%确认）、丧葬补助金申领"
    assert yunzhou.item("54").note
    assert len(yunzhou.item("68").disclosed_elements) == 11
    assert yunzhou.item("57").deadline == "公开事项信息形成或变更之日起20个工作日内公布"


def test_zhanggong_three_levels(zhanggong):
    assert zhanggong.level_names == ("一级事项", "二级事项", "三级事项")
    assert zhanggong.item("3").levels == ("社会保险参保登记", "社会保险单位（项目）参保登记", "机关事业单位参加社会保险登记")
    # rows whose number cell was lost still get their levels
    assert zhanggong.item("17").levels == ("社会保险参保信息维护", "个人参保信息变更", "机关事业单位养老保险个人参保信息变更")
    assert zhanggong.item("54").levels[2] == "多重养老保险关系个人账户退费（重复参保）"
    assert zhanggong.children() == ["社保信息服务", "社会保险参保登记", "社会保险参保信息维护", "社会保险缴费申报",
                                    "社会保险参保缴费记录查询", "养老保险服务", "工伤保险服务", "社会保障卡服务"]
    assert zhanggong.children("社会保险参保登记") == ["社会保险单位（项目）参保登记", "社会保险个人参保登记",
                                                "社会保险注销和终止登记"]
    assert [it.no for it in zhanggong.items_under("社会保险参保登记", "社会保险个人参保登记")] == ["6", "7", "8"]
    it = zhanggong.item("4")
    assert it.disclosed_elements == ("事项名称", "事项简述", "办理材料", "办理方式", "办理时限", "结果送达", "办事时间",
                                     "办理机构及地点", "咨询查询途径", "监督投诉渠道")
    assert len(it.channel_checkboxes) == 13
    assert [b.name for b in it.channel_checkboxes if b.checked] == ["政府网站", "政务服务中心", "基层公共服务平台"]
    assert it.deadline == "信息形成或变更之日起20个工作日内" and it.subject == "区人社局"
    assert zhanggong.item("1").disclosed_elements[0] == "公开依据"
    assert zhanggong.item("71").name == "供养亲属抚恤金申领"


def test_element_rows_for_screen_and_print(linxian, zhanggong):
    rows = linxian.item("1-1").element_rows()
    assert [label for label, _ in rows][:11] == ["事项名称", "事项简述", "办理材料", "办理方式", "办理时限", "结果送达",
                                                 "收费依据及标准", "办事时间", "办理机构及地点", "咨询查询途径", "监督投诉渠道"]
    assert ("公开时限", "企业事业单位职工参保登记办理完毕之日起20个工作日内公开") in rows
    labels = [label for label, _ in zhanggong.item("3").element_rows()]
    assert labels[0] == "公开内容（要素）" and "公开依据" in labels


def test_element_rows_show_free_text_whole(yunzhou):
    rows = dict(yunzhou.item("71").element_rows())
    assert rows["公开内容"].startswith("一、社保卡查询：带身份证原件或复印件到人社局即可查询。")
    rows = dict(yunzhou.item("25").element_rows())
    assert rows["公开内容（与第24项共用）"] == yunzhou.item("24").content


def test_search_within_a_catalog(linxian, zhanggong):
    res = linxian.search("shbzk")
    assert {m.no for m in res if m.field == "name"} == {str(i) for i in range(47, 55)}
    res = zhanggong.search("gongshang")
    names = [m.name for m in res if m.field == "name"]
    assert len(names) == 20 and all("工伤" in n or "工商" in n for n in names)  # 工商 is gongshang too


def test_county_by_any_name_and_errors(tmp_path):
    assert load_disclosure("linxian").county == "临县"
    assert load_disclosure("江西省赣州市章贡区").slug == "zhanggong"
    with pytest.raises(DisclosureError) as err:
        load_disclosure("不存在县")
    assert "临县" in err.value.message_zh
    bad = json.loads((ROOT / "config/disclosure/linxian.json").read_text(encoding="utf-8"))
    bad["items"][1]["no"] = bad["items"][0]["no"]
    with pytest.raises(DisclosureError, match="duplicate"):
        parse_catalog(bad)
    bad = json.loads((ROOT / "config/disclosure/zhanggong.json").read_text(encoding="utf-8"))
    bad["items"][0]["levels"] = ["社保信息服务"]
    with pytest.raises(DisclosureError, match="3 level names"):
        parse_catalog(bad)
    (tmp_path / "x.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(DisclosureError):
        available_counties(tmp_path)
    assert set(ELEMENT_KEYS) == set(load_disclosure("临县").item("1-1").elements)


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed documents not found in {SEEDS} (set KIOSK_SEEDS_DIR)")
def test_committed_json_is_what_the_parser_builds():
    res = subprocess.run([sys.executable, str(ROOT / "scripts/build_disclosure.py"), "--check", "--seeds", str(SEEDS)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
