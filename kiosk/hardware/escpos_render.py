"""Decode the ESC/POS subset the kiosk emits and draw it as a PNG.

Used by ``kiosk receipt render``, the technician's "show last receipt" and
the tests, which assert on the decoded structure (text lines, QR data,
cuts) rather than on pixels. The tokenizer is also what the printer
simulator uses to find job boundaries and real-time status requests in the
byte stream, so binary payloads (raster images, QR data) are skipped by
their declared lengths and never mistaken for commands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from kiosk.core.errors import DeviceError
from kiosk.hardware import escpos_commands as cmd

log = logging.getLogger("kiosk.hardware.printer")

# Bounds for a job from outside (a file, a captured stream). A kiosk receipt is
# tens of KiB, under 200 lines and well under a metre of paper.
MAX_JOB_BYTES = 4 * 1024 * 1024
MAX_ELEMENTS = 10_000
MAX_RASTER_DOTS = 1024        # wider than any receipt paper (80 mm = 576 dots)
MAX_PAGE_DOTS = 40_000        # 5 m of paper at 8 dots/mm
MAX_QR_MODULE = 16            # GS ( k fn 67 allows 1..16


class JobRejected(DeviceError):
    """A print job this renderer refuses to draw (too large, malformed)."""


@dataclass(frozen=True)
class Token:
    kind: str            # text, lf, init, align, bold, mode, size, feed, cut, raster, gsk, cjk_on,
                         # cjk_off, status, clear, ignore
    raw: bytes
    arg: int = 0
    data: bytes = b""
    width_bytes: int = 0
    height: int = 0
    fn: int = 0


# Fixed-length commands: prefix -> (total length, kind)
_FIXED = {
    b"\x1b@": (2, "init"), b"\x1ba": (3, "align"), b"\x1bE": (3, "bold"), b"\x1b!": (3, "mode"),
    b"\x1bd": (3, "feed"), b"\x1bJ": (3, "feed_dots"), b"\x1b2": (2, "ignore"), b"\x1b3": (3, "ignore"),
    b"\x1bt": (3, "ignore"), b"\x1b-": (3, "ignore"), b"\x1bM": (3, "ignore"), b"\x1bG": (3, "ignore"),
    b"\x1bR": (3, "ignore"), b"\x1b{": (3, "ignore"), b"\x1bV": (3, "ignore"), b"\x1bp": (5, "ignore"),
    b"\x1d!": (3, "size"), b"\x1dB": (3, "ignore"), b"\x1dL": (4, "ignore"), b"\x1dW": (4, "ignore"),
    b"\x1c&": (2, "cjk_on"), b"\x1c.": (2, "cjk_off"), b"\x1c!": (3, "ignore"), b"\x1c-": (3, "ignore"),
    b"\x1cW": (3, "ignore"), b"\x10\x04": (3, "status"), b"\x10\x05": (3, "ignore"),
}


def next_token(buf: bytes | bytearray, pos: int) -> tuple[Token, int] | None:
    """The token starting at ``pos`` and the position after it, or None
    when ``buf`` ends inside a command (wait for more bytes)."""
    n = len(buf)
    if pos >= n:
        return None
    b = buf[pos]
    if b >= 0x20:
        end = pos
        while end < n and buf[end] >= 0x20:
            end += 1
        return Token("text", bytes(buf[pos:end])), end
    if b == 0x0A:
        return Token("lf", b"\n"), pos + 1
    if b in (0x1B, 0x1D, 0x1C, 0x10):
        if pos + 1 >= n:
            return None
        prefix = bytes(buf[pos:pos + 2])
        if prefix == b"\x1dV":
            if pos + 2 >= n:
                return None
            m = buf[pos + 2]
            length = 4 if m in (65, 66, 97, 98, 103, 104) else 3
            if pos + length > n:
                return None
            return Token("cut", bytes(buf[pos:pos + length]), arg=m), pos + length
        if prefix == b"\x1dv":  # GS v 0 m xL xH yL yH d1..dk
            if pos + 8 > n:
                return None
            wb = buf[pos + 4] | buf[pos + 5] << 8
            h = buf[pos + 6] | buf[pos + 7] << 8
            end = pos + 8 + wb * h
            if end > n:
                return None
            return Token("raster", bytes(buf[pos:end]), data=bytes(buf[pos + 8:end]), width_bytes=wb, height=h), end
        if prefix == b"\x1d(":  # GS ( X pL pH ...
            if pos + 5 > n:
                return None
            length = buf[pos + 3] | buf[pos + 4] << 8
            end = pos + 5 + length
            if end > n:
                return None
            body = bytes(buf[pos + 5:end])
            kind = "gsk" if buf[pos + 2] == ord("k") else "ignore"
            fn = body[1] if len(body) >= 2 else 0
            return Token(kind, bytes(buf[pos:end]), data=body[2:], fn=fn), end
        if prefix == b"\x10\x14":  # DLE DC4 fn ...
            if pos + 3 > n:
                return None
            fn = buf[pos + 2]
            length = {1: 5, 2: 5, 7: 4, 8: 10}.get(fn, 3)
            if pos + length > n:
                return None
            kind = "clear" if fn == 8 else "ignore"
            return Token(kind, bytes(buf[pos:pos + length]), fn=fn), pos + length
        if prefix in _FIXED:
            length, kind = _FIXED[prefix]
            if pos + length > n:
                return None
            arg = buf[pos + 2] if length >= 3 else 0
            return Token(kind, bytes(buf[pos:pos + length]), arg=arg), pos + length
        log.debug("unknown ESC/POS command %r, skipped as 2 bytes", prefix)
        return Token("ignore", prefix), pos + 2
    return Token("ignore", bytes([b])), pos + 1  # CR, HT, other control bytes


def tokenize(job: bytes) -> list[Token]:
    out, pos = [], 0
    while pos < len(job):
        step = next_token(job, pos)
        if step is None:
            log.warning("job ends inside a command at byte %d of %d", pos, len(job))
            break
        tok, pos = step
        out.append(tok)
    return out


# ---------------------------------------------------------------- decoding
@dataclass
class Segment:
    text: str
    width: int = 1
    height: int = 1
    bold: bool = False


@dataclass
class Element:
    """One printed item: a text line, an image, a QR code, a feed or a cut."""

    kind: str                      # "text", "image", "qr", "cut"
    align: str = "left"
    segments: list[Segment] = field(default_factory=list)
    image: Image.Image | None = None
    data: str = ""                 # QR payload
    module: int = 3

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    def describe(self) -> str:
        if self.kind == "text":
            return self.text
        if self.kind == "qr":
            return f"[QR] {self.data}"
        if self.kind == "cut":
            return "[CUT]"
        return f"[IMAGE {self.image.size[0]}x{self.image.size[1]}]" if self.image else "[IMAGE]"


def _raster_image(tok: Token) -> Image.Image:
    if not tok.width_bytes or not tok.height:
        raise JobRejected(f"raster image of {tok.width_bytes * 8}x{tok.height} dots: empty")
    if tok.width_bytes * 8 > MAX_RASTER_DOTS or tok.height > MAX_PAGE_DOTS:
        raise JobRejected(f"raster image of {tok.width_bytes * 8}x{tok.height} dots: larger than a receipt "
                          f"(at most {MAX_RASTER_DOTS}x{MAX_PAGE_DOTS})")
    img = Image.frombytes("1", (tok.width_bytes * 8, tok.height), tok.data)
    # the printer's 1 bit is a black dot; in Pillow's mode "1" it is white
    return img.point(lambda v: 0 if v else 255, mode="L")


def _qr_in_image(img: Image.Image) -> str | None:
    """A QR code sent as a raster image (image fallback) still decodes to its data."""
    try:
        import zxingcpp
    except ImportError:  # pragma: no cover
        return None
    for r in zxingcpp.read_barcodes(img.convert("L")):
        if r.format == zxingcpp.BarcodeFormat.QRCode and r.valid:
            return r.text
    return None


def decode(job: bytes) -> list[Element]:
    """The printed content of a job, in order."""
    out: list[Element] = []
    cjk = False
    align = "left"
    width = height = 1
    bold = False
    line: Element | None = None
    qr_store, qr_module = b"", 3

    def flush(force_blank: bool = False) -> None:
        nonlocal line
        if line is not None:
            out.append(line)
        elif force_blank:
            out.append(Element("text", align=align))
        line = None
        if len(out) > MAX_ELEMENTS:
            raise JobRejected(f"job has more than {MAX_ELEMENTS} lines, images and cuts")

    for tok in tokenize(job):
        k = tok.kind
        if k == "text":
            text = tok.raw.decode("gb18030", errors="replace") if cjk else tok.raw.decode("latin-1")
            if line is None:
                line = Element("text", align=align)
            line.segments.append(Segment(text, width, height, bold))
        elif k == "lf":
            flush(force_blank=True)
        elif k == "feed":
            if line is not None:
                flush()
                for _ in range(tok.arg - 1):
                    flush(force_blank=True)
            else:
                for _ in range(tok.arg):
                    flush(force_blank=True)
        elif k == "init":
            flush()
            cjk, align, width, height, bold = False, "left", 1, 1, False
        elif k == "cjk_on":
            cjk = True
        elif k == "cjk_off":
            cjk = False
        elif k == "align":
            align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}.get(tok.arg, "left")
        elif k == "bold":
            bold = bool(tok.arg & 1)
        elif k == "size":
            width, height = (tok.arg >> 4) + 1, (tok.arg & 0x0F) + 1
        elif k == "mode":
            width = 2 if tok.arg & 0x20 else 1
            height = 2 if tok.arg & 0x10 else 1
            bold = bool(tok.arg & 0x08)
        elif k == "raster":
            flush()
            img = _raster_image(tok)
            qr = _qr_in_image(img)
            if qr is not None:
                out.append(Element("qr", align="center", image=img, data=qr))
            else:
                out.append(Element("image", image=img))
        elif k == "gsk":
            if tok.fn == 67 and tok.data:
                qr_module = tok.data[0]
                if not 1 <= qr_module <= MAX_QR_MODULE:
                    raise JobRejected(f"QR module size {qr_module}; 1 to {MAX_QR_MODULE} allowed")
            elif tok.fn == 80:
                qr_store = tok.data[1:]  # after m=48
            elif tok.fn == 81:
                flush()
                out.append(Element("qr", align=align, data=qr_store.decode("utf-8", errors="replace"), module=qr_module))
        elif k == "cut":
            flush()
            out.append(Element("cut"))
    flush()
    if len(out) > MAX_ELEMENTS:
        raise JobRejected(f"job has more than {MAX_ELEMENTS} lines, images and cuts")
    return out


def decoded_lines(elements: list[Element]) -> list[str]:
    """One string per printed line: text, ``[QR] data``, ``[IMAGE WxH]``, ``[CUT]``."""
    return [e.describe() for e in elements]


# ---------------------------------------------------------------- drawing
def grid_text_image(text: str, bold: bool = False) -> Image.Image:
    """Text as a printer draws it: a 12-dot cell per ASCII character and a
    24-dot cell per Chinese one, 24 dots high, in a 30-dot line."""
    width = max(1, cmd.display_width(text) * cmd.CHAR_DOTS)
    img = Image.new("L", (width, cmd.LINE_DOTS), 255)
    draw = ImageDraw.Draw(img)
    f = cmd.font(24)
    top = (cmd.LINE_DOTS - 24) // 2 - f.getbbox("国")[1] + 1
    x = 0
    for ch in text:
        cw = cmd.char_width(ch) * cmd.CHAR_DOTS
        if cw == 0:
            continue
        gw = draw.textlength(ch, font=f)
        if gw > cw:  # squeeze a wide glyph into its cell
            glyph = Image.new("L", (int(gw) + 2, cmd.LINE_DOTS), 255)
            ImageDraw.Draw(glyph).text((0, top), ch, font=f, fill=0, stroke_width=1 if bold else 0, stroke_fill=0)
            glyph = glyph.resize((cw, cmd.LINE_DOTS))
            img.paste(glyph, (x, 0), mask=glyph.point(lambda v: 255 - v))
        else:
            draw.text((x + (cw - gw) / 2, top), ch, font=f, fill=0, stroke_width=1 if bold else 0, stroke_fill=0)
        x += cw
    return img


def _fit(text: str, cells: int) -> str:
    """The start of ``text`` that takes at most ``cells`` ASCII-width cells."""
    if len(text) <= cells // 2:
        return text
    used = 0
    for i, ch in enumerate(text):
        used += cmd.char_width(ch)
        if used > cells:
            return text[:i]
    return text


def _qr(data: str, module: int) -> Image.Image:
    from qrcode.exceptions import DataOverflowError

    try:
        return cmd.qr_image(data, module)
    except (ValueError, DataOverflowError) as exc:  # more data than QR version 40 holds
        raise JobRejected(f"QR code of {len(data)} characters cannot be drawn: {exc}") from None


def _element_image(e: Element, width_dots: int) -> Image.Image:
    if e.kind == "text":
        h = max((s.height for s in e.segments), default=1)
        parts = []
        room = width_dots
        for s in e.segments:
            # what lies beyond the paper's edge is never drawn: clip it before drawing, so a
            # 16x-wide line of 100 000 characters costs nothing
            text = _fit(s.text, max(0, room) // (cmd.CHAR_DOTS * s.width) + 2)
            room -= cmd.display_width(text) * cmd.CHAR_DOTS * s.width
            base = grid_text_image(text, s.bold)
            parts.append(base.resize((base.size[0] * s.width, base.size[1] * s.height)) if s.width > 1 or s.height > 1 else base)
        line_h = cmd.LINE_DOTS * h
        canvas = Image.new("L", (width_dots, line_h), 255)
        total = sum(p.size[0] for p in parts)
        x = {"left": 0, "center": (width_dots - total) // 2, "right": width_dots - total}[e.align]
        x = max(0, x)
        for p in parts:
            canvas.paste(p, (x, line_h - p.size[1]))
            x += p.size[0]
        return canvas
    if e.kind == "qr":
        img = e.image if e.image is not None else _qr(e.data, e.module)
        if img.size[0] == width_dots:
            return img
        canvas = Image.new("L", (width_dots, img.size[1]), 255)
        canvas.paste(img, ((width_dots - img.size[0]) // 2, 0))
        return canvas
    if e.kind == "image" and e.image is not None:
        return e.image
    # a cut: a dashed line across the paper
    canvas = Image.new("L", (width_dots, 16), 255)
    d = ImageDraw.Draw(canvas)
    for x in range(0, width_dots, 12):
        d.line((x, 8, x + 6, 8), fill=0, width=2)
    return canvas


def render_png(elements: list[Element], width_dots: int, path: str | Path | None = None) -> Image.Image:
    """Draw the decoded job at the printer's width (384 or 576 dots)."""
    parts, height = [], 16
    for e in elements:
        parts.append(_element_image(e, width_dots))
        height += parts[-1].size[1]
        if height > MAX_PAGE_DOTS:
            raise JobRejected(f"job is longer than {MAX_PAGE_DOTS} dots of paper")
    page = Image.new("L", (width_dots, max(height, 32)), 255)
    y = 8
    for p in parts:
        page.paste(p.crop((0, 0, min(p.size[0], width_dots), p.size[1])), (0, y))
        y += p.size[1]
    if path is not None:
        try:
            page.save(path, format="PNG")
        except OSError as exc:
            raise DeviceError(f"cannot write {path}: {exc.strerror or exc}") from None
    return page


def guess_width(elements: list[Element]) -> int:
    """Printer width in dots: the widest raster image, else 576 (80 mm)."""
    widths = [e.image.size[0] for e in elements if e.image is not None]
    return 384 if widths and max(widths) <= 384 else 576
