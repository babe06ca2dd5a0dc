"""The rule table (config/rules.json): every row quotes its seed, prints, and is decided right.

Test cases are generated from the table: for every row the kiosk decides before the form, the
simulator's seeded population (real simulator on loopback) must hold one resident who fails that
row (alone where possible, else after passing every earlier row), and the flow engine must refuse that resident with the row's own message; for every
item, one resident who passes every row must get past the conditions.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiosk.core.idnumber import mask_id
from kiosk.core.person import Person
from kiosk.flows.catalog import UNDECIDED_RULES, Rule, load_catalog
from kiosk.flows.engine import ServiceFlow
from kiosk.flows.site import Site
from kiosk.flows.step import COUNTER, REFUSED
from kiosk.flows.rules import FactFinder, ResidentFacts, check_rule, needs_fields
from kiosk.hardware.escpos_render import decode, decoded_lines
from kiosk.platform.http_client import _status
from kiosk.platform.outbox import Outbox
from kiosk.receipts import render_receipt

from platform_support import TODAY, client, free_port, sample, sim  # noqa: F401 - sim: fixture
from test_flows_all_items import outbox, platform  # noqa: F401 - module fixtures on the same simulator

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "config" / "rules.json"
SEEDS = Path(os.environ.get("KIOSK_SEEDS_DIR", ROOT.parent / "shared" / "seeds"))
DAY = _dt.date.fromisoformat(TODAY)
SITE = Site("示范村便民服务站", "SX-TEST-0001", "临县", "0358-4466038", "临县城庄镇便民服务中心", "临县城庄镇政府院内")
CATALOG = load_catalog()
ROWS = json.loads(TABLE.read_text(encoding="utf-8"))["rules"]


def decidable(rule: Rule) -> bool:
    """Decided by the kiosk before the form, about the resident at the kiosk."""
    return rule.rule not in UNDECIDED_RULES and not needs_fields(rule)


PRE_ROWS = [(it.no, i, r) for it in CATALOG.items for i, r in enumerate(it.rules) if decidable(r)]
ITEMS_WITH_RULES = sorted({no for no, _, _ in PRE_ROWS})


# --------------------------------------------------------------------------
# the table itself


def test_every_row_is_sourced_and_readable():
    assert ROWS, "empty rule table"
    for row in ROWS:
        where = f"item {row['item']} {row['rule']}"
        assert row["condition_zh"].strip() and row["quote"].strip() and row["message"].strip(), where
        assert row["source"] in ("002_5c165d75777034b1.txt", "004_0db79a21b1251fb6.txt"), where
        if row["rule"] in UNDECIDED_RULES:
            assert row.get("why", "").strip(), f"{where}: say why the kiosk does not decide it"


def test_the_catalog_takes_its_rules_from_the_table_only():
    raw = json.loads((ROOT / "config" / "catalog.json").read_text(encoding="utf-8"))
    assert not any(it.get("rules") for it in raw["items"]), "rules belong in config/rules.json"
    assert sum(len(it.rules) for it in CATALOG.items) == len(ROWS)
    by_item = {it.no: [(r.rule, r.message) for r in it.rules] for it in CATALOG.items}
    for no in range(1, 41):
        assert by_item[no] == [(r["rule"], r["message"]) for r in ROWS if r["item"] == no]


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed documents not found in {SEEDS}")
def test_every_quote_is_in_its_seed():
    seeds = {p.name: re.sub(r"\s+", "", p.read_text(encoding="utf-8")) for p in SEEDS.glob("00*.txt")}
    missing = [f"item {r['item']} {r['rule']}: {r['quote']}" for r in ROWS
               if re.sub(r"\s+", "", r["quote"]) not in seeds[r["source"]]]
    assert missing == []


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", "flow", "rules", *args], cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_flow_rules_prints_the_table():
    out = _cli("--item", "16")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("16 培训意向登记")
    assert "非机关事业单位、企业在岗人员" in out.stdout and "机关事业单位在岗人员，企业在岗人员" in out.stdout
    assert "002_5c165d75777034b1.txt" in out.stdout and "<counter" in out.stdout
    whole = _cli("--json")
    rows = json.loads(whole.stdout)
    assert len(rows) == len(ROWS) and {r["item"] for r in rows} <= set(range(1, 41))
    assert {r["decided_by"] for r in rows} == {"kiosk", "declared", "platform", "counter"}
    assert _cli("--item", "41").returncode == 2


# --------------------------------------------------------------------------
# cases generated from the table, residents from the simulator


@pytest.fixture(scope="module")
def people(sim):
    return sample(sim.url, 3000)


def facts_of(person: dict[str, Any], rules: list[Rule]) -> ResidentFacts:
    """The facts the kiosk would learn, from the status record the simulator serves (same parser)."""
    finder = FactFinder(None, person["id_number"], card_state=person["card_state"])  # type: ignore[arg-type]
    finder._cache["status"] = _status(person["status"])  # type: ignore[assignment]
    return finder.learn(rules)


def verdicts(person: dict[str, Any], item_no: int) -> list[bool | None]:
    rules = [r for r in CATALOG.by_no(item_no).rules if decidable(r)]
    facts = facts_of(person, rules)
    return [check_rule(r, facts, DAY) for r in rules]


def fails_first(people, item_no: int, rule: Rule) -> dict[str, Any] | None:
    """A resident who fails ``rule`` and passes every row before it (so it is the refusal shown);
    one who fails this row alone when the population has one."""
    rules = [r for r in CATALOG.by_no(item_no).rules if decidable(r)]
    k = rules.index(rule)
    first = None
    for p in people:
        v = verdicts(p, item_no)
        if v[k] is False and all(x is True for x in v[:k]):
            if all(x is not False for x in v[k + 1:]):
                return p
            first = first or p
    return first


def qualifier(people, item_no: int) -> dict[str, Any] | None:
    return next((p for p in people if all(x is True for x in verdicts(p, item_no))), None)


def start(item_no: int, id_number: str, platform, outbox):
    flow = ServiceFlow(CATALOG.by_no(item_no), Person(id_number, "", "idcard"), platform, outbox, site=SITE, today=DAY)
    return flow, flow.start()


@pytest.mark.parametrize("item_no,index,rule", PRE_ROWS, ids=[f"{n}-{r.rule}-{i}" for n, i, r in PRE_ROWS])
def test_a_resident_who_fails_the_row_is_refused_with_its_words(item_no, index, rule, people, platform, outbox):
    person = fails_first(people, item_no, rule)
    assert person is not None, f"no resident in the simulator fails item {item_no} {rule.rule} (and passes the rows before)"
    _flow, step = start(item_no, person["id_number"], platform, outbox)
    assert step.kind == REFUSED, (item_no, rule.rule, step.to_dict())
    assert step.message_zh == rule.message
    assert person["id_number"] not in step.message_zh


@pytest.mark.parametrize("item_no", ITEMS_WITH_RULES)
def test_a_resident_who_meets_every_row_gets_past_the_conditions(item_no, people, platform, outbox):
    person = qualifier(people, item_no)
    assert person is not None, f"no resident in the simulator qualifies for item {item_no}"
    _flow, step = start(item_no, person["id_number"], platform, outbox)
    assert step.kind != REFUSED, (item_no, step.to_dict())


def test_beneficiary_rows_have_both_kinds(people):
    # items 24/37: the 待遇领取人 named in the form (driven end to end in test_flows_all_items)
    for item_no in (24, 37):
        rule = next(r for r in CATALOG.by_no(item_no).rules if r.applies_to)
        seen = {check_rule(rule, facts_of(p, [rule]), DAY) for p in people}
        assert {True, False} <= seen, item_no


# --------------------------------------------------------------------------
# the rules the flows missed (issue 14): each case got a checklist before


def _pick(people, pred):
    return next(p for p in people if pred(p))


MISSED = {
    # item 16: an enterprise employee paying into the employee pension this year
    16: (lambda p: p["status"]["employment"]["employer_kind"] == "enterprise"
         and p["status"]["employment"]["contributing_employee_pension_this_year"] and 16 <= p["age"] < 60,
         "机关事业单位在岗人员、企业在岗人员不可做为重点人群进行培训意愿登记"),
    # items 20 and 28: full-time students aged 16 and over
    20: (lambda p: p["student"] and p["age"] >= 16, "全日制在校学生不能办理"),
    28: (lambda p: p["student"] and p["age"] >= 16, "在校学生暂不能办理"),
    # item 34: already drawing the resident pension
    34: (lambda p: p["status"]["pensions"]["resident"]["receiving"], "您已在领取城乡居民基本养老保险待遇"),
}


@pytest.mark.parametrize("item_no", sorted(MISSED))
def test_missed_rules_are_decided(item_no, people, platform, outbox):
    pred, words = MISSED[item_no]
    person = _pick(people, pred)
    _flow, step = start(item_no, person["id_number"], platform, outbox)
    assert step.kind == REFUSED and words in step.message_zh, step.to_dict()
    assert step.receipt is None or "一次性告知单" not in "".join(decoded_lines(decode(render_receipt(step.receipt))))


# --------------------------------------------------------------------------
# an unknown fact never passes silently


def to_checklist(flow, step):
    """Fill the form (phone) and go on to the counter checklist."""
    if step.kind == "form":
        flow.set_field("phone", "13912345678")
        step = flow.next()
    return step


def _receipt_text(receipt) -> str:
    return "".join(decoded_lines(decode(render_receipt(receipt)))).replace(" ", "")


def test_checklist_names_what_the_counter_will_check_when_the_platform_cannot_tell(people, tmp_path):
    dead = client(f"http://127.0.0.1:{free_port()}", connect_timeout=0.3)  # nothing listens: platform unreachable
    ob = Outbox(tmp_path / "outbox.json", dead, backoff_base=0.05, fsync=False)
    try:
        person = _pick(people, lambda p: p["age"] >= 60)
        flow, step = start(34, person["id_number"], dead, ob)
        step = to_checklist(flow, step)
        assert step.kind == COUNTER, step.to_dict()
        note = next(n for n in step.notes_zh if "将由柜台工作人员核对" in n)
        for cond in ("参加我省城乡居民基本养老保险", "累计缴纳养老保险费满15年", "尚未领取城乡居民基本养老保险待遇"):
            assert cond in note
        assert "年满60周岁" not in note  # the ID number decides the age
        text = _receipt_text(step.receipt)
        assert "将由柜台工作人员核对" in text and "累计缴纳养老保险费满15年" in text
        assert mask_id(person["id_number"]) in text
    finally:
        ob.close()
        dead.close()


def test_checklist_names_counter_rows_but_not_decided_ones(people, platform, outbox):
    person = qualifier(people, 28)
    flow, step = start(28, person["id_number"], platform, outbox)
    step = to_checklist(flow, step)
    assert step.kind == COUNTER, step.to_dict()
    note = next(n for n in step.notes_zh if "将由柜台工作人员核对" in n)
    assert "在户籍所在地办理（核对户口本）" in note
    assert "不是在校学生" not in note and "未参加职工基本养老保险" not in note
