"""Wire protocol of the resident ID-card reader (GA 467-style SAM serial protocol).

Pure functions and a streaming decoder; no I/O. Frame layout (both directions)::

    AA AA AA 96 69 | LEN_HI LEN_LO | body ... | CHK

LEN counts the body plus the checksum byte. A command body is ``CMD PARA
[data]``, a response body is ``SW1 SW2 SW3 [data]``. CHK is the XOR of every
byte from LEN_HI to the last body byte (everything but preamble and CHK).
Byte-level details and sources: docs/idcard.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kiosk.core.errors import DeviceError

log = logging.getLogger("kiosk.idcard")

PREAMBLE = bytes((0xAA, 0xAA, 0xAA, 0x96, 0x69))
HEADER_LEN = len(PREAMBLE) + 2
#: Longest legal LEN: text + photo + fingerprint response is 0x090A (2314);
#: anything far beyond that is noise, so the decoder resyncs instead of waiting.
MAX_LENGTH = 4096

# Commands (CMD, PARA)
CMD_FIND_CARD = (0x20, 0x01)
CMD_SELECT_CARD = (0x20, 0x02)
CMD_READ_TEXT_PHOTO = (0x30, 0x01)
CMD_READ_TEXT_PHOTO_FP = (0x30, 0x10)
CMD_READ_SAM_ID = (0x12, 0xFF)
CMD_READER_STATUS = (0x11, 0xFF)

# SW3 values (SW1 = SW2 = 00 on every response this driver meets)
SW_OK = 0x90
SW_FIND_OK = 0x9F
SW_NO_CONTENT = 0x91
SW_RX_CHECKSUM = 0x10
SW_RX_LENGTH = 0x11
SW_BAD_COMMAND = 0x21
SW_UNAUTHORISED = 0x23
SW_UNKNOWN_ERROR = 0x24
SW_CARD_AUTH_FAILED = 0x31
SW_SAM_AUTH_FAILED = 0x32
SW_INFO_CHECK_FAILED = 0x33
SW_UNKNOWN_CARD_TYPE = 0x40
SW_READ_FAILED = 0x41
SW_RANDOM_FAILED = 0x47
SW_SAM_SELFTEST_FAILED = 0x60
SW_SAM_UNAUTHORISED = 0x66
SW_FIND_FAILED = 0x80
SW_SELECT_FAILED = 0x81

SW_TEXT = {
    SW_OK: "success",
    SW_FIND_OK: "card found",
    SW_NO_CONTENT: "no content",
    SW_RX_CHECKSUM: "reader received a frame with a bad checksum",
    SW_RX_LENGTH: "reader received a frame with a bad length",
    SW_BAD_COMMAND: "reader rejected the command",
    SW_UNAUTHORISED: "operation not authorised",
    SW_UNKNOWN_ERROR: "unrecognised error",
    SW_CARD_AUTH_FAILED: "card failed to authenticate the SAM",
    SW_SAM_AUTH_FAILED: "SAM failed to authenticate the card",
    SW_INFO_CHECK_FAILED: "card data verification failed",
    SW_UNKNOWN_CARD_TYPE: "unknown card type",
    SW_READ_FAILED: "read card failed",
    SW_RANDOM_FAILED: "get random number failed",
    SW_SAM_SELFTEST_FAILED: "SAM self-test failed",
    SW_SAM_UNAUTHORISED: "SAM not authorised",
    SW_FIND_FAILED: "no card found",
    SW_SELECT_FAILED: "select card failed",
}

TEXT_LEN = 256
PHOTO_LEN = 1024

MSG_REPLACE = "证件读取失败，请重新放置"


# ---------------------------------------------------------------- errors
class IdCardError(DeviceError):
    """Base of every ID-card reader failure."""

    message_zh = MSG_REPLACE + "。"


class FrameError(IdCardError):
    """A frame on the wire is malformed."""


class FramePreambleError(FrameError):
    pass


class FrameLengthError(FrameError):
    pass


class FrameChecksumError(FrameError):
    pass


class FrameIncompleteError(FrameError):
    """A frame stopped before its announced length (card pulled, line dropped)."""


class ResponseError(IdCardError):
    """A well-formed frame whose content is not what the command expects."""


class StatusError(IdCardError):
    """The reader answered with a failure status (SW1 SW2 SW3)."""

    def __init__(self, sw: tuple[int, int, int], log_message: str | None = None,
                 message_zh: str | None = None) -> None:
        self.sw = sw
        text = SW_TEXT.get(sw[2], "unknown status")
        super().__init__(log_message or f"reader status {sw[0]:02X} {sw[1]:02X} {sw[2]:02X} ({text})",
                         message_zh)


class NoCardError(StatusError):
    message_zh = "请将身份证放在读卡区。"


class SelectCardError(StatusError):
    pass


class CardReadError(StatusError):
    pass


class SamError(StatusError):
    message_zh = "身份证阅读器故障，请联系工作人员。"


class DeviceTimeoutError(IdCardError):
    message_zh = "身份证阅读器无响应，请稍后重试或联系工作人员。"


class DeviceOfflineError(IdCardError):
    message_zh = "身份证阅读器未连接，请联系工作人员。"


# ---------------------------------------------------------------- frames
def checksum(data: bytes | bytearray) -> int:
    c = 0
    for b in data:
        c ^= b
    return c


@dataclass(frozen=True)
class Frame:
    """One decoded frame: ``body`` is everything between LEN and CHK."""

    body: bytes

    @property
    def sw(self) -> tuple[int, int, int]:
        if len(self.body) < 3:
            raise ResponseError(f"response body too short for a status word: {len(self.body)} bytes")
        return self.body[0], self.body[1], self.body[2]

    @property
    def data(self) -> bytes:
        """Response data after SW1 SW2 SW3."""
        return self.body[3:]

    @property
    def command(self) -> tuple[int, int]:
        if len(self.body) < 2:
            raise ResponseError(f"command body too short: {len(self.body)} bytes")
        return self.body[0], self.body[1]

    def encode(self) -> bytes:
        return encode_frame(self.body)


def encode_frame(body: bytes) -> bytes:
    length = len(body) + 1
    if length > 0xFFFF:
        raise FrameLengthError(f"frame body too long: {len(body)} bytes")
    head = length.to_bytes(2, "big")
    return PREAMBLE + head + body + bytes((checksum(head + body),))


def command_frame(cmd: tuple[int, int], data: bytes = b"") -> bytes:
    return encode_frame(bytes(cmd) + data)


def response_frame(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return encode_frame(bytes((sw1, sw2, sw3)) + data)


def decode_frame(raw: bytes) -> Frame:
    """Decode exactly one complete frame; typed errors on anything else."""
    raw = bytes(raw)
    if not raw.startswith(PREAMBLE):
        raise FramePreambleError(f"frame does not start with AA AA AA 96 69 (got {raw[:5].hex(' ')})")
    if len(raw) < HEADER_LEN + 1:
        raise FrameIncompleteError(f"frame too short: {len(raw)} bytes")
    length = int.from_bytes(raw[5:7], "big")
    if length < 1 or length > MAX_LENGTH:
        raise FrameLengthError(f"frame length field {length} out of range 1..{MAX_LENGTH}")
    total = HEADER_LEN + length
    if len(raw) < total:
        raise FrameIncompleteError(f"frame announces {total} bytes, only {len(raw)} present")
    if len(raw) > total:
        raise FrameLengthError(f"frame announces {total} bytes, {len(raw)} present")
    expect = checksum(raw[5:total - 1])
    if raw[total - 1] != expect:
        raise FrameChecksumError(f"frame checksum {raw[total - 1]:02X}, computed {expect:02X}")
    return Frame(raw[HEADER_LEN:total - 1])


class FrameDecoder:
    """Streaming decoder: feed arbitrary chunks, get frames and problems.

    ``feed`` never raises; it returns decoded :class:`Frame` objects and
    :class:`FrameError` instances (for garbage skipped, bad checksums, bad
    lengths, frames cut short) in stream order. Resync rule: after any bad
    frame, scanning restarts one byte after its preamble, so a frame that
    began inside the bad one is still found. A pending frame is abandoned as
    truncated as soon as a later preamble starts a complete, valid frame
    inside its announced span (a half frame followed by a whole one).
    """

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def reset(self) -> None:
        self._buf.clear()

    def _valid_frame_at(self, pos: int, limit: int) -> int | None:
        """End index of a complete valid frame starting at pos, ending <= limit."""
        buf = self._buf
        if limit - pos < HEADER_LEN + 1:
            return None
        length = int.from_bytes(buf[pos + 5:pos + 7], "big")
        if length < 1 or length > self.max_length:
            return None
        end = pos + HEADER_LEN + length
        if end > limit:
            return None
        if buf[end - 1] != checksum(buf[pos + 5:end - 1]):
            return None
        return end

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        self._buf += data
        out: list[Frame | FrameError] = []
        buf = self._buf
        while True:
            start = buf.find(PREAMBLE)
            if start < 0:
                # Keep a possible partial preamble at the tail; the rest is noise.
                keep = 0
                for k in range(len(PREAMBLE) - 1, 0, -1):
                    if buf.endswith(PREAMBLE[:k]):
                        keep = k
                        break
                if len(buf) > keep:
                    out.append(FramePreambleError(f"skipped {len(buf) - keep} bytes of noise"))
                    del buf[:len(buf) - keep]
                break
            if start > 0:
                out.append(FramePreambleError(f"skipped {start} bytes of noise before a preamble"))
                del buf[:start]
            if len(buf) < HEADER_LEN:
                break
            length = int.from_bytes(buf[5:7], "big")
            if length < 1 or length > self.max_length:
                out.append(FrameLengthError(f"frame length field {length} out of range 1..{self.max_length}"))
                del buf[:1]
                continue
            end = HEADER_LEN + length
            limit = min(end, len(buf))
            # A whole valid frame starting inside this one's span means this one was cut short.
            inner = buf.find(PREAMBLE, 1, limit)
            found_inner = False
            while 0 < inner:
                if self._valid_frame_at(inner, limit) is not None:
                    out.append(FrameIncompleteError(
                        f"frame cut short after {inner} of {end} bytes; a new frame followed"))
                    del buf[:inner]
                    found_inner = True
                    break
                inner = buf.find(PREAMBLE, inner + 1, limit)
            if found_inner:
                continue
            if len(buf) < end:
                break
            chk = checksum(buf[5:end - 1])
            if buf[end - 1] != chk:
                out.append(FrameChecksumError(f"frame checksum {buf[end - 1]:02X}, computed {chk:02X}"))
                del buf[:1]
                continue
            out.append(Frame(bytes(buf[HEADER_LEN:end - 1])))
            del buf[:end]
        for item in out:
            if isinstance(item, FrameError):
                log.debug("idcard stream: %s", item)
        return out


# ---------------------------------------------------------------- responses
def check_status(frame: Frame, ok: int = SW_OK) -> bytes:
    """Return the response data if SW is 00 00 ``ok``; else a typed StatusError."""
    sw = frame.sw
    if sw == (0, 0, ok):
        return frame.data
    code = sw[2] if sw[:2] == (0, 0) else -1
    if code == SW_FIND_FAILED:
        raise NoCardError(sw)
    if code == SW_SELECT_FAILED:
        raise SelectCardError(sw)
    if code in (SW_READ_FAILED, SW_INFO_CHECK_FAILED, SW_CARD_AUTH_FAILED, SW_SAM_AUTH_FAILED,
                SW_UNKNOWN_CARD_TYPE, SW_RANDOM_FAILED):
        raise CardReadError(sw)
    if code in (SW_SAM_SELFTEST_FAILED, SW_SAM_UNAUTHORISED, SW_UNAUTHORISED):
        raise SamError(sw)
    raise StatusError(sw)


@dataclass(frozen=True)
class ReadResult:
    # The blocks hold the holder's name, ID number, photo and fingerprint: no repr.
    text: bytes = field(repr=False)
    photo: bytes = field(repr=False)
    fingerprint: bytes = field(default=b"", repr=False)


def parse_read_data(data: bytes, with_fingerprint: bool = False) -> ReadResult:
    """Split the data of a 30 01 / 30 10 response: lengths (2 bytes BE each), then blocks."""
    n = 6 if with_fingerprint else 4
    if len(data) < n:
        raise ResponseError(f"read response data too short: {len(data)} bytes")
    tlen = int.from_bytes(data[0:2], "big")
    plen = int.from_bytes(data[2:4], "big")
    flen = int.from_bytes(data[4:6], "big") if with_fingerprint else 0
    if tlen != TEXT_LEN:
        raise ResponseError(f"text block length {tlen}, expected {TEXT_LEN}")
    if plen not in (0, PHOTO_LEN):
        raise ResponseError(f"photo length {plen}, expected {PHOTO_LEN}")
    if len(data) != n + tlen + plen + flen:
        raise ResponseError(f"read response carries {len(data)} data bytes, lengths announce {n + tlen + plen + flen}")
    text = data[n:n + tlen]
    photo = data[n + tlen:n + tlen + plen]
    fp = data[n + tlen + plen:]
    return ReadResult(bytes(text), bytes(photo), bytes(fp))


def encode_read_data(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    head = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
    if fingerprint is not None:
        head += len(fingerprint).to_bytes(2, "big")
    return head + text + photo + (fingerprint or b"")


def format_sam_id(data: bytes) -> str:
    """Printable SAM id ``05.01-20101010-0000000001-1234567890`` from the 16 data bytes.

    Layout as vendor SDKs print it: two 16-bit LE numbers, then three 32-bit LE.
    """
    if len(data) != 16:
        raise ResponseError(f"SAM id data must be 16 bytes, got {len(data)}")
    a = int.from_bytes(data[0:2], "little")
    b = int.from_bytes(data[2:4], "little")
    c, d, e = (int.from_bytes(data[i:i + 4], "little") for i in (4, 8, 12))
    return f"{a:02d}.{b:02d}-{c:08d}-{d:010d}-{e:010d}"


def parse_sam_id(frame: Frame) -> str:
    return format_sam_id(check_status(frame))
