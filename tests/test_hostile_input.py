"""Hostile text at the entry points residents type into or scan: form fields and ID numbers.

Whatever arrives (very long, emoji, control and bidi characters, lone
surrogates, SQL-ish, full-width or Arabic-Indic digits), ``validate`` returns
either a value the platform can take (JSON in UTF-8, ASCII digits where digits
are meant) or a Chinese sentence for the screen; it never raises.
"""

from __future__ import annotations

import datetime as _dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.flows.catalog import FormField
from kiosk.flows.fields import validate
from kiosk.core.idnumber import id_problem, is_valid_id, make_id, normalize

TODAY = _dt.date(2026, 6, 15)
VALID_ID = make_id("141124", _dt.date(1962, 3, 8), 21)
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

TYPES = ["phone", "text_zh", "money", "choice", "digits", "date", "certificate_no", "id_number"]
DIGIT_TYPES = {"phone", "money", "digits", "date", "id_number"}


def field(type_: str) -> FormField:
    return FormField("x", "字段", type_, True, ("男", "女") if type_ == "choice" else (), None, None)


HOSTILE = ["²", "³³", "٣", "9" * 5000, "a" * 100_000, "😀", "中文😀", "\ud800", "abc\udfff", "' OR 1=1 --",
           "'; DROP TABLE outbox; --", "\u202e13912345678", "1391234\u200b5678", "\x00", "\x7f", "\x85",
           "\x1b[31m", "NaN", "1e309", "-0", "<script>", "%s%s%n", "\ufeff"]


def _check(type_: str, raw: str) -> None:
    value, err = validate(field(type_), raw, TODAY)
    if err is not None:
        assert value is None and isinstance(err, str) and err
        return
    json.dumps(value, ensure_ascii=False).encode("utf-8")   # what the outbox and the platform client do
    if type_ in DIGIT_TYPES:
        assert str(value).isascii(), (type_, raw, value)


@pytest.mark.parametrize("type_", TYPES)
@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_give_a_message_never_an_exception(type_, raw):
    _check(type_, raw)


@settings(max_examples=150, deadline=None)
@given(type_=st.sampled_from(TYPES), raw=st.text(st.characters(blacklist_categories=()), max_size=300))
def test_any_text_gives_a_value_or_a_message(type_, raw):
    _check(type_, raw)


def test_digits_field_refuses_superscripts_and_huge_numbers():
    assert validate(field("digits"), "²", TODAY) == (2, None)          # NFKC folds it; int("²") used to raise
    assert validate(field("digits"), "٣", TODAY)[1] == "字段只能填数字。"
    assert validate(field("digits"), "9" * 5000, TODAY)[1]


def test_free_text_refuses_controls_bidi_surrogates_and_emoji_but_keeps_chinese():
    for raw in ("工作\x7f", "工作\u202e", "工作\ud800", "工作😀", "工\x85作"):
        assert validate(field("text_zh"), raw, TODAY) == (None, "字段含有无法识别的字符。"), repr(raw)
    assert validate(field("text_zh"), "红枣采摘·临县", TODAY) == ("红枣采摘·临县", None)


def test_full_width_digits_are_folded_to_ascii():
    assert validate(field("phone"), "１３９１２３４５６７８", TODAY) == ("13912345678", None)
    assert validate(field("id_number"), VALID_ID.translate(FULLWIDTH), TODAY) == (VALID_ID, None)
    assert validate(field("digits"), "１２", TODAY) == (12, None)


def test_arabic_indic_digits_are_not_a_phone_number():
    value, err = validate(field("phone"), "13" + "912345678".translate(ARABIC_INDIC), TODAY)
    assert value is None and err


def test_id_number_only_in_ascii_digits():
    assert normalize(VALID_ID.translate(FULLWIDTH)) == VALID_ID
    assert is_valid_id(VALID_ID.translate(FULLWIDTH))
    assert id_problem(VALID_ID[:17].translate(ARABIC_INDIC) + VALID_ID[17]) is not None


# ---------------------------------------------------------------------------
# The platform client: QR text scanned or typed, and what a (broken or hostile) platform answers

from kiosk.core.errors import PlatformError  # noqa: E402
from kiosk.platform.adapter import BadResponse, Refused  # noqa: E402
from kiosk.platform.http_client import MAX_ANSWER_BYTES  # noqa: E402
from tests.platform_support import client, sim  # noqa: E402,F401 - the module's simulator
from tests.test_platform_client import client_for, fake, response  # noqa: E402,F401


@pytest.mark.parametrize("qr_text,code", [
    ("", "qr_malformed"), ("   ", "qr_malformed"), ("x" * 2_000_000, "qr_malformed"), ("garbage", "qr_malformed"),
    ("\x00\x01\x02\xff", "qr_malformed"), ("ESSC1." + "A" * 60, "qr_malformed"), ("中文" * 1000, "qr_malformed"),
    ("ESSC1.\ud800abc", "unencodable_request"),
], ids=["empty", "blank", "huge", "garbage", "binary", "prefix", "chinese", "surrogate"])
def test_qr_login_with_garbage_is_refused_with_a_chinese_message(sim, qr_text, code):
    with client(sim.url) as p:
        with pytest.raises(Refused) as exc:
            p.verify_essc(qr_text)
    assert exc.value.code == code
    assert exc.value.message_zh.endswith("。") and "服务平台返回的数据有误" not in exc.value.message_zh


def test_submission_with_unencodable_text_is_refused_not_raised(sim):
    with client(sim.url) as p:
        with pytest.raises(Refused) as exc:
            p.submit(1, VALID_ID, {"job_type": "电工\udcff"}, "k" * 32)
    assert exc.value.code == "unencodable_request" and "UnicodeEncodeError" in str(exc.value)


def test_platform_error_texts_are_bounded_cleaned_and_hold_no_id_number(fake, caplog):
    caplog.set_level("DEBUG")
    body = {"error": {"code": "not_found", "message": f"no resident {VALID_ID}\x1b[2J" + "x" * 50_000,
                      "message_zh": "未查询到您的信息。\x00" + "啊" * 50_000}}
    fake.script.modes = [response(404, json.dumps(body).encode())]
    with client_for(fake) as p:
        with pytest.raises(Refused) as exc:
            p.enquiry(26, VALID_ID)
    assert len(exc.value.message_zh) <= 201 and "\x00" not in exc.value.message_zh
    assert exc.value.message_zh.startswith("未查询到您的信息。")
    logged = [r.getMessage() for r in caplog.records] + [str(exc.value)]
    assert all(VALID_ID not in line and "\x1b" not in line and len(line) < 1000 for line in logged)


def test_huge_answer_is_refused_not_buffered(fake):
    fake.script.modes = [response(200, b"[" + b"0," * (MAX_ANSWER_BYTES // 2 + 10) + b"0]")]
    with client_for(fake, read_timeout=10.0) as p:
        with pytest.raises(BadResponse) as exc:
            p.enquiry(12, None)
    assert isinstance(exc.value, PlatformError) and "larger than" in str(exc.value)


# ---------------------------------------------------------------------------
# `kiosk decode qr` on files that are not images


def test_decode_qr_cli_reports_unreadable_files_as_json(tmp_path):
    import subprocess
    import sys

    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    (tmp_path / "noise.png").write_bytes(bytes(range(256)) * 20)
    files = [str(tmp_path / n) for n in ("empty.png", "text.jpg", "noise.png", "missing.png")] + [str(tmp_path)]
    r = subprocess.run([sys.executable, "-m", "kiosk", "decode", "qr", *files], capture_output=True, text=True, timeout=60)
    assert "Traceback" not in r.stderr, r.stderr[-800:]
    lines = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [ln["image"] for ln in lines] == files
    assert all(ln["error"] for ln in lines)
    assert r.returncode == 1


# ---------------------------------------------------------------------------
# Catalog and disclosure files edited by hand: any wrong shape is a CatalogError naming the place

import copy  # noqa: E402
import random  # noqa: E402

from kiosk import ROOT  # noqa: E402
from kiosk.core.errors import CatalogError  # noqa: E402
from kiosk.flows import catalog as service_catalog  # noqa: E402
from kiosk.flows import disclosure  # noqa: E402

WEIRD = [None, True, 0, -1, 1.5, "", "x", [], {}, [None], {"a": 1}, [{"a": 1}], 10**30]


def _mutate(doc, rnd: random.Random, n: int):
    doc = copy.deepcopy(doc)
    for _ in range(n):
        trail, cur = [], doc
        while isinstance(cur, (dict, list)) and cur and rnd.random() < 0.85:
            k = rnd.choice(list(cur)) if isinstance(cur, dict) else rnd.randrange(len(cur))
            trail.append((cur, k))
            cur = cur[k]
        if trail:
            parent, k = trail[-1]
            parent[k] = rnd.choice(WEIRD)
    return doc


def _only_catalog_errors(parse, doc, seed: int, rounds: int) -> None:
    rnd = random.Random(seed)
    for _ in range(rounds):
        try:
            parse(_mutate(doc, rnd, rnd.randint(1, 3)))
        except CatalogError as exc:
            assert exc.message_zh and str(exc)


@pytest.mark.parametrize("bad", [{"channels": [{"x": 1}]}, {"channels": [["kiosk"]]}])
def test_catalog_item_with_unhashable_channel_is_a_catalog_error(bad):
    doc = json.loads((ROOT / "config/catalog.json").read_text(encoding="utf-8"))
    doc["items"][0].update(bad)
    with pytest.raises(CatalogError, match="channel"):
        service_catalog.parse_catalog(doc, "catalog.json")


def test_mutated_catalogs_give_only_catalog_errors():
    doc = json.loads((ROOT / "config/catalog.json").read_text(encoding="utf-8"))
    _only_catalog_errors(service_catalog.parse_catalog, doc, 3, 1500)


@pytest.mark.parametrize("slug", ["linxian", "yunzhou", "zhanggong"])
def test_mutated_disclosure_catalogs_give_only_catalog_errors(slug):
    doc = json.loads((ROOT / f"config/disclosure/{slug}.json").read_text(encoding="utf-8"))
    _only_catalog_errors(disclosure.parse_catalog, doc, 5, 600)
    for top in (None, [], "x", {"level_names": 3, "items": []}, {"level_names": ["a"], "items": [{"no": "1", "levels": ["a"],
                "name": "n", "channel_checkboxes": ["网上"]}]}):
        with pytest.raises(CatalogError):
            disclosure.parse_catalog(top)


def test_catalog_files_that_are_not_utf8_are_catalog_errors(tmp_path):
    (tmp_path / "catalog.json").write_bytes("{\"version\": 1, \"名\": 1}".encode("gb18030"))
    with pytest.raises(CatalogError):
        service_catalog.load_catalog(tmp_path / "catalog.json")
    (tmp_path / "gbk.json").write_bytes("{\"schema\": 1, \"county\": \"临县\"}".encode("gb18030"))
    with pytest.raises(CatalogError):
        disclosure.load_disclosure("临县", tmp_path)


# ---------------------------------------------------------------------------
# `kiosk flow run --answers FILE` with answers of the wrong shape


@pytest.mark.parametrize("item,who,answers", [
    (21, "cert", {"phone": "13912345678", "photo": "/nonexistent/photo.jpg"}),
    (21, "cert", {"phone": "13912345678", "photo": 123}),
    (3, "seeker", {"filters": "x"}),
    (3, "seeker", {"filters": {"salary": 1}}),
    (3, "seeker", {"page": "x"}),
    (3, "seeker", {"filters": {"min_pay": "²"}}),
    (1, "seeker", [1, 2]),
], ids=["photo-missing", "photo-number", "filters-text", "filters-unknown", "page-text", "min-pay-superscript", "not-object"])
def test_flow_run_with_bad_answers_exits_cleanly(sim, tmp_path, item, who, answers):
    from tests.test_flow_cli import kiosk
    from tests.platform_support import sample

    people = sample(sim.url, 300)
    if who == "cert":
        person = next(p for p in people if 21 in p["qualifies"] and (26 in p["has_records_for"] or 36 in p["has_records_for"]))
    else:
        person = next(p for p in people if "fixed_seeker" in p["registrations"])
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(answers), encoding="utf-8")
    out = kiosk(["flow", "run", str(item), "--resident", person["id_number"], "--platform", sim.url,
                 "--outbox", str(tmp_path / "outbox.json"), "--answers", str(path)], tmp_path)
    assert "Traceback" not in out.stderr, out.stderr[-1500:]
    assert out.returncode in (0, 2), out.stdout + out.stderr
    if out.returncode == 2:
        last = json.loads(out.stdout.splitlines()[-1])
        assert last["error"] == "invalid_answers" and last["message_zh"]
