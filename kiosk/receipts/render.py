"""Lay a ``Receipt`` out on paper from its template (config/receipts/KIND.toml).

Templates are data: a title and a list of blocks (heading, title, line,
field, fields, rule, table, list, qr, blank, cut) whose texts use
``{placeholders}`` from a fixed set of *safe* values. The person's name and
ID number are available only masked (``masked_name``, ``masked_id``), and
every text that goes to paper passes through ``scrub`` plus a check for the
raw ID, so a template or a caller mistake cannot print an unmasked ID.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kiosk import CONFIG_DIR
from kiosk.core.errors import ConfigError
from kiosk.core.idnumber import mask_id, mask_name, scrub
from kiosk.core.workdays import CompletionDate
from kiosk.hardware import escpos_commands as cmd
from kiosk.receipts.model import Receipt

log = logging.getLogger("kiosk.receipts")

TEMPLATES_DIR = CONFIG_DIR / "receipts"
BLOCK_TYPES = ("heading", "title", "line", "field", "fields", "rule", "table", "list", "qr", "blank", "cut")
PLACEHOLDERS = (
    "site_name", "device_id", "service", "service_no", "service_name", "masked_name", "masked_id",
    "time", "acceptance_no", "expected_completion", "status", "tracking_url", "office_phone",
    "office_name", "office_address", "title",
)
_PLACEHOLDER = re.compile(r"{([^{}]*)}")
# ID-number-shaped runs: 18 characters (kiosk.core.idnumber.scrub's pattern on
# main matches 17, so the renderer does not rely on it alone) and 15 digits
# (first-generation numbers)
_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[\dXx])(?![0-9A-Za-z])")
_OLD_ID = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{8}(\d{4})(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Template:
    kind: str
    title: str
    blocks: tuple[dict, ...]


def load_template(kind: str, directory: Path | None = None) -> Template:
    """Read and check a template; a bad one is a ConfigError naming the block."""
    path = (directory or TEMPLATES_DIR) / f"{kind}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"receipt template {path}: {exc}") from exc
    blocks = data.get("block", [])
    if not isinstance(blocks, list) or not blocks:
        raise ConfigError(f"receipt template {path}: no [[block]] entries")
    for i, b in enumerate(blocks, 1):
        t = b.get("type")
        if t not in BLOCK_TYPES:
            raise ConfigError(f"receipt template {path} block {i}: type {t!r} is not one of {BLOCK_TYPES}")
        for key in ("text", "value", "data", "caption", "missing"):
            for name in _PLACEHOLDER.findall(str(b.get(key, ""))):
                if name not in PLACEHOLDERS:
                    raise ConfigError(
                        f"receipt template {path} block {i}: placeholder {{{name}}} is not one of {PLACEHOLDERS}"
                    )
        if t == "list" and b.get("source") not in ("materials", "notes"):
            raise ConfigError(f"receipt template {path} block {i}: list source must be materials or notes")
        if b.get("align", "left") not in cmd.ALIGN:
            raise ConfigError(f"receipt template {path} block {i}: bad align {b.get('align')!r}")
    return Template(kind, str(data.get("title", "")), tuple(blocks))


@lru_cache(maxsize=16)
def _cached_template(kind: str, directory: str) -> Template:
    return load_template(kind, Path(directory))


def _date_zh(d: _dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _completion_text(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, CompletionDate):
        return value.text_zh()
    if isinstance(value, _dt.date):
        return _date_zh(value)
    return str(value)


class _Safe:
    """Everything that goes to paper passes here."""

    def __init__(self, receipt: Receipt) -> None:
        raw = "".join(ch for ch in (receipt.id_number or "") if ch.isalnum())
        self._raw_id = raw if len(raw) >= 8 and "*" not in (receipt.id_number or "") else ""
        self._masked_id = mask_id(receipt.id_number)

    def __call__(self, text: str) -> str:
        text = scrub(str(text))
        text = _ID18.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)
        text = _OLD_ID.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)
        if self._raw_id and self._raw_id.upper() in text.upper():
            log.error("receipt text held the unmasked ID number; masked it")
            text = re.sub(re.escape(self._raw_id), self._masked_id, text, flags=re.IGNORECASE)
        return text


def receipt_context(receipt: Receipt, title: str = "") -> dict[str, str]:
    """The placeholder values: masked, formatted, safe."""
    service = " ".join(p for p in (receipt.service_no.strip(), receipt.service_name.strip()) if p)
    return {
        "site_name": receipt.site_name,
        "device_id": receipt.device_id,
        "service": service,
        "service_no": receipt.service_no,
        "service_name": receipt.service_name,
        "masked_name": mask_name(receipt.name),
        "masked_id": mask_id(receipt.id_number),
        "time": f"{_date_zh(receipt.time)} {receipt.time:%H:%M}",
        "acceptance_no": receipt.acceptance_no,
        "expected_completion": _completion_text(receipt.expected_completion),
        "status": receipt.status,
        "tracking_url": receipt.tracking_url,
        "office_phone": receipt.office_phone,
        "office_name": receipt.office_name,
        "office_address": receipt.office_address,
        "title": receipt.title or title,
    }


def _fill(text: str, ctx: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: ctx.get(m.group(1), ""), text)


def field_lines(label: str, value: str, columns: int) -> list[str]:
    """``label：value`` with the value's continuation lines indented under it."""
    prefix = f"{label}："
    pw = cmd.display_width(prefix)
    if pw > columns // 2:
        return cmd.wrap(prefix + value, columns)
    parts = cmd.wrap(value, columns - pw) or [""]
    return [prefix + parts[0]] + [" " * pw + p for p in parts[1:]]


def _is_number(cell: str) -> bool:
    return bool(re.fullmatch(r"[-+]?[\d,]+(\.\d+)?%?", cell.strip()))


def table_lines(columns: list[str], rows: list[list[str]], width: int) -> list[str]:
    """A plain-text table within ``width`` columns; long cells wrap."""
    ncol = max([len(columns)] + [len(r) for r in rows]) if (columns or rows) else 0
    if ncol == 0:
        return []
    all_rows = ([columns] if columns else []) + rows
    all_rows = [list(r) + [""] * (ncol - len(r)) for r in all_rows]
    widths = [max(cmd.display_width(str(r[i])) for r in all_rows) for i in range(ncol)]
    budget = width - (ncol - 1)
    while sum(widths) > budget and max(widths) > 4:
        widths[widths.index(max(widths))] -= 1
    body = all_rows[1:] if columns else all_rows
    aligns = []
    for i in range(ncol):
        cells = [str(r[i]).strip() for r in body if str(r[i]).strip()]
        aligns.append("right" if cells and all(_is_number(c) for c in cells) else "left")
    out: list[str] = []
    for ri, r in enumerate(all_rows):
        wrapped = [cmd.wrap(str(c), w) for c, w in zip(r, widths)]
        height = max(len(c) for c in wrapped)
        for k in range(height):
            out.append(cmd.pad_columns([c[k] if k < len(c) else "" for c in wrapped], widths, aligns))
        if ri == 0 and columns:
            out.append("-" * min(width, sum(widths) + ncol - 1))
    return out


def render_receipt(
    receipt: Receipt,
    paper_width: int = 80,
    text_mode: str = "escpos",
    qr_mode: str = "native",
    templates_dir: str | Path | None = None,
) -> bytes:
    """The print job (ESC/POS bytes) of ``receipt`` for a printer of this
    paper width and text mode."""
    tpl = _cached_template(receipt.kind, str(templates_dir or TEMPLATES_DIR))
    ctx = receipt_context(receipt, tpl.title)
    safe = _Safe(receipt)
    ctx = {k: safe(v) for k, v in ctx.items()}
    job = cmd.JobBuilder(paper_width, text_mode, qr_mode)
    cols = job.columns
    cut_done = False
    for b in tpl.blocks:
        when = b.get("when")
        if when:
            present = ctx.get(when) if when in ctx else getattr(receipt, when, None)
            if not present:
                continue
        t = b["type"]
        align = b.get("align", "left")
        if t == "heading":
            job.heading(_fill(b.get("text", ""), ctx))
        elif t == "title":
            job.paragraph(_fill(b.get("text", ""), ctx), align="center", bold=True)
        elif t == "line":
            job.paragraph(safe(_fill(b.get("text", ""), ctx)), align=align, bold=bool(b.get("bold")))
        elif t == "field":
            value = _fill(b.get("value", ""), ctx).strip()
            if not value:
                value = _fill(b.get("missing", ""), ctx)
                if not value:
                    continue
            for ln in field_lines(b.get("label", ""), value, cols):
                job.line(ln)
        elif t == "fields":
            for label, value in receipt.fields:
                for ln in field_lines(safe(label), safe(value), cols):
                    job.line(ln)
        elif t == "rule":
            job.rule(b.get("char", "-"))
        elif t == "blank":
            job.line("")
        elif t == "table":
            lines = table_lines([safe(c) for c in receipt.columns],
                                [[safe(str(c)) for c in r] for r in receipt.rows], cols)
            if not lines and b.get("empty"):
                lines = [b["empty"]]
            for ln in lines:
                job.line(ln)
        elif t == "list":
            items = getattr(receipt, b["source"])
            for i, item in enumerate(items, 1):
                bullet = f"{i}. " if b.get("numbered") else "· "
                for k, ln in enumerate(cmd.wrap(safe(item), cols - cmd.display_width(bullet))):
                    job.line((bullet if k == 0 else " " * cmd.display_width(bullet)) + ln)
        elif t == "qr":
            data = _fill(b.get("data", ""), ctx)
            if data:
                job.qr(data)
                if b.get("caption"):
                    job.paragraph(_fill(b["caption"], ctx), align="center")
        elif t == "cut":
            job.cut(partial=b.get("partial", True))
            cut_done = True
    if not cut_done:
        job.cut()
    return job.build()


def preview_image(job: bytes, paper_width: int = 80):
    """A PIL image of what ``job`` prints (for showing the receipt on screen)."""
    from kiosk.hardware.escpos_render import decode, render_png

    return render_png(decode(job), cmd.paper(paper_width).dots)
