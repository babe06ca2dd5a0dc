"""The layout audit's rules without a window: each kind of broken layout is reported, a sound one is not."""

from __future__ import annotations

import json

import pytest

from kiosk.core.config import load
from kiosk.core.errors import ConfigError
from kiosk.core.panel import Panel, from_settings
from kiosk.screens.layout_rules import Element, Rect, check, font_chars, missing_glyphs

SCREEN = Rect(0, 0, 1280, 800)
PX_PER_MM = 96 / 25.4


def el(name, x, y, w, h, *, text="", touch=False, needed=None, ink=None, uid=None, lineage=(), clip=SCREEN):
    r = Rect(x, y, x + w, y + h)
    uid = uid if uid is not None else hash(name)
    return Element(name=name, rect=r, clip=clip, view=r.intersect(SCREEN), text=text, ink=ink,
                   text_needed=needed, text_room=(w, h) if needed else None, touch=touch, uid=uid,
                   lineage=frozenset({uid, *lineage}))


def kinds(elements, elder=False, **kw):
    return sorted(f.check for f in check(elements, screen="t", px_per_mm=PX_PER_MM, elder=elder,
                                         chars_of=lambda _p: frozenset(), **kw))


def test_a_sound_layout_has_no_findings():
    row = [el(f"key{i}", i * 128, 100, 128, 96, touch=True) for i in range(10)]
    label = el("title", 0, 600, 1280, 80, text="请选择要办理的业务", needed=(600, 60), ink=Rect(340, 610, 940, 670))
    assert kinds(row + [label]) == []


def test_a_key_row_drawn_over_another_is_reported():
    # the elder pinyin keypad: the 取消/确定 row sits on the 删除/空格/清空 row
    keys = [el("删除", 0, 100, 400, 96, touch=True), el("空格", 400, 100, 400, 96, touch=True)]
    buttons = [el("取消", 0, 60, 600, 110, touch=True), el("确定", 600, 60, 600, 110, touch=True)]
    found = kinds(keys + buttons)
    assert found.count("touch-overlap") == 3  # 删除/取消, 空格/取消, 空格/确定


def test_adjacent_keys_sharing_a_border_do_not_overlap():
    assert kinds([el("a", 0, 0, 100, 100, touch=True), el("b", 99, 0, 100, 100, touch=True)]) == []


def test_a_caption_over_the_clock_is_reported():
    clock = el("clock", 0, 600, 1280, 60, text="2026年11月30日", ink=Rect(400, 600, 880, 660))
    caption = el("caption", 800, 590, 320, 56, text="二维码对准这里", ink=Rect(850, 600, 1100, 640))
    assert kinds([clock, caption]) == ["covered"]


def test_a_label_inside_its_button_is_not_an_overlap():
    button = el("button", 0, 0, 300, 100, touch=True, uid=1)
    inner = el("inner", 10, 10, 280, 80, text="确定", ink=Rect(100, 30, 200, 70), uid=2, lineage=(1,))
    assert kinds([button, inner]) == []


def test_text_wrapping_out_of_its_button_is_reported():
    # "先看看办事指南" wraps to two lines in a button one line high
    assert kinds([el("browse", 0, 0, 380, 110, text="先看看办事指南", touch=True, needed=(356, 140))]) == [
        "text-overflow"]


def test_a_title_cut_at_top_and_bottom_is_reported():
    assert kinds([el("title", 0, 0, 1000, 96, text="21. 领取养老保险待遇资格认证", needed=(1000, 150))]) == [
        "text-overflow"]


def test_a_wrapped_line_starting_with_a_comma_is_reported():
    label = el("body", 0, 300, 600, 120, text="请带上身份证，到柜台办理")
    label.lines = (("请带上身份证", False), ("，到柜台办理", True))
    assert kinds([label]) == ["line-break"]
    label.lines = (("请带上身份", False), ("证，到柜台办理", True))
    assert kinds([label]) == []


def test_something_off_screen_is_reported():
    assert kinds([el("ok", 1200, 0, 200, 100, text="确定", touch=True)]) == ["off-screen"]


def test_elder_touch_targets_must_be_15_mm():
    small = el("key", 0, 0, 50, 50, touch=True)  # 13.2 mm at 96 ppi
    assert kinds([small], elder=True) == ["touch-too-small"]
    assert kinds([el("key", 0, 0, 57, 57, touch=True)], elder=True) == []  # 15.1 mm


def test_a_missing_glyph_is_reported_with_its_code_point():
    e = el("mark", 0, 0, 200, 100, text="✔ 初中", needed=(150, 50))
    e.font_file = "font.otf"
    found = check([e], screen="form", px_per_mm=PX_PER_MM, elder=False,
                  chars_of=lambda _p: frozenset(map(ord, "初中 ")))
    assert [f.check for f in found] == ["missing-glyph"]
    assert "U+2714" in found[0].detail
    row = json.loads(found[0].json())
    assert row["screen"] == "form" and row["mode"] == "standard"


def test_the_shipped_chinese_font_lacks_the_heavy_check_mark_but_has_the_square_root():
    from kiosk.fonts import cjk_font

    chars = font_chars(str(cjk_font("regular")))
    assert missing_glyphs("✔ 初中", chars) == ["✔"]
    assert missing_glyphs("√ 初中 养老金（元）：3,000.00", chars) == []


def test_panel_geometry_from_config():
    p = Panel(1280, 800, 15.6)
    assert 96 < p.ppi < 97.5 and p.scale == 1.0          # the reference layout exactly fits
    assert round(Panel(1920, 1080, 21.5).scale, 2) == 1.07  # same millimetres: 102.5 ppi / 96
    assert Panel(1920, 1080, 15.6).scale == 1.35         # denser still: as much as fits (1080 / 800)
    assert Panel(1280, 800, 10.1).scale == 1.0           # a small dense panel: never more than fits
    assert Panel(1080, 1920, 43).scale == 0.75           # a coarse standing panel: clamped
    assert Panel(1080, 1920, 32).portrait


def test_panel_diagonal_is_validated(tmp_path):
    cfg = tmp_path / "k.toml"
    cfg.write_text("[ui]\nwidth = 1080\nheight = 1920\ndiagonal_inches = 32\n", encoding="utf-8")
    assert from_settings(load(cfg).settings.ui).describe().startswith("1080x1920 px, 32\"")
    cfg.write_text("[ui]\ndiagonal_inches = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="diagonal_inches"):
        load(cfg)


def test_a_long_name_is_masked_to_its_surname_and_two_stars():
    from kiosk.core.idnumber import mask_name

    assert mask_name("欧阳慕容司马上官诸葛东方皇甫令") == "欧**"  # 15 characters: the header stays short
    assert mask_name("王秀兰") == "王**" and mask_name("张伟") == "张*"
