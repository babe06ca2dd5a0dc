"""What residents read: no English words on screen (issue 17 point 11)."""

from __future__ import annotations

import re

from kiosk.flows.catalog import load_catalog
from kiosk.flows.wording import plain_zh
from kiosk.screens.guide import guide_sections


def test_no_app_in_english_in_any_guide():
    latin = []
    for item in load_catalog().items:
        for _key, _heading, text in guide_sections(item):
            latin += [(item.no, w) for w in re.findall(r"\bAPP\b", text, re.IGNORECASE)]
    assert latin == []


def test_plain_words():
    assert plain_zh("也可通过民生山西 APP 自助查询") == "也可通过“民生山西”手机软件自助查询"
    assert plain_zh("每 12 个月需通过手机 APP 进行一次认证") == "每 12 个月需通过手机软件进行一次认证"
    assert plain_zh("没有英文") == "没有英文"
