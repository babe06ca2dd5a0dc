"""The ESC/POS command subset the kiosk emits, and a job builder.

Kept apart from the connections (as python-escpos does): this module only
makes bytes. It never relies on python-escpos' "magic" encoder, which
switches a string to GB18030 only when it holds a CJK ideograph, so a
punctuation-only line such as "——" would print as "?". Text is encoded to
GB18030 explicitly after ``FS &`` (Chinese character mode), or drawn with
Pillow and Noto Sans CJK and sent as a raster image (``GS v 0``) for
printers without a Chinese font ("raster" text mode).
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger("kiosk.hardware.printer")

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
DLE = b"\x10"
LF = b"\n"

INIT = ESC + b"@"
CHINESE_ON = FS + b"&"      # FS &: Chinese character mode (GB18030 double-byte text)
CHINESE_OFF = FS + b"."
#: DLE EOT n real-time status: 1 printer, 2 offline cause, 4 roll-paper sensor.
STATUS_PRINTER = DLE + b"\x04\x01"
STATUS_OFFLINE = DLE + b"\x04\x02"
STATUS_PAPER = DLE + b"\x04\x04"


def status_request(n: int) -> bytes:
    """``DLE EOT n``: real-time status (1 printer, 2 offline cause, 3 error cause, 4 paper)."""
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT {n}: n must be 1-4")
    return DLE + bytes([0x04, n])


#: DLE DC4 fn=8: clear the receive and print buffers (so a job that failed
#: mid-way is not printed later when the error clears: a retry must not
#: print twice).
CLEAR_BUFFER = DLE + b"\x14\x08\x01\x03\x14\x01\x06\x02\x08"

ALIGN = {"left": 0, "center": 1, "right": 2}
QR_ERROR_LEVEL = {"L": 48, "M": 49, "Q": 50, "H": 51}

FONT_PATH = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_INDEX_SC = 2  # face 2 of the collection is "Noto Sans CJK SC" (simplified Chinese glyph forms)
#: Font A is 12x24 dots: an ASCII character is one column, a GB18030
#: double-byte character two.
CHAR_DOTS = 12
LINE_DOTS = 30      # default line spacing (ESC 2) on 203-dpi printers is about 30 dots
RASTER_BAND = 256   # rows per GS v 0 command, small enough for a 4 KiB receive buffer


@dataclass(frozen=True)
class Paper:
    width_mm: int
    dots: int
    columns: int


PAPERS = {58: Paper(58, 384, 32), 80: Paper(80, 576, 48)}


def paper(width_mm: int) -> Paper:
    try:
        return PAPERS[int(width_mm)]
    except (KeyError, ValueError):
        raise ValueError(f"paper width must be 58 or 80 mm, got {width_mm!r}") from None


# ---------------------------------------------------------------- text layout
def char_width(ch: str) -> int:
    """Columns a character takes in Chinese mode: multibyte GB18030 prints full width."""
    if ord(ch) < 0x80:
        return 1 if ch.isprintable() else 0
    if unicodedata.combining(ch):
        return 0
    return 2


def display_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def wrap(text: str, columns: int) -> list[str]:
    """Break text into printed lines of at most ``columns`` columns.

    Chinese has no spaces, so break anywhere; keep ASCII words whole when
    they fit on a line, and keep Chinese closing punctuation off a line start.
    """
    out: list[str] = []
    for para in text.splitlines() or [""]:
        line, width = "", 0
        i = 0
        while i < len(para):
            ch = para[i]
            if ch.isascii() and ch.isalnum():  # take the whole ASCII word
                j = i
                while j < len(para) and para[j].isascii() and (para[j].isalnum() or para[j] in "-_./:@*"):
                    j += 1
                token = para[i:j]
            else:
                j, token = i + 1, ch
            tw = display_width(token)
            if width + tw > columns and line:
                if tw <= columns or width > columns // 2:
                    if token in "，。、；：！？）》」』”’":
                        # hanging punctuation: move the last char down with it
                        token, line = line[-1] + token, line[:-1]
                        tw = display_width(token)
                    out.append(line.rstrip())
                    line, width = "", 0
                    if token == " ":
                        i = j
                        continue
            if tw > columns:  # a word longer than a line: hard split
                for c in token:
                    cw = char_width(c)
                    if width + cw > columns:
                        out.append(line)
                        line, width = "", 0
                    line += c
                    width += cw
            else:
                line += token
                width += tw
            i = j
        out.append(line.rstrip())
    return out


def pad_columns(cells: list[str], widths: list[int], aligns: list[str]) -> str:
    parts = []
    for cell, w, a in zip(cells, widths, aligns):
        gap = max(0, w - display_width(cell))
        parts.append(" " * gap + cell if a == "right" else cell + " " * gap)
    return " ".join(parts).rstrip()


def needs_raster(text: str) -> bool:
    """A 4-byte GB18030 character (rare name characters, CJK extension B+)
    is missing from the fonts of common Chinese printers."""
    return any(len(c.encode("gb18030")) == 4 for c in text if ord(c) >= 0x80)


# ---------------------------------------------------------------- commands
def align(where: str) -> bytes:
    return ESC + b"a" + bytes([ALIGN[where]])


def bold(on: bool) -> bytes:
    return ESC + b"E" + bytes([1 if on else 0])


def char_size(width: int = 1, height: int = 1) -> bytes:
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError("character size multipliers are 1..8")
    return GS + b"!" + bytes([((width - 1) << 4) | (height - 1)])


def feed(lines: int = 1) -> bytes:
    return ESC + b"d" + bytes([max(0, min(255, lines))])


def cut(partial: bool = True, feed_dots: int = 0) -> bytes:
    """``GS V``: function A (m=0/1) or, with ``feed_dots``, function B (m=65/66)."""
    if feed_dots:
        return GS + b"V" + bytes([66 if partial else 65, max(0, min(255, feed_dots))])
    return GS + b"V" + bytes([1 if partial else 0])


def _gs_k(cn: int, fn: int, params: bytes) -> bytes:
    n = len(params) + 2
    return GS + b"(k" + bytes([n & 0xFF, n >> 8, cn, fn]) + params


def qr_native(data: str, module: int = 6, error_level: str = "M") -> bytes:
    """``GS ( k`` QR: model 2, module size, error level, store, print."""
    payload = data.encode("utf-8")
    if len(payload) > 7089:
        raise ValueError("QR data too long")
    if not 1 <= module <= 16:
        raise ValueError("QR module size is 1..16")
    return (
        _gs_k(49, 65, b"\x32\x00")                          # fn 165: model 2
        + _gs_k(49, 67, bytes([module]))                    # fn 167: module size
        + _gs_k(49, 69, bytes([QR_ERROR_LEVEL[error_level]]))  # fn 169: error level
        + _gs_k(49, 80, b"\x30" + payload)                  # fn 180: store data
        + _gs_k(49, 81, b"\x30")                            # fn 181: print
    )


def raster(image: Image.Image) -> bytes:
    """``GS v 0`` raster bit image(s); black pixels print. Sent in bands."""
    img = image.convert("L")
    w, h = img.size
    wb = (w + 7) // 8
    if w % 8:
        padded = Image.new("L", (wb * 8, h), 255)
        padded.paste(img, (0, 0))
        img = padded
    bits = img.point(lambda v: 255 if v < 128 else 0, mode="1")  # 1 bit = black dot
    out = bytearray()
    for top in range(0, h, RASTER_BAND):
        band = bits.crop((0, top, wb * 8, min(h, top + RASTER_BAND)))
        bh = band.size[1]
        out += GS + b"v0" + bytes([0, wb & 0xFF, wb >> 8, bh & 0xFF, bh >> 8]) + band.tobytes()
    return bytes(out)


# ---------------------------------------------------------------- raster text
@lru_cache(maxsize=8)
def font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT_PATH), px, index=FONT_INDEX_SC)
    except OSError:
        log.error("CJK font %s missing (install fonts-noto-cjk); raster text uses Pillow's default", FONT_PATH)
        return ImageFont.load_default(px)


def text_image(text: str, width_dots: int, align_: str = "left", size: int = 1, bold_: bool = False) -> Image.Image:
    """One printed line of text drawn as the printer would: 24-dot glyphs
    (times ``size``), a line ``LINE_DOTS * size`` high, on ``width_dots``."""
    px = 24 * size
    h = LINE_DOTS * size
    img = Image.new("L", (width_dots, h), 255)
    draw = ImageDraw.Draw(img)
    f = font(px)
    tw = draw.textlength(text, font=f)
    x = {"left": 0, "center": (width_dots - tw) / 2, "right": width_dots - tw}[align_]
    y = (h - px) // 2
    draw.text((max(0, x), y - f.getbbox("国")[1] + 1), text, font=f, fill=0,
              stroke_width=1 if bold_ else 0, stroke_fill=0)
    return img


def qr_image(data: str, module: int = 6, error_level: str = "M") -> Image.Image:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

    ec = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}[error_level]
    qr = qrcode.QRCode(error_correction=ec, box_size=module, border=4)
    qr.add_data(data.encode("utf-8"))
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("L")


# ---------------------------------------------------------------- builder
class JobBuilder:
    """Accumulates one print job (a receipt) and returns its bytes.

    ``text_mode`` "escpos" prints GB18030 text in Chinese mode; "raster"
    draws every text line as an image. ``qr_mode`` "native" uses ``GS ( k``,
    "image" sends the QR code as a raster image.
    """

    def __init__(self, paper_width: int = 80, text_mode: str = "escpos", qr_mode: str = "native") -> None:
        if text_mode not in ("escpos", "raster"):
            raise ValueError(f"text_mode must be 'escpos' or 'raster', got {text_mode!r}")
        if qr_mode not in ("native", "image"):
            raise ValueError(f"qr_mode must be 'native' or 'image', got {qr_mode!r}")
        self.paper = paper(paper_width)
        self.text_mode = text_mode
        self.qr_mode = qr_mode
        self._buf = bytearray(INIT)
        if text_mode == "escpos":
            self._buf += CHINESE_ON
        self._align = "left"
        self._size = 1
        self._bold = False

    @property
    def columns(self) -> int:
        return self.paper.columns

    def _set(self, align_: str, size: int, bold_: bool) -> None:
        if align_ != self._align:
            self._buf += align(align_)
            self._align = align_
        if size != self._size:
            self._buf += char_size(size, size)
            self._size = size
        if bold_ != self._bold:
            self._buf += bold(bold_)
            self._bold = bold_

    def line(self, text: str = "", *, align: str = "left", size: int = 1, bold: bool = False) -> "JobBuilder":
        """One printed line (the caller wraps; see ``paragraph``)."""
        if align not in ALIGN:
            raise ValueError(f"bad alignment {align!r}")
        if self.text_mode == "raster" or (text and needs_raster(text)):
            self._set("left", 1, False)
            self._buf += raster(text_image(text, self.paper.dots, align, size, bold))
            return self
        self._set(align, size, bold)
        self._buf += text.encode("gb18030") + LF
        return self

    def paragraph(self, text: str, *, align: str = "left", size: int = 1, bold: bool = False) -> "JobBuilder":
        for part in wrap(text, self.columns // size):
            self.line(part, align=align, size=size, bold=bold)
        return self

    def heading(self, text: str) -> "JobBuilder":
        return self.paragraph(text, align="center", size=2, bold=True)

    def rule(self, char: str = "-") -> "JobBuilder":
        return self.line(char * (self.columns // display_width(char)))

    def qr(self, data: str, module: int | None = None, error_level: str = "M") -> "JobBuilder":
        module = module or (6 if self.paper.dots >= 576 else 5)
        self._set("center", 1, False)
        if self.qr_mode == "native":
            self._buf += qr_native(data, module, error_level)
        else:
            img = qr_image(data, module, error_level)
            canvas = Image.new("L", (self.paper.dots, img.size[1]), 255)
            canvas.paste(img, ((self.paper.dots - img.size[0]) // 2, 0))
            self._buf += raster(canvas)
        self._buf += LF
        return self

    def image(self, img: Image.Image) -> "JobBuilder":
        self._set("left", 1, False)
        self._buf += raster(img)
        return self

    def feed(self, lines: int = 1) -> "JobBuilder":
        self._buf += feed(lines)
        return self

    def cut(self, partial: bool = True) -> "JobBuilder":
        self._buf += feed(4) + cut(partial)
        return self

    def build(self) -> bytes:
        return bytes(self._buf)
