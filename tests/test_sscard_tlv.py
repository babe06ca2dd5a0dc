"""Pure tests of the social-security card TLV parser and record (no PC/SC)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core.errors import DeviceError
from kiosk.core.idnumber import make_id
from kiosk.core.person import Person
from kiosk.hardware.sscard_errors import SsCardDataError, SsCardExpiredError
from kiosk.hardware.sscard_record import encode_records, make_record, parse_records
from kiosk.hardware.sscard_sim import SYNTHETIC_HOLDERS, holder_from_person
from kiosk.hardware.sscard_tlv import (
    decode_bcd,
    decode_date,
    decode_gbk,
    decode_optional_date,
    encode_date,
    encode_tlv,
    parse_record,
    parse_tlvs,
)


def test_tlv_short_and_long_lengths():
    data = encode_tlv(0x09, b"x" * 5) + encode_tlv(0x0A, b"y" * 200) + encode_tlv(0x0B, b"z" * 300)
    items = parse_tlvs(data)
    assert [(t.tag, len(t.value)) for t in items] == [(0x09, 5), (0x0A, 200), (0x0B, 300)]
    assert data[7:9] == b"\x0a\x81"  # 200 uses the 0x81 form


@pytest.mark.parametrize("raw, reason", [
    (b"\x09", "no length"),
    (b"\x09\x05abc", "declares 5"),
    (b"\x00\x01a", "invalid tag"),
    (b"\x09\x83\x00\x00\x01a", "unsupported length"),
    (b"\x09\x82\x01", "truncated"),
])
def test_tlv_malformed_is_typed(raw, reason):
    with pytest.raises(SsCardDataError, match=reason):
        parse_tlvs(raw)


def test_record_tag_must_match():
    with pytest.raises(SsCardDataError, match="returned tag 0x08"):
        parse_record(encode_tlv(0x08, b"1"), 0x09)


def test_gbk_name_padding_and_errors():
    assert decode_gbk("阿依古丽·买买提".encode("gbk") + b"\x00" * 14) == "阿依古丽·买买提"
    assert decode_gbk("王芳".encode("gbk") + b"  ") == "王芳"
    with pytest.raises(SsCardDataError, match="not valid GBK"):
        decode_gbk(b"\xd5")  # half a character


def test_f_padding_of_numeric_items():
    # cn items are left-aligned and padded with F (人社信息函〔2012〕37号)
    assert decode_bcd(bytes.fromhex("1401FF")) == "1401"
    assert decode_bcd(bytes.fromhex("14011F")) == "14011"
    assert decode_bcd(b"\xff\xff", allow_empty=True) == ""
    with pytest.raises(SsCardDataError, match="not BCD"):
        decode_bcd(b"\xff\xff")                        # a required item may not be unset
    with pytest.raises(SsCardDataError, match="not BCD"):
        decode_bcd(bytes.fromhex("14F124"))              # an F inside the digits is not padding
    assert decode_optional_date(b"\xff" * 4) is None
    assert decode_optional_date(bytes.fromhex("20310601")) == dt.date(2031, 6, 1)
    assert encode_date(None) == b"\xff" * 4


def test_third_generation_card_without_expiry_and_padded_birthplace():
    h = SYNTHETIC_HOLDERS[6]
    ef05, ef06 = encode_records(h)
    assert ef05[5] == bytes([0x06, 4]) + b"\xff" * 4        # 卡有效期 left unset
    assert ef06[4] == bytes([0x0C, 3]) + bytes.fromhex("1401FF")
    rec = parse_records(ef05, ef06)
    assert rec == h and rec.expiry_date is None and rec.birthplace == "1401" and rec.generation == 3
    assert not rec.is_expired(dt.date(2099, 1, 1))
    rec.check_expiry(dt.date(2099, 1, 1))                   # not refused
    assert SYNTHETIC_HOLDERS[7].generation == 2 and parse_records(*encode_records(SYNTHETIC_HOLDERS[7])).version == "2.00"


def test_bcd_dates():
    assert decode_date(bytes.fromhex("20310601")) == dt.date(2031, 6, 1)
    assert decode_bcd(bytes.fromhex("141124")) == "141124"
    with pytest.raises(SsCardDataError, match="impossible date"):
        decode_date(bytes.fromhex("20310231"))
    with pytest.raises(SsCardDataError, match="not BCD"):
        decode_date(bytes.fromhex("2031A601"))


@pytest.mark.parametrize("holder", SYNTHETIC_HOLDERS, ids=lambda h: h.nation + h.ssn[-1])
def test_records_round_trip(holder):
    ef05, ef06 = encode_records(holder)
    assert parse_records(ef05, ef06) == holder


def test_wire_layout_of_items():
    h = SYNTHETIC_HOLDERS[2]  # 马建国, 回 (03)
    ef05, ef06 = encode_records(h)
    assert ef05[2] == bytes.fromhex("0304") + b"3.00"
    assert ef06[0] == bytes.fromhex("0812") + h.ssn.encode()
    assert ef06[1][:2] == bytes.fromhex("091E") and ef06[1][2:6] == "马建".encode("gbk")
    assert ef06[2] == bytes.fromhex("0A0131")        # 性别 1 = 男
    assert ef06[3] == bytes.fromhex("0B0103")        # 民族 03 = 回 (BCD)
    assert ef06[5] == bytes.fromhex("0D0419780730")  # 出生日期 BCD


def test_x_check_character_and_minority_holders():
    assert SYNTHETIC_HOLDERS[1].ssn.endswith("X")
    assert {h.nation for h in SYNTHETIC_HOLDERS} >= {"汉", "回", "蒙古", "维吾尔"}


def test_invalid_social_security_number_is_rejected():
    h = SYNTHETIC_HOLDERS[0]
    ef05, ef06 = encode_records(h)
    bad = h.ssn[:-1] + ("0" if h.ssn[-1] != "0" else "1")
    ef06[0] = encode_tlv(0x08, bad.encode())
    with pytest.raises(SsCardDataError, match="check character"):
        parse_records(ef05, ef06)


def test_expiry_check_boundaries():
    h = SYNTHETIC_HOLDERS[0]
    h.check_expiry(h.expiry_date)  # valid through its expiry day
    with pytest.raises(SsCardExpiredError) as info:
        h.check_expiry(h.expiry_date + dt.timedelta(days=1))
    err = info.value
    assert isinstance(err, DeviceError)
    assert err.expiry_date == h.expiry_date
    assert "有效期" in err.message_zh
    assert h.ssn not in str(err) and h.card_number not in str(err)


def test_person_same_identity_as_id_card():
    idcard_person = Person(id_number=make_id("141124", dt.date(1958, 3, 12), 13), name="张伟",
                           source="idcard", nation="汉")
    person = holder_from_person(idcard_person).to_person()
    assert person.id_number == idcard_person.id_number
    assert (person.name, person.nation, person.source, person.document) == ("张伟", "汉", "sscard", "sscard")
    assert person.birth_date == dt.date(1958, 3, 12) and person.gender == "男"
    assert person.card_number


def test_repr_masks_personal_data():
    h = SYNTHETIC_HOLDERS[4]
    text = repr(h) + str(h.to_person())
    assert h.ssn not in text and h.name not in text and h.name[1:] not in text


# -- fuzz: random and mutated records never raise anything but the typed error --

@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_fuzz_tlv_random(data):
    try:
        parse_tlvs(data)
    except SsCardDataError:
        pass


_VALID = encode_records(SYNTHETIC_HOLDERS[4])


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 12), st.data())
def test_fuzz_records_mutated(index, data):
    ef05, ef06 = list(_VALID[0]), list(_VALID[1])
    files = ef05 + ef06
    raw = bytearray(files[index])
    action = data.draw(st.sampled_from(["flip", "truncate", "extend", "replace"]))
    if action == "flip" and raw:
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    elif action == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    elif action == "extend":
        raw += data.draw(st.binary(min_size=1, max_size=8))
    else:
        raw = bytearray(data.draw(st.binary(max_size=40)))
    files[index] = bytes(raw)
    try:
        record = parse_records(files[:7], files[7:])
    except SsCardDataError:
        return
    record.to_person()  # whatever parsed is usable
    repr(record)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=14))
def test_fuzz_records_random(records):
    try:
        parse_records(records[:7], records[7:])
    except SsCardDataError:
        pass


def test_make_record_rejects_invalid_numbers():
    with pytest.raises(ValueError):
        make_record("141124195803120130", "张伟")
