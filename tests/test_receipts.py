import dataclasses
import datetime as dt
import re

import pytest

from kiosk.core.errors import ConfigError
from kiosk.core.idnumber import make_id, mask_id
from kiosk.hardware.escpos_render import decode, decoded_lines
from kiosk.receipts import STATUS_QUEUED, Receipt, load_template, render_receipt
from kiosk.receipts.samples import SAMPLE_ID, SAMPLE_NAME, sample_receipt

ID_RUN = re.compile(rb"\d{17}[\dXx]")


def lines_of(job: bytes) -> list[str]:
    return decoded_lines(decode(job))


@pytest.mark.parametrize("width", [58, 80])
def test_acceptance_wire_bytes_hold_service_and_masked_id_only(width):
    r = sample_receipt("acceptance")
    job = render_receipt(r, paper_width=width)
    assert "失业保险金申领".encode("gb18030") in job
    masked = mask_id(SAMPLE_ID)
    assert masked == SAMPLE_ID[:3] + "*" * 11 + SAMPLE_ID[-4:]
    assert masked.encode("gb18030") in job
    assert SAMPLE_ID.encode() not in job
    assert SAMPLE_ID[3:14].encode() not in job          # not even the hidden middle
    assert not ID_RUN.search(job)
    assert SAMPLE_NAME.encode("gb18030") not in job
    assert (SAMPLE_NAME[0] + "**").encode("gb18030") in job
    assert repr(r).find(SAMPLE_ID) == -1 and SAMPLE_NAME not in repr(r)


def test_acceptance_receipt_reads_right():
    lines = lines_of(render_receipt(sample_receipt("acceptance"), 80))
    text = "\n".join(lines)
    assert lines[0] == "示范村便民服务站"
    for expected in ("业务受理回执", "办理事项：12 失业保险金申领", "申请人：王**",
                     f"身份证号：{mask_id(SAMPLE_ID)}", "受理编号：SX20260212000123", "办理状态：已受理",
                     "申请时间：2026年2月12日 10:30", "预计办结：2026年2月26日",
                     "[QR] https://ggfw.rst.example.cn/track?no=SX20260212000123",
                     "咨询电话：0358-4466038", "设备编号：SX-DEMO-0001"):
        assert expected in lines, (expected, text)
    assert lines[-1] == "[CUT]"


def test_unmasked_id_in_free_text_never_reaches_paper():
    old_id = "140102620308021"   # a 15-digit first-generation number
    r = dataclasses.replace(
        sample_receipt("acceptance"),
        notes=[f"申请人身份证号{SAMPLE_ID}", f"旧证{old_id}"],
        fields=[("证件", SAMPLE_ID.lower())],
        service_name=f"失业保险金申领{SAMPLE_ID}",
        tracking_url=f"https://x.example.cn/t?id={SAMPLE_ID}",
    )
    for mode in ("escpos", "raster"):
        job = render_receipt(r, 80, text_mode=mode, qr_mode="image" if mode == "raster" else "native")
        assert SAMPLE_ID.encode() not in job and old_id.encode() not in job
    lines = lines_of(render_receipt(r, 80))
    assert not any(SAMPLE_ID in l or old_id in l for l in lines)
    assert any(mask_id(SAMPLE_ID) in l for l in lines if l.startswith("· "))


def test_already_masked_input_stays_masked():
    r = dataclasses.replace(sample_receipt("acceptance"), id_number=mask_id(SAMPLE_ID), name="王**")
    lines = lines_of(render_receipt(r))
    assert f"身份证号：{mask_id(SAMPLE_ID)}" in lines and "申请人：王**" in lines


def test_queued_receipt_says_it_will_be_submitted():
    r = dataclasses.replace(sample_receipt("acceptance"), acceptance_no="", status=STATUS_QUEUED)
    lines = lines_of(render_receipt(r, 80))
    assert "办理状态：已暂存，网络恢复后自动提交" in lines
    assert any(l.startswith("受理编号：网络恢复后自动提交") for l in lines)


def test_long_values_wrap_under_their_label_on_58mm():
    r = dataclasses.replace(sample_receipt("checklist"))
    lines = [l for l in lines_of(render_receipt(r, 58)) if not l.startswith("[")]
    from kiosk.hardware.escpos_commands import display_width

    assert all(display_width(l) <= 32 for l in lines if l != "示范村便民服务站")
    i = next(i for i, l in enumerate(lines) if l.startswith("办理地点："))
    assert lines[i + 1].startswith(" " * 10)      # continuation indented under the value


def test_enquiry_table():
    lines = lines_of(render_receipt(sample_receipt("enquiry"), 80))
    assert "养老金发放记录" in lines
    header = next(l for l in lines if l.startswith("月份"))
    assert "金额(元)" in header
    row = next(l for l in lines if "个人账户养老金" in l)
    assert row.startswith("2026-01") and row.endswith("56.30")


def test_checklist_lists_materials_and_office():
    lines = lines_of(render_receipt(sample_receipt("checklist"), 80))
    assert "一次性告知单" in lines
    assert "1. 居民身份证原件及复印件" in lines and "4. 困难情况相关证明材料" in lines
    assert any(l.startswith("办理地点：临县") for l in lines)


def test_certification_receipt():
    lines = lines_of(render_receipt(sample_receipt("certification"), 58))
    assert "认证结果：认证成功" in lines and "下次认证：2027年2月前" in lines


def test_approximate_completion_is_marked():
    from kiosk.core.workdays import expected_completion

    r = dataclasses.replace(sample_receipt("acceptance"), expected_completion=expected_completion(dt.date(2099, 3, 2), 5))
    assert any(l.startswith("预计办结：约2099年3月9日") for l in lines_of(render_receipt(r)))


def test_templates_are_valid_and_reject_unsafe_placeholders(tmp_path):
    for kind in ("acceptance", "enquiry", "checklist", "certification"):
        assert load_template(kind).blocks
    (tmp_path / "acceptance.toml").write_text(
        '[[block]]\ntype = "line"\ntext = "{id_number}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="id_number"):
        load_template("acceptance", tmp_path)
    (tmp_path / "enquiry.toml").write_text('[[block]]\ntype = "banner"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="banner"):
        load_template("enquiry", tmp_path)


def test_bad_kind():
    with pytest.raises(ValueError):
        Receipt(kind="invoice", site_name="x", device_id="y", service_name="z")


def test_other_ids_also_masked():
    other = make_id("110101", dt.date(1990, 1, 1), 7)
    r = dataclasses.replace(sample_receipt("enquiry"), rows=[["代办人", other]])
    job = render_receipt(r)
    assert other.encode() not in job and not ID_RUN.search(job)
