"""TLV records and field encodings of the social-security card (pure functions).

A record read with READ RECORD is one TLV: a 1-byte tag (the data item's
number, 01..0D for EF05/EF06), a BER length (1 byte below 0x80, or 0x81 LL /
0x82 LLLL) and the value. Values are AN (ASCII/GBK text padded with 00, FF
or spaces), CN (packed BCD, F-padded) or binary. Every malformed input
raises :class:`SsCardDataError` and nothing else.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from kiosk.hardware.sscard_errors import SsCardDataError

_PADDING = b"\x00\xff "


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes


def encode_length(n: int) -> bytes:
    if n < 0 or n > 0xFFFF:
        raise ValueError(f"TLV length out of range: {n}")
    if n < 0x80:
        return bytes([n])
    if n <= 0xFF:
        return bytes([0x81, n])
    return bytes([0x82, n >> 8, n & 0xFF])


def encode_tlv(tag: int, value: bytes) -> bytes:
    if not 0 < tag < 0xFF:
        raise ValueError(f"TLV tag out of range: {tag}")
    return bytes([tag]) + encode_length(len(value)) + bytes(value)


def parse_tlvs(data: bytes) -> list[Tlv]:
    """Every TLV in ``data``, in order; the data must be consumed exactly."""
    data = bytes(data)
    out: list[Tlv] = []
    i = 0
    while i < len(data):
        tag = data[i]
        if tag in (0x00, 0xFF):
            raise SsCardDataError(f"TLV: invalid tag 0x{tag:02X} at offset {i}")
        i += 1
        if i >= len(data):
            raise SsCardDataError(f"TLV: tag 0x{tag:02X} has no length byte")
        first = data[i]
        i += 1
        if first < 0x80:
            length = first
        elif first in (0x81, 0x82):
            width = first - 0x80
            if i + width > len(data):
                raise SsCardDataError(f"TLV: tag 0x{tag:02X} length field truncated")
            length = int.from_bytes(data[i:i + width], "big")
            i += width
        else:
            raise SsCardDataError(f"TLV: tag 0x{tag:02X} has unsupported length byte 0x{first:02X}")
        if i + length > len(data):
            raise SsCardDataError(
                f"TLV: tag 0x{tag:02X} declares {length} bytes, only {len(data) - i} present")
        out.append(Tlv(tag, data[i:i + length]))
        i += length
    return out


def parse_record(data: bytes, expected_tag: int) -> bytes:
    """The value of a READ RECORD response holding exactly one TLV with ``expected_tag``."""
    items = parse_tlvs(data)
    if len(items) != 1:
        raise SsCardDataError(f"record 0x{expected_tag:02X}: expected one TLV, found {len(items)}")
    if items[0].tag != expected_tag:
        raise SsCardDataError(
            f"record 0x{expected_tag:02X}: card returned tag 0x{items[0].tag:02X}")
    return items[0].value


def strip_padding(value: bytes) -> bytes:
    return bytes(value).rstrip(_PADDING).lstrip(b" ")


def decode_gbk(value: bytes, what: str = "text") -> str:
    """GBK text (names, addresses) without its 00/FF/space padding."""
    raw = strip_padding(value)
    try:
        text = raw.decode("gbk")
    except UnicodeDecodeError as exc:
        raise SsCardDataError(f"{what}: not valid GBK at byte {exc.start}") from None
    if any(ord(c) < 0x20 for c in text):
        raise SsCardDataError(f"{what}: control character in text")
    return text


def encode_gbk(text: str, width: int | None = None, pad: bytes = b"\x00") -> bytes:
    raw = text.encode("gbk")
    if width is not None:
        if len(raw) > width:
            raise ValueError(f"text needs {len(raw)} bytes, field holds {width}")
        raw = raw + pad * (width - len(raw))
    return raw


def decode_an(value: bytes, what: str = "field") -> str:
    """An AN (alphanumeric) item: printable ASCII, else upper-case hex of the raw bytes."""
    raw = strip_padding(value)
    if all(0x20 <= b < 0x7F for b in raw):
        return raw.decode("ascii")
    return bytes(value).hex().upper()


def decode_bcd(value: bytes, what: str = "field", *, allow_empty: bool = False) -> str:
    """Packed BCD digits of a cn item: left-aligned, trailing F nibbles are padding.

    An item that is all F (a card that leaves an optional item unset) is "" when ``allow_empty``;
    an F inside the digits is not padding and is refused.
    """
    digits = bytes(value).hex().upper().rstrip("F")
    if not digits and allow_empty:
        return ""
    if not digits.isdigit():
        raise SsCardDataError(f"{what}: not BCD ({len(value)} bytes)")
    return digits


def encode_bcd(digits: str, width: int | None = None) -> bytes:
    if not digits.isdigit():
        raise ValueError("BCD needs digits")
    if len(digits) % 2:
        digits += "F"
    raw = bytes.fromhex(digits)
    if width is not None:
        raw = raw + b"\xff" * (width - len(raw))
    return raw


def decode_date(value: bytes, what: str = "date") -> _dt.date:
    """A CN4 date: 4 BCD bytes YYYYMMDD."""
    if len(value) != 4:
        raise SsCardDataError(f"{what}: date needs 4 bytes, got {len(value)}")
    digits = decode_bcd(value, what)
    if len(digits) != 8:
        raise SsCardDataError(f"{what}: date needs 8 BCD digits")
    try:
        return _dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise SsCardDataError(f"{what}: impossible date") from None


def decode_optional_date(value: bytes, what: str = "date") -> _dt.date | None:
    """A cn4 date that a card may leave unset (FFFFFFFF): None then."""
    if len(value) == 4 and bytes(value) == b"\xff" * 4:
        return None
    return decode_date(value, what)


def encode_date(day: _dt.date | None) -> bytes:
    """cn4 YYYYMMDD; None (no date on the card) is all F."""
    return b"\xff" * 4 if day is None else encode_bcd(f"{day:%Y%m%d}")
