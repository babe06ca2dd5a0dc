"""The 256-byte text block: three layouts, validation, encoder, fuzzing."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.core.idnumber import is_valid_id
from kiosk.core.person import Person
from kiosk.hardware.idcard_protocol import IdCardError
from kiosk.hardware.idcard_sim import SYNTHETIC_RESIDENTS
from kiosk.hardware.idcard_text import (FOREIGN, FOREIGN_2023, HMT, NATIONS, RESIDENT, UNSHOWN, CardDataError,
                                        UnsupportedCardError, encode_text, parse_text)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("index", range(len(SYNTHETIC_RESIDENTS)))
def test_every_synthetic_card_round_trips(index):
    rec = SYNTHETIC_RESIDENTS[index]
    block = encode_text(rec)
    assert len(block) == 256
    assert parse_text(block, rec.photo) == rec


def test_synthetic_set_covers_the_required_cases():
    recs = SYNTHETIC_RESIDENTS
    assert any(r.nation_code not in ("", "01") for r in recs)          # minority nation
    assert any(r.id_number.endswith("X") for r in recs)                 # X check character
    assert any(r.valid_until is None for r in recs)                     # 长期
    assert {r.card_type for r in recs} == {RESIDENT, FOREIGN, FOREIGN_2023, HMT}
    assert all(is_valid_id(r.id_number) for r in recs if r.card_type != FOREIGN)


def test_resident_block_byte_layout():
    rec = SYNTHETIC_RESIDENTS[3]
    block = encode_text(rec)
    assert block[0:6].decode("utf-16-le") == "杨光明"
    assert block[30:32] == "1".encode("utf-16-le")                    # gender code
    assert block[32:36].decode("utf-16-le") == "06"                    # nation code
    assert block[36:52].decode("utf-16-le") == "19791123"
    assert block[122:158].decode("utf-16-le") == rec.id_number
    assert block[188:204].decode("utf-16-le") == "20090110"
    assert block[204:220].decode("utf-16-le") == "20290110"


def test_long_term_validity():
    rec = parse_text(encode_text(SYNTHETIC_RESIDENTS[0]))
    assert encode_text(SYNTHETIC_RESIDENTS[0])[204:208].decode("utf-16-le") == "长期"
    assert rec.valid_until is None and rec.long_term
    assert rec.validity_text == "2012.03.15-长期"
    assert not rec.is_expired(dt.date(2099, 1, 1))


def test_foreign_permanent_resident_card():
    block = encode_text(SYNTHETIC_RESIDENTS[4])
    assert block[248:250].decode("utf-16-le") == "I"
    rec = parse_text(block)
    assert rec.card_type == FOREIGN and rec.english_name == "SMITH JOHN WILLIAM"
    assert rec.nationality == "USA" and rec.id_number == "USA310069010112"
    person = rec.to_person()
    assert person.document == "foreign_permanent" and person.name == "史密斯约翰"


def test_foreign_permanent_resident_card_2023_edition():
    # Issued since 2023-12-01, type marker 'Y' (refused as an unsupported type before issue 14).
    src = SYNTHETIC_RESIDENTS[7]
    block = encode_text(src)
    assert block[248:250].decode("utf-16-le") == "Y"
    assert block[0:6].decode("utf-16-le") == "玛丽安"                         # Chinese name first
    assert block[122:158].decode("utf-16-le") == "914124198108030027"        # the citizen ID slot
    rec = parse_text(block)
    assert rec.card_type == FOREIGN_2023 and rec.id_number.startswith("9")
    assert rec.english_name == "MACDONALD MARIANNE ELIZABETH" and rec.nationality == "124"
    assert (rec.valid_from, rec.valid_until) == (dt.date(2024, 1, 15), dt.date(2034, 1, 15))
    assert rec.birth_date == dt.date(1981, 8, 3) and rec.gender == "女"
    person = rec.to_person()
    assert person.document == "foreign_permanent_2023" and person.name == "玛丽安"
    # no Chinese name: the English name is the one shown
    english_only = parse_text(encode_text(replace(src, name="")))
    assert english_only.to_person().name == "MACDONALD MARIANNE ELIZABETH"
    # a long English name continues in the overflow slot
    long_name = "WOLFESCHLEGELSTEINHAUSENBERGERDORFF JOHANNES"
    assert parse_text(encode_text(replace(src, english_name=long_name))).english_name == long_name


@pytest.mark.parametrize("mutate,fragment", [
    (lambda b: b[:122] + "814124198108030027".encode("utf-16-le") + b[158:], "9 + 16 digits"),
    (lambda b: b[:122] + "914124198108030028".encode("utf-16-le") + b[158:], "check character"),
    (lambda b: b[:220] + "250".encode("utf-16-le") + b[226:], "nationality code does not match"),
])
def test_foreign_2023_number_is_checked(mutate, fragment):
    with pytest.raises(CardDataError) as exc:
        parse_text(mutate(encode_text(SYNTHETIC_RESIDENTS[7])))
    assert fragment in str(exc.value)


@pytest.mark.parametrize("name,shown", [
    ("王\ue000明", f"王{UNSHOWN}明"),                         # private-use rare character
    ("李\ud840\udc0c华", f"李{UNSHOWN}华"),                  # a UTF-16 surrogate pair (outside UCS-2)
    ("\udc0c张三", f"{UNSHOWN}张三"),                         # a lone surrogate
])
def test_characters_outside_the_2_byte_set_never_refuse_the_card(name, shown, caplog):
    src = SYNTHETIC_RESIDENTS[1]
    block = encode_text(replace(src, name=name))
    with caplog.at_level("INFO", logger="kiosk.hardware.idcard"):
        rec = parse_text(block)
    assert rec.name == shown and rec.rare_chars == 1
    assert rec.id_number == src.id_number and rec.to_person().name == shown
    assert "shown as U+3013" in caplog.text and name not in caplog.text and shown not in caplog.text


def test_hmt_residence_permit():
    block = encode_text(SYNTHETIC_RESIDENTS[5])
    assert block[248:250].decode("utf-16-le") == "J"
    rec = parse_text(block)
    assert rec.card_type == HMT and rec.pass_number == "H12345678" and rec.issue_count == "01"
    assert rec.id_number.startswith("810000") and rec.to_person().document == "hmt_permit"


def test_nation_table_is_complete():
    assert [f"{i:02d}" for i in range(1, 57)] == [k for k in NATIONS if k not in ("97", "98")]
    assert NATIONS["05"] == "维吾尔" and NATIONS["56"] == "基诺" and NATIONS["29"] == "柯尔克孜"


def test_to_person_and_private_repr():
    rec = parse_text(encode_text(SYNTHETIC_RESIDENTS[1]), SYNTHETIC_RESIDENTS[1].photo)
    person = rec.to_person()
    assert isinstance(person, Person)
    assert (person.source, person.name, person.gender, person.nation) == ("idcard", "李秀英", "女", "汉")
    assert person.id_number == rec.id_number and person.birth_date == dt.date(1985, 2, 14)
    assert person.address.startswith("山西省大同市")
    shown = repr(rec) + str(rec)
    assert rec.id_number not in shown and "李秀英" not in shown and "WLf" not in shown
    assert "140***********" in shown


def _tamper(index: int, start: int, text: str) -> bytes:
    block = bytearray(encode_text(SYNTHETIC_RESIDENTS[index]))
    raw = text.encode("utf-16-le")
    block[start:start + len(raw)] = raw
    return bytes(block)


@pytest.mark.parametrize("block, fragment", [
    (_tamper(1, 122 + 34, "1"), "check character"),              # last ID char changed
    (_tamper(1, 36, "19850231"), "calendar date"),              # 31 February
    (_tamper(1, 36, "19850215"), "does not match the ID number"),
    (_tamper(1, 32, "57"), "nation code"),
    (_tamper(1, 30, "5"), "gender code"),
    (_tamper(1, 30, "1"), "gender field does not match"),
    (_tamper(1, 204, "2010"), "validity end is not after"),
    (_tamper(1, 188, "2015-6-1"), "YYYYMMDD"),
    (_tamper(4, 122, "US1"), "3 letters + 12 digits"),
    (_tamper(5, 122, "820000"), "does not match"),
])
def test_invalid_content_is_a_typed_error(block, fragment):
    with pytest.raises(CardDataError) as exc:
        parse_text(block)
    assert fragment in str(exc.value)
    assert "校验未通过" in exc.value.message_zh


def test_unknown_card_type_and_bad_sizes():
    with pytest.raises(UnsupportedCardError):
        parse_text(_tamper(1, 248, "Z"))
    with pytest.raises(CardDataError):
        parse_text(bytes(255))
    with pytest.raises(UnsupportedCardError):
        parse_text(b"\x00\xd8" * 128)     # all surrogates: not even a type marker


def test_log_never_shows_the_full_number():
    with pytest.raises(CardDataError) as exc:
        parse_text(_tamper(1, 122 + 34, "1"))
    assert SYNTHETIC_RESIDENTS[1].id_number[:17] not in str(exc.value)


# ---------------------------------------------------------------- fuzz
@FUZZ
@given(st.binary(min_size=256, max_size=256))
def test_fuzz_random_blocks_raise_only_typed_errors(block):
    try:
        parse_text(block)
    except IdCardError:
        pass


@FUZZ
@given(st.sampled_from(SYNTHETIC_RESIDENTS), st.lists(st.tuples(st.integers(0, 127), st.characters()),
                                                     max_size=4))
def test_fuzz_mutated_blocks_raise_only_typed_errors(rec, edits):
    chars = list(encode_text(rec).decode("utf-16-le"))
    for pos, ch in edits:
        chars[pos] = ch
    block = "".join(chars).encode("utf-16-le", errors="surrogatepass")[:256].ljust(256, b" ")
    try:
        parsed = parse_text(block)
    except IdCardError:
        return
    assert parsed.card_type in (RESIDENT, FOREIGN, FOREIGN_2023, HMT)


@FUZZ
@given(st.sampled_from(SYNTHETIC_RESIDENTS[:4]), st.text(min_size=1, max_size=15).filter(lambda s: s.strip()))
def test_fuzz_names_round_trip(rec, name):
    name = name.strip().replace("\x00", "")
    if not name or any(ord(c) > 0xFFFF or 0xD800 <= ord(c) <= 0xDFFF for c in name) or name != name.strip():
        return
    changed = replace(rec, name=name)
    shown = "".join("\u3013" if 0xE000 <= ord(c) <= 0xF8FF else c for c in name)  # private use is shown as 〓
    try:
        assert parse_text(encode_text(changed)).name == shown
    except IdCardError:
        pass
