"""The service catalog: 40 items, exactly as the seed documents list them."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.core.errors import CatalogError
from kiosk.flows.catalog import (
    FIELD_TYPES,
    RULE_NAMES,
    RULES_FILE,
    attach_rule_table,
    read_rule_table,
    load_catalog,
)

from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parent.parent
CATALOG_PATH = ROOT / "config" / "catalog.json"
LIST_SEED = SEEDS / "004_0db79a21b1251fb6.txt"
GUIDE_SEED = SEEDS / "002_5c165d75777034b1.txt"

needs_seeds = pytest.mark.skipif(not LIST_SEED.exists(), reason=f"seed documents not found in {SEEDS} (set KIOSK_SEEDS_DIR)")

# Read by hand from seed 004's 服务渠道 column: the rows saying 柜面、自助机.
KIOSK_ITEMS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 22, 23, 25, 26, 27, 33, 36}

# Seed 004's 办结时限 column (item 10's cell is missing; its guide says 5 个工作日).
TIME_LIMITS = {n: ("instant", 0) for n in range(1, 41)}
TIME_LIMITS.update({
    10: ("working_days", 5), 11: ("working_days", 10), 18: ("working_days", 5),
    21: ("working_days", 3), 22: ("working_days", 5), 23: ("working_days", 5),
    24: ("working_days", 1), 28: ("working_days", 2), 29: ("working_days", 2),
    31: ("working_days", 2), 32: ("working_days", 2), 34: ("working_days", 2),
    35: ("working_days", 2), 37: ("working_days", 1),
})


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def seed_channels() -> dict[int, set[str]]:
    """Item number -> channels, parsed from seed 004 without the build script.

    The channel cell is found by its content (only 柜面/自助机 words), not its
    column, so a row whose cells are shifted still reads right.
    """
    text = LIST_SEED.read_text(encoding="utf-8")
    table = text[text.index("服务事项清单"):text.index("附件 2")]
    words = {"柜面": "counter", "自助机": "kiosk"}
    out: dict[int, set[str]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("\t")]
        if not cells[0].isdigit():
            continue
        channel_cells = [c for c in cells[1:] if c and all(w in words for w in c.split("、"))]
        assert len(channel_cells) == 1, line
        out[int(cells[0])] = {words[w] for w in channel_cells[0].split("、")}
    return out


# --------------------------------------------------------------------------
# contents


def test_forty_items_numbered_1_to_40(catalog):
    assert [item.no for item in catalog.items] == list(range(1, 41))


def test_category_counts(catalog):
    counts = {c.id: len(catalog.in_category(c.id)) for c in catalog.categories}
    assert counts == {"jobs": 15, "skills": 4, "insurance": 18, "card": 3}
    assert [c.name for c in catalog.categories] == ["我要找工作", "我要学技能", "我要办社保", "我要办社保卡"]
    assert [i.no for i in catalog.in_category("skills")] == [16, 17, 18, 19]
    assert [i.no for i in catalog.in_category("card")] == [38, 39, 40]


def test_kiosk_channel_items_literal(catalog):
    assert {item.no for item in catalog.items if item.is_kiosk_channel} == KIOSK_ITEMS
    assert all("counter" in item.channels for item in catalog.items)  # every item is also at the counter


def test_items_the_kiosk_completes_are_catalog_data(catalog):
    """One source of truth: ``kiosk_mode`` says what the kiosk does; labels and the engine read it."""
    from kiosk.flows.step import mode_of
    from kiosk.screens.item_list import where_zh

    done_here = {item.no for item in catalog.items if item.completes_on_kiosk}
    assert done_here == KIOSK_ITEMS | {21, 38, 39, 40}
    assert {i.no for i in catalog.kiosk_items()} == done_here
    for item in catalog.items:
        assert mode_of(item) == item.kiosk_mode
        assert (where_zh(item) == "自助机可办") == (item.no in done_here), item.no
    assert catalog.by_no(39).kiosk_mode == "enquiry" and catalog.by_no(21).kiosk_mode == "application"


@needs_seeds
def test_kiosk_channel_items_match_seed_column(catalog):
    seed = seed_channels()
    assert len(seed) == 40
    assert {n for n, ch in seed.items() if "kiosk" in ch} == KIOSK_ITEMS
    for item in catalog.items:
        assert set(item.channels) == seed[item.no], item.no


def test_time_limits(catalog):
    for item in catalog.items:
        tl = item.time_limit
        assert (tl.kind, tl.days) == TIME_LIMITS[item.no], item.no
    # The guides count these without the application day (不含申请日当天).
    excluded = {i.no for i in catalog.items if i.time_limit.exclude_application_day}
    assert excluded == {22, 23, 28, 29, 31, 32, 34, 35, 37}
    assert catalog.by_no(11).time_limit_text == "10个工作日"
    assert catalog.by_no(18).time_limit_text == "5个工作日内办结"


def test_names_and_sample_texts(catalog):
    assert catalog.by_no(1).name == "固定工求职登记"
    assert catalog.by_no(26).name == "企业职工基本养老保险待遇发放记录查询"
    assert catalog.by_no(40).name == "社会保障卡挂失与解挂"
    # item 10's row is shifted in the seed: audience and conditions still land right
    assert catalog.by_no(10).audience == "处于灵活就业状态的劳动者"
    assert catalog.by_no(10).conditions == "需本人携带身份证或社保卡"
    assert catalog.by_no(21).requires_photo
    assert [i.no for i in catalog.items if i.requires_photo] == [21]
    assert catalog.by_no(21).receipt == "certification"
    assert "手持身份证和近期报刊" in catalog.by_no(21).guide.notes
    assert "1000 元" in catalog.by_no(22).guide.notes
    assert "60%-300%" in catalog.by_no(20).guide.notes


@needs_seeds
def test_list_columns_are_in_seed_004(catalog):
    seed = squash(LIST_SEED.read_text(encoding="utf-8"))
    for item in catalog.items:
        for name in ("name", "content", "audience", "conditions", "materials", "time_limit_text"):
            value = getattr(item, name)
            if name == "time_limit_text" and item.no == 10:
                continue  # missing from the list; from the guide (checked below)
            assert squash(value) in seed, (item.no, name, value)


@needs_seeds
def test_guide_text_is_in_seed_002(catalog):
    seed = squash(GUIDE_SEED.read_text(encoding="utf-8"))
    for item in catalog.items:
        assert item.guide.description, item.no
        assert item.guide.materials, item.no
        assert item.guide.time_limit, item.no
        for key, value in item.guide.to_dict().items():
            if value:
                assert squash(value) in seed, (item.no, key, value)
    assert squash(catalog.by_no(10).time_limit_text) in seed


@needs_seeds
def test_item_26_guide_is_the_seeds(catalog):
    """Issue 2 shows item 26's guide on screen; its parts are the seed's paragraphs."""
    g = catalog.by_no(26).guide
    assert g.description == "参加我省企业职工基本养老保险待遇领取人员可查询企业职工基本养老保险待遇发放记录和当前月待遇项目组成明细。"
    assert g.conditions == "正常领取企业职工基本养老保险待遇。"
    assert g.notes.startswith("1、政策性待遇调整：")
    assert g.notes.count("\n") == 2


def test_rules_and_fields_use_the_vocabulary(catalog):
    for item in catalog.items:
        for r in item.rules:
            assert r.rule in RULE_NAMES
            assert re.search(r"[\u4e00-\u9fff]", r.message), (item.no, r.rule)
        for f in item.fields:
            assert f.type in FIELD_TYPES
    rules = {(i.no, r.rule, r.value if not isinstance(r.value, tuple) else r.value) for i in catalog.items for r in i.rules}
    assert (34, "min_age", 60) in rules
    assert (34, "min_contribution_years", 15) in rules
    assert (35, "min_age", 65) in rules
    assert (29, "under_age", 65) in rules
    assert (28, "not_student", True) in rules
    assert (2, "registered", "job_seeker") in rules
    assert catalog.by_no(38).rules[0].value == ("issued_not_activated",)
    # forms the issue names: certificate number (22), reasons (24, 31, 37), ID of the beneficiary
    assert catalog.by_no(22).field("certificate_no").type == "certificate_no"
    for no in (24, 31, 37):
        assert catalog.by_no(no).field("reason").type == "choice"
    assert catalog.by_no(24).rules[0].applies_to == "beneficiary_id"
    # enquiries collect nothing
    assert all(not i.fields for i in catalog.items if i.kind in ("enquiry", "info"))


def test_receipts(catalog):
    for item in catalog.items:
        if item.no == 21:
            continue
        if not item.is_kiosk_channel:
            assert item.receipt == "checklist", item.no
        elif item.kind in ("enquiry", "info"):
            assert item.receipt == "enquiry", item.no
        else:
            assert item.receipt == "acceptance", item.no


# --------------------------------------------------------------------------
# loader behaviour


def _with_table(data: dict) -> dict:
    """The catalog document with the rule table's rows attached, as load_catalog sees it."""
    attach_rule_table(data, [{k: v for k, v in row.items() if k != "item"}
                             | {"item": row["item"]} for row in read_rule_table(CATALOG_PATH.with_name(RULES_FILE))])
    for it in data["items"]:
        it.setdefault("rules", [])
        for row in it["rules"]:
            row.pop("item", None)
    return data


def test_round_trip_and_cache(catalog):
    assert catalog.to_dict() == _with_table(json.loads(CATALOG_PATH.read_text(encoding="utf-8")))
    assert json.loads(catalog.to_json()) == catalog.to_dict()
    assert load_catalog() is catalog
    assert load_catalog(CATALOG_PATH) is catalog


def test_item_behaviour_is_catalog_data(catalog):
    """What the flow does beyond an item's mode is named in the catalog, never by item number."""
    flow = {item.no: item.flow for item in catalog.items}
    assert {n for n, f in flow.items() if f.filters} == {3, 6, 9}
    assert flow[9].filters == ("township", "type")  # seekers state no pay
    assert {n: f.recommend for n, f in flow.items() if f.recommend} == {2: "fixed_jobs", 5: "gig_jobs", 8: "gig_seekers"}
    assert {n for n, f in flow.items() if f.masks_names} == {8, 9}
    assert {n for n, f in flow.items() if f.card_status_notes} == {39}
    assert {n for n, f in flow.items() if f.card_loss_notes} == {40}
    assert {n: f.follow_ups for n, f in flow.items() if f.follow_ups} == {
        1: (2, 3), 4: (5, 6), 7: (8,), 11: (23,), 39: (40,)}
    assert {n for n, f in flow.items() if f.does_zh} == {i.no for i in catalog.kiosk_items()}
    engine_dir = ROOT / "kiosk" / "flows"
    for path in [*engine_dir.glob("*.py"), *(ROOT / "kiosk" / "screens").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        # an item number compared with anything: behaviour keyed by number, not by data
        assert not re.search(r"item\.no *(==|!=|in\b|not in\b)|item_no *(==|!=) *\d", text), path


def test_unknown_item_and_category(catalog):
    with pytest.raises(CatalogError) as exc:
        catalog.by_no(41)
    assert "41" in str(exc.value)
    assert exc.value.message_zh
    with pytest.raises(CatalogError):
        catalog.in_category("pets")


def _broken(tmp_path, mutate) -> Path:
    data = _with_table(json.loads(CATALOG_PATH.read_text(encoding="utf-8")))
    mutate(data)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _item(data, no):
    return next(i for i in data["items"] if i["no"] == no)


BREAKAGES = [
    ("channel", lambda d: _item(d, 21).__setitem__("channels", ["counter", "web"]), "item 21", "channels"),
    ("no channel", lambda d: _item(d, 3).__setitem__("channels", []), "item 3", "channels"),
    ("category", lambda d: _item(d, 17).__setitem__("category", "pets"), "item 17", "category"),
    ("time kind", lambda d: _item(d, 5).__setitem__("time_limit", {"kind": "soon"}), "item 5", "time_limit.kind"),
    ("time days", lambda d: _item(d, 11).__setitem__("time_limit", {"kind": "working_days", "days": 0,
                                                                      "exclude_application_day": False}),
     "item 11", "time_limit.days"),
    ("field type", lambda d: _item(d, 7)["fields"][1].__setitem__("type", "voice"), "item 7", "fields[1].type"),
    ("field label repeats a summary line", lambda d: _item(d, 40)["fields"][0].__setitem__("label", "办理事项"),
     "item 40", "fields[0].label"),
    ("choice w/o choices", lambda d: _item(d, 40)["fields"][0].pop("choices"), "item 40", "fields[0].choices"),
    ("rule name", lambda d: _item(d, 34)["rules"][0].__setitem__("rule", "is_nice"), "item 34", "rules[0].rule"),
    ("rule value", lambda d: _item(d, 34)["rules"][0].__setitem__("value", "sixty"), "item 34", "rules[0].value"),
    ("scheme", lambda d: _item(d, 22)["rules"][0].__setitem__("scheme", "lottery"), "item 22", "rules[0].scheme"),
    ("guide part", lambda d: _item(d, 26)["guide"].pop("notes"), "item 26", "guide.notes"),
    ("kind", lambda d: _item(d, 12).__setitem__("kind", "party"), "item 12", "kind"),
    ("receipt", lambda d: _item(d, 13).__setitem__("receipt", "poster"), "item 13", "receipt"),
    ("photo flag", lambda d: _item(d, 21).__setitem__("requires_photo", "yes"), "item 21", "requires_photo"),
    ("duplicate no", lambda d: _item(d, 9).__setitem__("no", 8), "item 8", "no"),
    ("number range", lambda d: _item(d, 40).__setitem__("no", 41), "item 41", "no"),
    ("missing item", lambda d: d["items"].pop(), "", "items"),
    ("kiosk mode", lambda d: _item(d, 21).__setitem__("kiosk_mode", "maybe"), "item 21", "kiosk_mode"),
    ("no kiosk mode", lambda d: _item(d, 21).pop("kiosk_mode"), "item 21", "kiosk_mode"),
    ("kiosk item at counter", lambda d: _item(d, 3).__setitem__("kiosk_mode", "counter"), "item 3", "kiosk_mode"),
    # per-item behaviour (the "flow" object): each key checked against the mode and form it needs
    ("flow key", lambda d: _item(d, 38).__setitem__("flow", {**_item(d, 38)["flow"], "item_38_note": "x"}),
     "item 38", "flow"),
    ("flow filter", lambda d: _item(d, 3)["flow"].__setitem__("filters", ["township", "colour"]),
     "item 3", "flow.filters"),
    ("flow filter order", lambda d: _item(d, 3)["flow"].__setitem__("filters", ["min_pay", "township"]),
     "item 3", "flow.filters"),
    ("pay filter w/o column", lambda d: _item(d, 6)["flow"].pop("pay_column"), "item 6", "flow.pay_column"),
    ("column w/o pay filter", lambda d: _item(d, 9)["flow"].__setitem__("pay_column", "pay"),
     "item 9", "flow.pay_column"),
    ("recommender", lambda d: _item(d, 2)["flow"].__setitem__("recommend", "horoscope"), "item 2", "flow.recommend"),
    ("enquiry key on an application", lambda d: _item(d, 1)["flow"].__setitem__("masks_names", True),
     "item 1", "flow.masks_names"),
    ("flag not true", lambda d: _item(d, 8)["flow"].__setitem__("masks_names", "yes"), "item 8", "flow.masks_names"),
    ("card loss w/o action", lambda d: _item(d, 38)["flow"].__setitem__("card_loss_notes", True),
     "item 38", "flow.card_loss_notes"),
    ("follow-up itself", lambda d: _item(d, 1)["flow"].__setitem__("follow_ups", [1, 2]), "item 1", "flow.follow_ups"),
    ("follow-up range", lambda d: _item(d, 11)["flow"].__setitem__("follow_ups", [41]), "item 11", "flow.follow_ups"),
    ("conversion", lambda d: _item(d, 22)["flow"].__setitem__("platform_fields", "level"),
     "item 22", "flow.platform_fields"),
    ("result note empty", lambda d: _item(d, 21)["flow"].__setitem__("result_notes", [" "]),
     "item 21", "flow.result_notes"),
    ("no does_zh", lambda d: _item(d, 26).pop("flow"), "item 26", "flow.does_zh"),
]


@pytest.mark.parametrize("mutate,where,field", [b[1:] for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_validation_names_item_and_field(tmp_path, mutate, where, field):
    path = _broken(tmp_path, mutate)
    with pytest.raises(CatalogError) as exc:
        load_catalog(path)
    text = str(exc.value)
    assert f"{where}: {field}:" in text if where else f": {field}:" in text, text
    assert exc.value.message_zh == "服务事项数据有误，请联系工作人员。"


def test_bad_json_and_missing_file(tmp_path):
    bad = tmp_path / "catalog.json"
    bad.write_text('{"version": 1,', encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid JSON at line 1"):
        load_catalog(bad)
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(tmp_path / "nope.json")


# --------------------------------------------------------------------------
# the JSON is what the build script makes from the seeds


@needs_seeds
def test_committed_json_matches_build_script():
    spec = importlib.util.spec_from_file_location("build_catalog", ROOT / "scripts" / "build_catalog.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build(SEEDS)
    assert mod.dumps(built) == CATALOG_PATH.read_text(encoding="utf-8")
    # every judgement call is a known one (see docs/catalog.md)
    assert len([a for a in mod.AMBIGUITIES if "names it" in a]) == 2  # items 18, 19
    assert any(a.startswith("item 10: seed 004 row is shifted") for a in mod.AMBIGUITIES)


# --------------------------------------------------------------------------
# the command line


def _kiosk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "catalog", *args],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60,
    )


def test_cli_json_prints_forty_items():
    proc = _kiosk("--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert len(data["items"]) == 40
    assert data["items"][25]["name"] == "企业职工基本养老保险待遇发放记录查询"
    assert "社会保障卡" in proc.stdout  # not \u-escaped


def test_cli_table_item_and_errors():
    proc = _kiosk()
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    row21 = next(line for line in lines if line.startswith("21 "))
    assert "社会保险待遇领取资格认证" in row21 and "自助机" not in row21 and "3个工作日" in row21
    assert "自助机可办 26 项" in proc.stdout  # the list's 22 plus 21, 38-40 (kiosk_mode)

    proc = _kiosk("--item", "26")
    assert proc.returncode == 0
    assert "养老金没有发放的原因：超期未认证的" in proc.stdout

    proc = _kiosk("--item", "41")
    assert proc.returncode == 1
    assert "no item 41" in proc.stderr

    proc = _kiosk("--file", "/nonexistent/catalog.json")
    assert proc.returncode == 1 and "cannot read catalog" in proc.stderr


def test_cli_search_hook():
    proc = _kiosk("--search", "养老")
    if importlib.util.find_spec("kiosk.flows.search") is None:
        assert proc.returncode == 1
        assert "search is not available" in proc.stderr
        assert "Traceback" not in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
        assert "养老" in proc.stdout
