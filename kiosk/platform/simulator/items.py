"""The 40-item list (seeds/004, annex 1) as the simulator serves it.

``kind``: "enquiry" (read-only, answered by POST /v1/enquiries/{item_no}),
"recommendation" (read-only matching, also via /v1/enquiries), "application"
(POST /v1/applications/{item_no}, returns an acceptance number).
``days``: the time limit (办结时限) in working days; 0 = 即时办结.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    no: int
    title: str
    kind: str
    days: int = 0


ITEMS: dict[int, Item] = {
    i.no: i
    for i in [
        Item(1, "固定工求职登记", "application"),
        Item(2, "固定工岗位信息推荐", "recommendation"),
        Item(3, "固定工岗位信息查询", "enquiry"),
        Item(4, "零工求职登记", "application"),
        Item(5, "零工岗位信息推荐", "recommendation"),
        Item(6, "零工岗位信息查询", "enquiry"),
        Item(7, "招聘零工登记", "application"),
        Item(8, "零工求职信息推荐", "recommendation"),
        Item(9, "零工求职信息查询", "enquiry"),
        Item(10, "灵活就业登记", "application", 5),
        Item(11, "失业登记", "application", 10),
        Item(12, "就业政策法规查询", "enquiry"),
        Item(13, "《就业创业证》查询", "enquiry"),
        Item(14, "招聘会信息查询", "enquiry"),
        Item(15, "档案存放机构查询", "enquiry"),
        Item(16, "培训意向登记", "application"),
        Item(17, "培训机构推荐", "recommendation"),
        Item(18, "培训意向跟踪反馈（报名结果查询）", "enquiry"),
        Item(19, "参加培训办结送达（培训结业查询）", "enquiry"),
        Item(20, "灵活就业人员参保登记", "application"),
        Item(21, "社会保险待遇领取资格认证", "application", 3),
        Item(22, "技能提升补贴申领", "application", 5),
        Item(23, "失业保险金申领", "application", 5),
        Item(24, "企业职工基本养老保险待遇暂停", "application", 1),
        Item(25, "企业职工基本养老保险参保情况查询", "enquiry"),
        Item(26, "企业职工基本养老保险待遇发放记录查询", "enquiry"),
        Item(27, "失业保险待遇发放记录查询", "enquiry"),
        Item(28, "城乡居民基本养老保险参保登记", "application", 2),
        Item(29, "城乡居民补充养老保险参保登记", "application", 2),
        Item(30, "参加城乡居民基本养老保险人员非关键信息变更", "application"),
        Item(31, "参加城乡居民基本养老保险人员暂停/恢复缴费", "application", 2),
        Item(32, "城乡居民养老保险补缴申报", "application", 2),
        Item(33, "城乡居民养老保险人员缴费信息查询", "enquiry"),
        Item(34, "城乡居民基本养老保险待遇申领", "application", 2),
        Item(35, "城乡居民补充养老保险待遇申领", "application", 2),
        Item(36, "城乡居民养老保险待遇发放记录查询", "enquiry"),
        Item(37, "城乡居民养老保险待遇暂停", "application", 1),
        Item(38, "社会保障卡启用", "application"),
        Item(39, "社会保障卡应用状态查询", "enquiry"),
        Item(40, "社会保障卡挂失与解挂", "application"),
    ]
}

#: Items whose enquiry needs no resident (public information).
PUBLIC_ENQUIRIES = {3, 6, 9, 12, 14}


def kind_of(item_no: int) -> str | None:
    item = ITEMS.get(item_no)
    return item.kind if item else None
