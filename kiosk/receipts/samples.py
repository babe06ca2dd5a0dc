"""Sample receipts (made-up people) for the CLI, the bench and tests."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from kiosk.core.idnumber import make_id
from kiosk.core.workdays import expected_completion
from kiosk.receipts.model import STATUS_ACCEPTED, Receipt

SAMPLE_ID = make_id("141124", _dt.date(1962, 3, 8), 21)
SAMPLE_NAME = "王建国"
SAMPLE_TIME = _dt.datetime(2026, 2, 12, 10, 30)


def sample_receipt(kind: str = "acceptance") -> Receipt:
    common: dict[str, Any] = dict(
        site_name="示范村便民服务站", device_id="SX-DEMO-0001", name=SAMPLE_NAME,
        id_number=SAMPLE_ID, time=SAMPLE_TIME, office_phone="0358-4466038",
    )
    if kind == "acceptance":
        return Receipt(
            kind="acceptance", service_no="12", service_name="失业保险金申领",
            acceptance_no="SX20260212000123", status=STATUS_ACCEPTED,
            expected_completion=expected_completion(SAMPLE_TIME.date(), 5),
            tracking_url="https://ggfw.rst.example.cn/track?no=SX20260212000123", **common,
        )
    if kind == "enquiry":
        return Receipt(
            kind="enquiry", service_no="31", service_name="城乡居民养老保险待遇发放查询",
            title="养老金发放记录", columns=["月份", "项目", "金额(元)"],
            rows=[["2026-01", "基础养老金", "188.00"], ["2026-01", "个人账户养老金", "56.30"],
                  ["2025-12", "基础养老金", "188.00"], ["2025-12", "个人账户养老金", "56.30"]],
            **common,
        )
    if kind == "checklist":
        return Receipt(
            kind="checklist", service_no="7", service_name="就业困难人员认定",
            materials=["居民身份证原件及复印件", "户口簿", "就业创业证", "困难情况相关证明材料"],
            office_name="临县人力资源和社会保障局就业服务中心",
            office_address="临县城内新区人社服务大厅一楼", **common,
        )
    if kind == "certification":
        return Receipt(
            kind="certification", service_no="35", service_name="城乡居民养老保险待遇领取资格认证",
            status="认证成功", acceptance_no="RZ20260212000045",
            fields=[("下次认证", "2027年2月前")], **common,
        )
    raise ValueError(f"unknown receipt kind {kind!r}")
