"""What a printer's real-time status bytes mean, per printer family (``DLE EOT n``).

ESC/POS printers answer ``DLE EOT n`` with one byte even when offline; which
bit means what differs between families. A profile lists the requests to send
and, for every condition the kiosk acts on, the bits that signal it:

* ``escpos`` (default): the Epson-compatible core every ESC/POS printer has
  (n=1 offline; n=2 cover open, paper-end stop; n=4 near end 0x0C, end 0x60).
* ``epson_tm``: Epson TM-T88 family, adds n=3 (bit 3 auto-cutter error, bit 5
  unrecoverable error, bit 6 auto-recoverable error such as head temperature).
* ``snbc_bk_t080``: SNBC (新北洋) BK-T080 / BT-T080 kiosk printers, per the
  BT-T080 programming manual: n=2 bit 2 cover open, bit 5 paper end, bit 6
  error; n=3 bit 2 paper jam at the anti-jam module, bit 3 cutter error,
  bit 5 unrecoverable, bit 6 head temperature/voltage out of range or head
  lifted; n=4 as Epson. (BK-T080 differences from BT-T080 are unconfirmed:
  docs/printer.md.)

Every condition has a plain Chinese text for the technician (device list,
health) and the resident's screen gets the typed error of ``kiosk.hardware.printer``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: condition -> (technician text, what the resident reads is the error's message_zh)
CONDITIONS_ZH = {
    "offline": "打印机离线",
    "cover_open": "纸仓盖打开，请合上",
    "paper_out": "打印纸已用完，请更换纸卷",
    "paper_near_end": "打印纸即将用完，请及时更换",
    "cutter_error": "切刀故障，请检查切刀（可能被纸屑卡住）",
    "paper_jam": "卡纸，请打开纸仓清除卡纸",
    "head_error": "打印头过热、电压异常或打印头抬起，请稍候或压下打印头",
    "unrecoverable": "打印机发生不可恢复的故障，请断电重启或报修",
}


@dataclass(frozen=True)
class StatusProfile:
    name: str
    label_zh: str
    requests: tuple[int, ...]
    #: condition -> list of (n, mask): the condition holds when, for any entry, all bits of mask are set
    bits: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    #: per-family wording where it says more than the generic text
    texts_zh: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def decode(self, answers: dict[int, int]) -> dict[str, bool]:
        """Every condition of CONDITIONS_ZH: True when this family's bits say so."""
        out = {}
        for cond in CONDITIONS_ZH:
            out[cond] = any(n in answers and answers[n] & mask == mask for n, mask in self.bits.get(cond, ()))
        return out

    def text_zh(self, condition: str) -> str:
        return self.texts_zh.get(condition, CONDITIONS_ZH[condition])


_CORE = {
    "offline": ((1, 0x08),),
    "cover_open": ((2, 0x04),),
    "paper_out": ((4, 0x60), (2, 0x20)),
    "paper_near_end": ((4, 0x0C),),
}

PROFILES: dict[str, StatusProfile] = {
    "escpos": StatusProfile("escpos", "通用ESC/POS（Epson兼容）", (1, 2, 4), dict(_CORE),
                            source="Epson ESC/POS DLE EOT; Samsung STP-103 manual (n=4 bits)"),
    "epson_tm": StatusProfile("epson_tm", "爱普生 TM-T88 系列", (1, 2, 3, 4), {
        **_CORE, "cutter_error": ((3, 0x08),), "unrecoverable": ((3, 0x20),), "head_error": ((3, 0x40),),
    }, source="Epson TM-T88 DLE EOT 3"),
    "snbc_bk_t080": StatusProfile("snbc_bk_t080", "新北洋 BK-T080/BT-T080 自助终端打印机", (1, 2, 3, 4), {
        **_CORE, "paper_jam": ((3, 0x04),), "cutter_error": ((3, 0x08),), "unrecoverable": ((3, 0x20),),
        "head_error": ((3, 0x40),),
    }, texts_zh={"paper_jam": "防卡纸模块处卡纸，请打开纸仓清除卡纸后合上"},
        source="SNBC BT-T080 Programming Manual, DLE EOT n=2/3/4"),
}


def profile(name: str) -> StatusProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown printer status profile {name!r} (known: {', '.join(PROFILES)})") from None
